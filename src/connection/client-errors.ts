import { CONNECT_TIMEOUT_MS } from './client-options';
import type { DeviceIdentity } from './types';

/** CONNACK return codes that mean "your credentials are wrong" (§2.6: OneNET answers 4 to any auth failure). */
const AUTH_REFUSAL_CODES = new Set([4, 5]);

/** MQTT.js reports a refused CONNACK as an error whose numeric `code` is the return code. */
export function isAuthRefusal(error: Error): boolean {
  return AUTH_REFUSAL_CODES.has((error as { code?: unknown }).code as number);
}

const CONNACK_TEXT: Record<number, string> = {
  1: 'OneNET refused the protocol version (it accepts MQTT 3.1.1 only)',
  2: 'OneNET refused the client id (the device name)',
  3: 'OneNET is unavailable (CONNACK 3); retrying',
  4: 'OneNET refused the login: bad username or password (CONNACK 4)',
  5: 'OneNET refused the login: not authorized (CONNACK 5)',
};

/**
 * A sentence for the status line from an MQTT.js or socket error. Built from codes and the error's
 * own message only; the caller redacts it as well.
 */
export function describeClientError(error: Error, identity: DeviceIdentity): string {
  const code = (error as { code?: unknown }).code;
  const where = `${identity.host}:${identity.port}`;
  if (typeof code === 'number' && CONNACK_TEXT[code]) return CONNACK_TEXT[code];
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host ${identity.host} not found`;
    case 'ETIMEDOUT':
      return `connection to ${where} timed out`;
    case 'ECONNRESET':
      return `connection reset by ${where}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} is unreachable`;
  }
  if (
    typeof code === 'string' &&
    (/CERT|SELF_SIGNED|ISSUER|SIGNATURE|TLS|SSL/.test(code) || /certificate/i.test(error.message))
  ) {
    return `TLS: ${error.message}`;
  }
  if (error.message === 'connack timeout')
    return `OneNET did not answer the login within ${CONNECT_TIMEOUT_MS / 1000} s`;
  return error.message || String(code ?? 'unknown error');
}
