import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import {
  DEFAULT_DESIRED_PER_MESSAGE,
  deviceNameError,
  identifierError,
  KEEPALIVE_MAX_SECONDS,
  KEEPALIVE_MIN_SECONDS,
  productIdError,
  SIGN_METHODS,
  type SignMethod,
} from '../protocol';
import type { DeviceConnectionOptions, DeviceIdentity, OfflinePolicy, StoreOptions } from './types';

/** Options with every default filled in, checked once so the hot paths never re-check them. */
export interface ResolvedOptions {
  key: string;
  signMethod: SignMethod;
  tokenTtlSeconds: number;
  keepaliveSeconds: number;
  tls: boolean | TlsConnectionOptions;
  offlinePolicy: OfflinePolicy;
  /** Set exactly when offlinePolicy is 'store'. */
  store?: Required<StoreOptions>;
  queueLimit: number;
  queueMaxAgeMs: number;
  requestTimeoutMs: number;
  /** Uplink messages per second; 0 = no limit. */
  uplinkRate: number;
  /** Properties whose desired values are asked for after every login (none: nothing is asked). */
  syncDesired: readonly string[];
  desiredPerMessage: number;
  reconnect: {
    initialDelayMs: number;
    maxDelayMs: number;
    authFailedDelayMs: number;
    kickedDelayMs: number;
    kickWindowMs: number;
  };
}

export const DEFAULTS = {
  signMethod: 'sha256' as SignMethod,
  tokenTtlSeconds: 2_592_000,
  keepaliveSeconds: 120,
  offlinePolicy: 'fail' as OfflinePolicy,
  queueLimit: 1000,
  queueMaxAgeMs: 60_000,
  requestTimeoutMs: 5000,
  /** onenet-protocol.md §1.4: "设备上行 1 per s". */
  uplinkRate: 1,
  desiredPerMessage: DEFAULT_DESIRED_PER_MESSAGE,
  initialDelayMs: 1000,
  maxDelayMs: 10_000,
  authFailedDelayMs: 60_000,
  kickedDelayMs: 30_000,
  kickWindowMs: 3000,
  storeMaxBytes: 100 * 1024 * 1024,
  storeMaxAgeMs: 30 * 24 * 3600 * 1000,
};

/** "host:port/productId/deviceName"; host names are case-insensitive, so the key lower-cases them. */
export function identityKey(identity: DeviceIdentity): string {
  return `${identity.host.toLowerCase()}:${identity.port}/${identity.productId}/${identity.deviceName}`;
}

export function checkIdentity(identity: DeviceIdentity): void {
  if (identity === null || typeof identity !== 'object') throw new Error('device identity is required');
  const { host, port, productId, deviceName } = identity;
  if (typeof host !== 'string' || host.trim().length === 0 || /[\s/]/.test(host)) {
    throw new Error('OneNET host must be a host name or IP address');
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`OneNET port must be 1..65535, not ${String(port)}`);
  const problem = productIdError(productId) ?? deviceNameError(deviceName);
  if (problem) throw new Error(problem);
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function resolveOptions(options: DeviceConnectionOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new Error('connection options are required');
  // The key's value must never appear in an error, so these messages only describe its shape.
  const { key } = options;
  if (typeof key !== 'string' || key.length === 0) throw new Error('the device key is required');
  if (!BASE64.test(key) || Buffer.from(key, 'base64').length === 0) {
    throw new Error('the device key must be the base64 key shown in the OneNET console');
  }
  const signMethod = options.signMethod ?? DEFAULTS.signMethod;
  if (!SIGN_METHODS.includes(signMethod))
    throw new Error(`sign method must be one of ${SIGN_METHODS.join(', ')}`);
  const keepaliveSeconds = options.keepaliveSeconds ?? DEFAULTS.keepaliveSeconds;
  if (
    !Number.isInteger(keepaliveSeconds) ||
    keepaliveSeconds < KEEPALIVE_MIN_SECONDS ||
    keepaliveSeconds > KEEPALIVE_MAX_SECONDS
  ) {
    // §1.3: OneNET disconnects a CONNECT whose keepalive is outside 10..1800 s.
    throw new Error(
      `keepalive must be ${KEEPALIVE_MIN_SECONDS}..${KEEPALIVE_MAX_SECONDS} seconds, not ${String(keepaliveSeconds)}`,
    );
  }
  const offlinePolicy = options.offlinePolicy ?? DEFAULTS.offlinePolicy;
  if (offlinePolicy !== 'fail' && offlinePolicy !== 'queue' && offlinePolicy !== 'store')
    throw new Error(`offline policy must be 'fail', 'queue' or 'store'`);
  const tls = options.tls ?? true;
  if (typeof tls !== 'boolean' && (tls === null || typeof tls !== 'object'))
    throw new Error('tls must be true, false or TLS options');
  const reconnect = options.reconnect ?? {};
  return {
    key,
    signMethod,
    tokenTtlSeconds: positiveInteger(
      options.tokenTtlSeconds,
      DEFAULTS.tokenTtlSeconds,
      'token lifetime (seconds)',
    ),
    keepaliveSeconds,
    tls,
    offlinePolicy,
    ...(offlinePolicy === 'store' ? { store: storeOptionsOf(options.store) } : {}),
    queueLimit: positiveInteger(options.queueLimit, DEFAULTS.queueLimit, 'queue limit'),
    queueMaxAgeMs: positiveInteger(options.queueMaxAgeMs, DEFAULTS.queueMaxAgeMs, 'queue max age (ms)'),
    requestTimeoutMs: positiveInteger(
      options.requestTimeoutMs,
      DEFAULTS.requestTimeoutMs,
      'request timeout (ms)',
    ),
    uplinkRate: uplinkRateOf(options.uplinkRate),
    syncDesired: desiredIdentifiersOf(options.syncDesired),
    desiredPerMessage: positiveInteger(
      options.desiredPerMessage,
      DEFAULTS.desiredPerMessage,
      'identifiers per desired get',
    ),
    reconnect: {
      initialDelayMs: positiveInteger(
        reconnect.initialDelayMs,
        DEFAULTS.initialDelayMs,
        'reconnect initial delay (ms)',
      ),
      maxDelayMs: positiveInteger(reconnect.maxDelayMs, DEFAULTS.maxDelayMs, 'reconnect max delay (ms)'),
      authFailedDelayMs: positiveInteger(
        reconnect.authFailedDelayMs,
        DEFAULTS.authFailedDelayMs,
        'auth-failed delay (ms)',
      ),
      kickedDelayMs: positiveInteger(reconnect.kickedDelayMs, DEFAULTS.kickedDelayMs, 'kicked delay (ms)'),
      kickWindowMs: positiveInteger(reconnect.kickWindowMs, DEFAULTS.kickWindowMs, 'kick window (ms)'),
    },
  };
}

function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(`${what} must be a positive integer, not ${String(value)}`);
  return value;
}

/**
 * The settings two users of one identity must agree on (they decide how the one login is made).
 * Returns the names of those that differ, never their values.
 */
export function conflictingSettings(a: ResolvedOptions, b: ResolvedOptions): string[] {
  const differences: string[] = [];
  if (a.key !== b.key) differences.push('key');
  if (a.signMethod !== b.signMethod) differences.push('sign method');
  if (!sameTls(a.tls, b.tls)) differences.push('TLS');
  if (a.tokenTtlSeconds !== b.tokenTtlSeconds) differences.push('token lifetime');
  if (a.keepaliveSeconds !== b.keepaliveSeconds) differences.push('keepalive');
  return differences;
}

/**
 * The behavioural options (not part of the login) in which `b` differs from `a`, by name. Only the
 * first user's apply, so a second config node of the device with other values is told so.
 */
export function differingBehaviour(a: ResolvedOptions, b: ResolvedOptions): string[] {
  const differences: string[] = [];
  if (a.offlinePolicy !== b.offlinePolicy) differences.push('offline policy');
  if (a.store?.maxBytes !== b.store?.maxBytes || a.store?.maxAgeMs !== b.store?.maxAgeMs)
    differences.push('store bounds');
  if (a.queueLimit !== b.queueLimit) differences.push('queue limit');
  if (a.queueMaxAgeMs !== b.queueMaxAgeMs) differences.push('queue max age');
  if (a.requestTimeoutMs !== b.requestTimeoutMs) differences.push('request timeout');
  if (a.uplinkRate !== b.uplinkRate) differences.push('uplink rate');
  if (
    a.syncDesired.length !== b.syncDesired.length ||
    a.syncDesired.some((identifier, i) => identifier !== b.syncDesired[i]) ||
    a.desiredPerMessage !== b.desiredPerMessage
  )
    differences.push('desired sync');
  const ra = a.reconnect;
  const rb = b.reconnect;
  if (
    ra.initialDelayMs !== rb.initialDelayMs ||
    ra.maxDelayMs !== rb.maxDelayMs ||
    ra.authFailedDelayMs !== rb.authFailedDelayMs ||
    ra.kickedDelayMs !== rb.kickedDelayMs ||
    ra.kickWindowMs !== rb.kickWindowMs
  )
    differences.push('reconnect delays');
  return differences;
}

function sameTls(a: boolean | TlsConnectionOptions, b: boolean | TlsConnectionOptions): boolean {
  if (typeof a === 'boolean' || typeof b === 'boolean') return a === b;
  return sameValue(a, b);
}

/** Structural equality for TLS option objects: strings, numbers, Buffers, arrays, plain objects; functions by identity. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) {
    return Buffer.isBuffer(a) && Buffer.isBuffer(b) ? a.equals(b) : String(a) === String(b);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => sameValue(item, b[i]))
    );
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const keysA = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const keysB = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Messages per second, 0 (no limit) or more; fractions allowed (0.5 = one every 2 s). */
function uplinkRateOf(value: number | undefined): number {
  if (value === undefined) return DEFAULTS.uplinkRate;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1000)
    throw new Error(
      `uplink rate must be a number of messages per second from 0 to 1000, not ${String(value)}`,
    );
  return value;
}

/** Distinct identifiers, in order; each must be a valid identifier. */
function desiredIdentifiersOf(value: readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error('syncDesired must be an array of property identifiers');
  for (const identifier of value) {
    const problem = identifierError(identifier);
    if (problem) throw new Error(`syncDesired: ${problem}`);
  }
  return Object.freeze([...new Set(value as string[])]);
}

/** The store's directory and bounds, required with offlinePolicy 'store'. */
function storeOptionsOf(value: StoreOptions | undefined): Required<StoreOptions> {
  if (value === null || typeof value !== 'object' || typeof value.dir !== 'string' || value.dir === '')
    throw new Error("offline policy 'store' needs a store directory");
  return {
    dir: value.dir,
    maxBytes: positiveInteger(value.maxBytes, DEFAULTS.storeMaxBytes, 'store size (bytes)'),
    maxAgeMs: positiveInteger(value.maxAgeMs, DEFAULTS.storeMaxAgeMs, 'store max age (ms)'),
  };
}
