import * as path from 'node:path';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { DeviceConnectionOptions, DeviceIdentity, OfflinePolicy } from '../connection';
import {
  KEEPALIVE_MAX_SECONDS,
  KEEPALIVE_MIN_SECONDS,
  SIGN_METHODS,
  deviceNameError,
  productIdError,
  type SignMethod,
} from '../protocol';
import type { NodeDef } from './node-red-types';
import { FlowError } from './flow-error';

/**
 * The `onenet-device` config node's flow-file properties (DESIGN.md §3) plus `offlinePolicy`.
 * Numbers arrive as strings from the editor's text inputs, so both are accepted.
 */
export interface DeviceConfigDef extends NodeDef {
  productId?: string;
  deviceName?: string;
  host?: string;
  port?: string | number;
  tls?: boolean | string;
  tlsConfig?: string;
  signMethod?: string;
  tokenTtl?: string | number;
  keepalive?: string | number;
  offlinePolicy?: string;
  /** offlinePolicy 'store': the most the store keeps, in MB ('' = 100) and days ('' = 30). */
  storeSizeMb?: string | number;
  storeAgeDays?: string | number;
  /** Uplink messages per second (DESIGN.md §4); '' or absent = 1, 0 = no limit. */
  uplinkRate?: string | number;
  /** The most posts that may wait to be sent on the connection ('' = 1000). */
  queueLimit?: string | number;
  /** Seconds a post may wait in the offline queue ('' = 60). */
  queueMaxAge?: string | number;
  /** Optional id of an onenet-product config node (DESIGN.md §4). */
  product?: string;
  /** Fetch desired values after every login (DESIGN.md §4); needs a product with a thing model. */
  syncDesired?: boolean | string;
  /** Optional id of the gateway's onenet-device: this device is then its sub-device (DESIGN.md §4). */
  gateway?: string;
}

/** What a device takes from its onenet-product config node. */
export interface ProductSettings {
  productId: string;
  /** The product access_key, used when the device has no key of its own. */
  key?: string;
  /**
   * The identifiers of the read-write properties of the product's thing model; undefined when the
   * product holds no model.
   */
  writableProperties?: readonly string[];
}

/** Why syncDesired is on but cannot work (the device connects without it), for the one warning. */
export type DesiredSyncProblem = 'no-product' | 'no-model' | 'no-writable';

export interface DeviceSettings {
  identity: DeviceIdentity;
  options: DeviceConnectionOptions;
  /** syncDesired is on, but there is nothing to sync: why (the connection runs without it). */
  desiredProblem?: DesiredSyncProblem;
}

/** A config error the user fixes in the device config dialog; its message names the field. */
export class DeviceConfigError extends FlowError {
  override readonly name = 'DeviceConfigError';

  constructor(message: string) {
    super(message, 'deviceConfigStatus');
  }
}

export const TLS_DEFAULT_HOST = 'mqttstls.heclouds.com';
export const PLAIN_DEFAULT_HOST = 'mqtts.heclouds.com';
export const TLS_DEFAULT_PORT = 8883;
export const PLAIN_DEFAULT_PORT = 1883;
export const DEFAULT_TOKEN_TTL_SECONDS = 2592000;
export const DEFAULT_KEEPALIVE_SECONDS = 120;
/** Same floor as the editor's validator: a shorter token would expire during the first reconnect back-off. */
export const MIN_TOKEN_TTL_SECONDS = 60;

/** The editor's checkbox gives a boolean; hand-written flows sometimes carry "true"/"false". */
export function usesTls(def: DeviceConfigDef): boolean {
  return def.tls === undefined || def.tls === true || def.tls === 'true';
}

/**
 * Maps the config node to what the connection pool needs. `key` is the credential; `tlsOptions` are
 * the options of a chosen core tls-config node (only used when TLS is on); `product` is what the
 * chosen onenet-product gives: the product id (the device's own field may be empty, and must match
 * when filled) and the product key, signed with when the device has no key of its own (一型一密; the
 * token keeps the device-level res, onenet-protocol.md §2.3). Throws DeviceConfigError with a
 * sentence naming the field to fix; the message never contains the key.
 */
export function toDeviceSettings(
  def: DeviceConfigDef,
  ownKey: string | undefined,
  tlsOptions?: TlsConnectionOptions,
  product?: ProductSettings,
): DeviceSettings {
  const tls = usesTls(def);
  const ownProductId = (def.productId ?? '').trim();
  const deviceName = (def.deviceName ?? '').trim();
  let productId = ownProductId;
  if (product) {
    const productsId = product.productId.trim();
    const productProblem = productIdError(productsId);
    if (productProblem)
      throw new DeviceConfigError(`the product config node chosen for this device: ${productProblem}`);
    if (ownProductId !== '' && ownProductId !== productsId) {
      throw new DeviceConfigError(
        `Product ID "${ownProductId}" differs from "${productsId}" of the product config node chosen for this device: leave the device's Product ID empty, or make them the same`,
      );
    }
    productId = productsId;
  }
  check(productIdError(productId));
  check(deviceNameError(deviceName));
  const key = typeof ownKey === 'string' && ownKey.trim() !== '' ? ownKey : product?.key;
  if (typeof key !== 'string' || key.trim() === '') {
    throw new DeviceConfigError(
      product
        ? 'device key is missing: paste the device key into the device config node, or the product access_key into its product config node'
        : 'device key is missing: paste the device key (or product access key) into the device config node',
    );
  }
  const host = (def.host ?? '').trim() || (tls ? TLS_DEFAULT_HOST : PLAIN_DEFAULT_HOST);
  const port = integerField(def.port, 'port', tls ? TLS_DEFAULT_PORT : PLAIN_DEFAULT_PORT, 1, 65535);
  const keepaliveSeconds = integerField(
    def.keepalive,
    'keepalive',
    DEFAULT_KEEPALIVE_SECONDS,
    KEEPALIVE_MIN_SECONDS,
    KEEPALIVE_MAX_SECONDS,
  );
  const tokenTtlSeconds = integerField(
    def.tokenTtl,
    'token lifetime',
    DEFAULT_TOKEN_TTL_SECONDS,
    MIN_TOKEN_TTL_SECONDS,
    Number.MAX_SAFE_INTEGER,
  );
  const options: DeviceConnectionOptions = {
    key: key.trim(),
    signMethod: signMethodField(def.signMethod),
    tokenTtlSeconds,
    keepaliveSeconds,
    tls: tls ? (tlsOptions ?? true) : false,
    offlinePolicy: offlinePolicyField(def.offlinePolicy),
    uplinkRate: uplinkRateField(def.uplinkRate),
  };
  // Only when set, so a flow saved before the fields existed gets exactly the connection's defaults.
  if (!isBlank(def.queueLimit))
    options.queueLimit = integerField(def.queueLimit, 'queue limit', DEFAULT_QUEUE_LIMIT, 1, MAX_QUEUE_LIMIT);
  if (!isBlank(def.queueMaxAge))
    options.queueMaxAgeMs =
      integerField(def.queueMaxAge, 'offline max age (s)', DEFAULT_QUEUE_MAX_AGE_SECONDS, 1, 86_400) * 1000;
  if (options.offlinePolicy === 'store') {
    // The directory is the node's to choose (under the Node-RED user directory): see storeDirOf.
    options.store = {
      dir: '',
      maxBytes:
        integerField(def.storeSizeMb, 'store size (MB)', DEFAULT_STORE_MB, 1, 1_000_000) * 1024 * 1024,
      maxAgeMs:
        integerField(def.storeAgeDays, 'store max age (days)', DEFAULT_STORE_DAYS, 1, 3650) * 86_400_000,
    };
  }
  const settings: DeviceSettings = { identity: { host, port, productId, deviceName }, options };
  if (def.syncDesired === true || def.syncDesired === 'true') {
    // Not a config error: the device works without it, and the one warning says what is missing.
    const writable = product?.writableProperties;
    if (!product) settings.desiredProblem = 'no-product';
    else if (!writable) settings.desiredProblem = 'no-model';
    else if (writable.length === 0) settings.desiredProblem = 'no-writable';
    else options.syncDesired = writable;
  }
  return settings;
}

/** "productId/deviceName", the way the OneNET console names a device; safe to show. */
export function describeDevice(identity: DeviceIdentity): string {
  return `${identity.productId}/${identity.deviceName}`;
}

function check(error: string | undefined): void {
  if (error !== undefined) throw new DeviceConfigError(error);
}

function isBlank(raw: unknown): boolean {
  return raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '');
}

/**
 * Text in a field as the dialog accepts it (onenet-device.html `wholeNumber`, `isUplinkRate`): plain
 * decimal notation only, so a flow saved by hand with 1e3, 0x10 or 1.0 is refused by the runtime too,
 * rather than read as a number the dialog would have called invalid.
 */
const WHOLE_NUMBER_TEXT = /^\d{1,15}$/;
const RATE_TEXT = /^(\d{1,4}(\.\d*)?|\.\d+)$/;

/** `raw` as a number: itself, or its text when written as `pattern` allows (NaN otherwise). */
function numberIn(raw: unknown, pattern: RegExp): number {
  if (typeof raw === 'number') return raw;
  const text = String(raw).trim();
  return pattern.test(text) ? Number(text) : Number.NaN;
}

function integerField(raw: unknown, field: string, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return fallback;
  const value = numberIn(raw, WHOLE_NUMBER_TEXT);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `${min}..${max}`;
    throw new DeviceConfigError(`${field} must be a whole number, ${range}; got "${String(raw)}"`);
  }
  return value;
}

function signMethodField(raw: string | undefined): SignMethod {
  if (raw === undefined || raw === '') return 'sha256';
  if ((SIGN_METHODS as readonly string[]).includes(raw)) return raw as SignMethod;
  throw new DeviceConfigError(`sign method must be one of ${SIGN_METHODS.join(', ')}; got "${raw}"`);
}

/** OneNET documents 1 uplink a second per device (onenet-protocol.md §1.4). */
export const DEFAULT_UPLINK_RATE = 1;
export const MAX_UPLINK_RATE = 1000;

/** Messages per second: 0 (no limit) up to 1000, fractions allowed (0.5 = one every 2 s). */
function uplinkRateField(raw: unknown): number {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === ''))
    return DEFAULT_UPLINK_RATE;
  const value = numberIn(raw, RATE_TEXT);
  if (!Number.isFinite(value) || value < 0 || value > MAX_UPLINK_RATE) {
    throw new DeviceConfigError(
      `uplink rate must be a number of messages per second from 0 (no limit) to ${MAX_UPLINK_RATE}; got "${String(raw)}"`,
    );
  }
  return value;
}

/** The connection's own defaults (connection/options.ts), shown in the editor's placeholders. */
export const DEFAULT_QUEUE_LIMIT = 1000;
export const MAX_QUEUE_LIMIT = 1_000_000;
export const DEFAULT_QUEUE_MAX_AGE_SECONDS = 60;

export const DEFAULT_STORE_MB = 100;
export const DEFAULT_STORE_DAYS = 30;

/**
 * The store's directory for one identity: `onenet-store/<product>/<device>@<host>_<port>` under the
 * Node-RED user directory, each level made safe for every file system.
 */
export function storeDirOf(userDir: string, identity: DeviceIdentity): string {
  const safe = (text: string): string =>
    text.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
  return path.join(
    userDir,
    'onenet-store',
    safe(identity.productId),
    `${safe(identity.deviceName)}@${safe(identity.host.toLowerCase())}_${identity.port}`,
  );
}

/** Anything but an explicit 'queue' or 'store' fails fast, as flows saved before the field existed did. */
function offlinePolicyField(raw: string | undefined): OfflinePolicy {
  return raw === 'queue' || raw === 'store' ? raw : 'fail';
}
