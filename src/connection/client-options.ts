import { isIP } from 'node:net';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { IClientOptions } from 'mqtt';
import { deviceResource, signToken } from '../protocol';
import { ONENET_CA } from './onenet-ca';
import type { ResolvedOptions } from './options';
import type { DeviceIdentity } from './types';

/** How long one attempt may take from TCP connect to CONNACK before it counts as failed. */
export const CONNECT_TIMEOUT_MS = 15_000;

export interface SignedLogin {
  token: string;
  /** When the token's `et` passes, in ms since the epoch. */
  expiresAt: number;
}

/**
 * Signs a fresh token for one login (§2.2). `et` is rounded up to the next whole second, so the
 * token lives at least tokenTtlSeconds, and is at least `minEt`: a caller passing its previous
 * `et + 1` gets a token that differs from every earlier one even when it logs in twice within a
 * second (a token OneNET has seen revoked, e.g. at expiry, is never offered again).
 */
export function signLogin(
  identity: DeviceIdentity,
  options: ResolvedOptions,
  now = Date.now(),
  minEt = 0,
): SignedLogin {
  const et = Math.max(Math.ceil(now / 1000) + options.tokenTtlSeconds, minEt);
  const token = signToken({
    key: options.key,
    res: deviceResource(identity.productId, identity.deviceName),
    et,
    method: options.signMethod,
  });
  return { token, expiresAt: et * 1000 };
}

/**
 * MQTT.js options for one attempt. The rules come from §1.3 and §2.1: MQTT 3.1.1, clean session, no
 * will, client id = device name, username = product id, password = token. MQTT.js's own reconnect
 * is off (reconnectPeriod 0) because it would log in again with the old, possibly expired token.
 */
export function buildClientOptions(
  identity: DeviceIdentity,
  options: ResolvedOptions,
  token: string,
): IClientOptions {
  const base: IClientOptions = {
    host: identity.host,
    port: identity.port,
    protocol: options.tls === false ? 'mqtt' : 'mqtts',
    protocolVersion: 4,
    clean: true,
    clientId: identity.deviceName,
    username: identity.productId,
    password: token,
    keepalive: options.keepaliveSeconds,
    reconnectPeriod: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
    resubscribe: false,
    // Nothing is handed to MQTT.js while offline; this keeps it from buffering behind our back.
    queueQoSZero: false,
  };
  if (options.tls === false) return base;
  const tls = options.tls === true ? bundledCaTls(identity.host) : options.tls;
  // MQTT.js types `cert`/`key` narrower than node:tls (no mixed string/Buffer arrays); it passes them
  // to tls.connect unchanged, so node:tls's type is the real contract.
  return { ...base, ...tls } as IClientOptions;
}

/**
 * TLS with the bundled OneNET CA (§1.2). Decision: the chain is verified against that CA alone (not
 * the system store), but the host name is not checked. The official Java SDK turns host name
 * verification off, which suggests the acceptor's certificate does not name the DNS host
 * (UNCONFIRMED). A certificate issued by CMIOT's private CA already proves the peer is OneNET's
 * acceptor, so skipping the name check costs little, while enforcing it could lock every user out.
 * Users who want the strict check pass their own TLS options (e.g. a tls-config node).
 */
function bundledCaTls(host: string): TlsConnectionOptions {
  const tls: TlsConnectionOptions = {
    ca: [ONENET_CA],
    rejectUnauthorized: true,
    checkServerIdentity: () => undefined,
  };
  // SNI must be a DNS name; Node warns when it is given an IP address.
  if (isIP(host) === 0) tls.servername = host;
  return tls;
}
