import { KEEPALIVE_MAX_SECONDS, KEEPALIVE_MIN_SECONDS } from '../protocol';

/**
 * CONNECT checks that are protocol violations rather than authentication failures
 * (shared/onenet-protocol.md §1.3, §7 item 2). The emulator answers them differently:
 * - protocol level other than 4: CONNACK 1 "unacceptable protocol version", then close. OneNET
 *   speaks MQTT 3.1.1 only (§1.3); MQTT.fx users see "invalid protocol version" there (§1.3 FAQ),
 *   which is how an MQTT client renders CONNACK 1.
 * - will flag, will retain, clean session 0, keepalive outside 10..1800: the connection is closed
 *   without a CONNACK. The design doc requires the connect flags byte to be exactly 0xC2 and says a
 *   keepalive outside the range means "断开连接" (disconnect), and a malformed CONNECT may get a bare
 *   disconnect (§1.3, §2.6).
 * Anything about identity (empty client id, username or password; the token) is an authentication
 * failure and gets CONNACK 4 (§2.6), decided elsewhere.
 */

export interface ConnectFields {
  protocolVersion?: number;
  clean?: boolean;
  will?: unknown;
  keepalive?: number;
}

export type ConnectViolation = { answer: 'connack-1' | 'close'; reason: string };

export function connectViolation(packet: ConnectFields): ConnectViolation | undefined {
  if (packet.protocolVersion !== 4) {
    return {
      answer: 'connack-1',
      reason: `MQTT protocol level ${String(packet.protocolVersion)}; OneNET accepts MQTT 3.1.1 (level 4) only`,
    };
  }
  if (packet.will)
    return { answer: 'close', reason: 'CONNECT carries a will message; OneNET refuses will and will retain' };
  if (packet.clean !== true)
    return { answer: 'close', reason: 'clean session is 0; OneNET requires clean session 1' };
  const keepalive = packet.keepalive ?? 0;
  if (keepalive < KEEPALIVE_MIN_SECONDS || keepalive > KEEPALIVE_MAX_SECONDS) {
    return {
      answer: 'close',
      reason: `keepalive ${keepalive} s is outside ${KEEPALIVE_MIN_SECONDS}..${KEEPALIVE_MAX_SECONDS} s`,
    };
  }
  return undefined;
}

/** CONNACK with return code 1, MQTT 3.1.1 wire format: the answer OneNET gives a wrong protocol level. */
export const CONNACK_UNACCEPTABLE_PROTOCOL = Buffer.from([0x20, 0x02, 0x00, 0x01]);
