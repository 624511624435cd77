/**
 * Packets a device must never send once logged in, and why each one disconnects it.
 *
 * shared/onenet-protocol.md §1.3: "平台支持connect、subscribe、publish、ping、unsubscribe、disconnect等报文；
 * 不支持pubrec、pubrel、pubcomp报文" ([DOC-IOT] mqtt-introduce.md), and from the acceptor's design document
 * ([DOC-MQTTS] mqtts-design.md): "PUBACKs out of order, or for unknown packet ids, mean disconnect.
 * PUBREC/PUBREL/PUBCOMP, and client-sent CONNACK/SUBACK/UNSUBACK/PINGRESP, mean disconnect."
 *
 * aedes alone would answer PUBREC with PUBREL and PUBREL with PUBCOMP (QoS 2 handshakes OneNET does
 * not have), ignore a stray PUBACK, and close on the server-only packets without saying why.
 */

/** Packet types only a server sends; a device sending one is talking nonsense to OneNET. */
const SERVER_ONLY_PACKETS: ReadonlySet<string> = new Set(['connack', 'suback', 'unsuback', 'pingresp']);

/** Packets of the QoS 2 handshake, which OneNET does not support in either direction. */
const QOS2_HANDSHAKE_PACKETS: ReadonlySet<string> = new Set(['pubrec', 'pubrel', 'pubcomp']);

/** Why a packet of type `cmd` from a logged-in device disconnects it, or undefined when it may be sent. */
export function forbiddenPacketReason(cmd: string, messageId: number | undefined): string | undefined {
  const name = cmd.toUpperCase();
  const ofId = messageId === undefined ? '' : ` (packet id ${messageId})`;
  if (cmd === 'puback') {
    // Every downlink of the emulator is QoS 0 (§1.3: "设备由订阅成功而收到的系统 topic 的消息均为 QoS0"), so
    // it never waits for a PUBACK: whatever id a device acknowledges is one the emulator never sent.
    return `PUBACK${ofId} for a packet id the emulator never sent (downlinks are QoS 0; §1.3: unknown ids disconnect)`;
  }
  if (QOS2_HANDSHAKE_PACKETS.has(cmd))
    return `${name}${ofId}: OneNET does not support QoS 2 handshakes (§1.3)`;
  if (SERVER_ONLY_PACKETS.has(cmd)) return `${name}, a packet only the server sends (§1.3)`;
  return undefined;
}
