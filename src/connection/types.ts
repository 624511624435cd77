import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { SignMethod } from '../protocol';

/**
 * The public shapes of the connection layer. The Node-RED nodes are coded against these names, so
 * they change only together with src/node-red.
 */

/** One OneNET device login: at most one MQTT connection exists per identity (OneNET kicks the older one). */
export interface DeviceIdentity {
  host: string;
  port: number;
  productId: string;
  deviceName: string;
}

/**
 * What a request does while the connection is down.
 * - `fail`: rejected at once with reason 'offline' (while a connection attempt is in progress the
 *   request waits for that attempt's outcome, so a message sent right after deploy is not refused).
 * - `queue`: kept in order, bounded by `queueLimit` and `queueMaxAgeMs`, and sent after reconnect.
 * - `store`: a post that cannot be sent now (not connected, or the backlog is full) is written to a
 *   durable journal on disk (`store`) and resolves `stored: true`; once connected, stored values are
 *   delivered oldest first with their own times as history/post, below every live publish.
 */
export type OfflinePolicy = 'fail' | 'queue' | 'store';

/** Where and how much the `store` policy keeps (DeviceConnectionOptions.store). */
export interface StoreOptions {
  /** The directory of this identity's journal (created when missing). */
  dir: string;
  /** Default 100 MB: past it the oldest values go first, counted. */
  maxBytes?: number;
  /** Default 30 days: older values are dropped, counted. */
  maxAgeMs?: number;
}

export interface ReconnectOptions {
  /** First delay after a drop; doubles per failed attempt. Default 1000. */
  initialDelayMs?: number;
  /** Upper bound of the normal backoff, so a broker back after an outage is reached within seconds. Default 10000. */
  maxDelayMs?: number;
  /** Delay after CONNACK 4/5 (bad credentials); doubles per repeat up to 10x. Default 60000. */
  authFailedDelayMs?: number;
  /** Delay after repeated kicks (another client uses this device); doubles up to 40x. Default 30000. */
  kickedDelayMs?: number;
  /** A drop this soon after a good login, not caused by us, is a short session; three in a row count as a kick. Default 3000. */
  kickWindowMs?: number;
}

export interface DeviceConnectionOptions {
  /** Base64 device key or product access key. Secret: never logged, emitted or put in an error. */
  key: string;
  /** Default 'sha256'. */
  signMethod?: SignMethod;
  /** Default 2592000 (30 days). A fresh token is signed on every connect and reconnect. */
  tokenTtlSeconds?: number;
  /** Default 120; OneNET accepts 10..1800 (§1.3). */
  keepaliveSeconds?: number;
  /**
   * false: plain mqtt://; true (default): mqtts:// trusting only the bundled OneNET CA;
   * an object: mqtts:// with exactly these TLS options (e.g. from a tls-config node).
   */
  tls?: boolean | TlsConnectionOptions;
  /** Default 'fail'. */
  offlinePolicy?: OfflinePolicy;
  /** Required with offlinePolicy 'store'. */
  store?: StoreOptions;
  /** Default 1000 requests. */
  queueLimit?: number;
  /** Default 60000. */
  queueMaxAgeMs?: number;
  /** Default 5000: how long request() waits for the platform reply once the request is sent. */
  requestTimeoutMs?: number;
  /**
   * Default 1: the most uplink messages a second (posts and replies alike), with a burst of 3;
   * posts beyond it wait and are merged (see UplinkScheduler). 0 = no limit.
   */
  uplinkRate?: number;
  /**
   * After every login, ask for the desired values (期望值) of these properties (desired/get, through
   * the uplink budget) and hand those that exist to the onDesired handlers. Default: none, nothing
   * is asked. A node takes them from the read-write properties of its product's thing model.
   */
  syncDesired?: readonly string[];
  /**
   * Default 100: the most identifiers one desired get asks for; more are asked in several messages.
   * OneNET documents no limit (onenet-next.md §Q4.2 UNCONFIRMED).
   */
  desiredPerMessage?: number;
  reconnect?: ReconnectOptions;
}

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'auth-failed' | 'closed';

/** A sub-device's own state on its gateway (DESIGN.md §4 statuses; sub-devices.ts). */
export type SubDeviceState = 'binding' | 'logged-in' | 'not-bound' | 'refused';

export interface SubDeviceStatus {
  state: SubDeviceState;
  /** The platform's code when it refused the binding or the login. */
  code?: number;
  /** Posts of this sub-device held until it is bound and logged in (absent when none). */
  waiting?: number;
}

export interface ConnectionStatus {
  state: ConnectionState;
  /** Requests waiting to be sent. */
  queueDepth: number;
  /** Human readable; never contains the key or the token. */
  lastError?: string;
  /** At the queue limit (queueLimit requests wait to be sent): new requests are refused as 'busy'. */
  busy?: boolean;
  /** True when the last drop looked like "another client uses this device". */
  kicked?: boolean;
  /** Only on a sub-device's status: its own state beside its gateway's connection state. */
  subDevice?: SubDeviceStatus;
  /** Only on a gateway that carries sub-devices: how many. */
  subDevices?: number;
  /** On a gateway: posts of its sub-devices held for their binding and login (absent when none). */
  subDevicesWaiting?: number;
  /** offlinePolicy 'store': values waiting in the durable store (absent when none). */
  stored?: number;
  /** Connected and delivering stored values (history/post): how many still wait. */
  backfilling?: number;
  /** The store cannot be written (posts that need it fail): why. */
  storeError?: string;
}

export type UplinkKind = 'property-post' | 'event-post';
export type DownlinkKind = 'property-set' | 'property-get' | 'service-invoke';

export interface RequestOptions {
  /** Default true: resolve with the platform reply. false: resolve once the publish is handed over. */
  waitReply?: boolean;
  /**
   * Default: the connection's requestTimeoutMs. Counted from acceptance (the request() call) to the
   * reply, waiting to be sent included; under offlinePolicy 'queue' the wait for the connection is
   * bounded by queueMaxAgeMs instead and the timeout runs again in full once the connection is back.
   */
  timeoutMs?: number;
  /** Default 1. OneNET accepts QoS 0 and 1 only (§1.3). */
  qos?: 0 | 1;
}

/**
 * A settled request. With waitReply=false, `code` is 0 and `message` is 'not awaited' (the publish
 * was handed over: written for QoS 0, PUBACKed for QoS 1). `latencyMs` counts from the request()
 * call, so time spent in the offline queue is included.
 */
export interface RequestOutcome {
  id: string;
  topic: string;
  code: number;
  message: string;
  latencyMs: number;
  /** How many flow requests the message that carried this one's newest values carried (1: not merged). */
  merged: number;
  /** offlinePolicy 'store': written to the durable store, to be delivered later (code is 0). */
  stored?: true;
}

export type RequestFailureReason =
  | 'invalid'
  | 'reply'
  | 'timeout'
  | 'offline'
  | 'queue-overflow'
  | 'queue-expired'
  /** More than queueLimit requests wait to be sent, or this one waited its whole timeout behind others. */
  | 'busy'
  | 'disconnected'
  /** offlinePolicy 'store': the post could not be written to the store (unwritable, disk full). */
  | 'store'
  | 'closed';

export interface DownlinkRequest {
  kind: DownlinkKind;
  id: string;
  /** The service identifier, for service-invoke. */
  identifier?: string;
  /** property-set: object of values; property-get: array of identifiers; service-invoke: input object. */
  params: unknown;
  /** ms since the epoch. */
  receivedAt: number;
}

/**
 * Desired values found by one desired get after a login: `values` by identifier and the version
 * of each (a number), for the version-checked delete that clears them once applied.
 */
export interface DesiredDelivery {
  values: Record<string, unknown>;
  versions: Record<string, number>;
  /** ms since the epoch. */
  receivedAt: number;
}

/** late = after OneNET's 5 s deadline (still sent); duplicate = this id was answered before (nothing sent). */
export type ReplyOutcome = 'sent' | 'late' | 'duplicate';

export interface DownlinkErrorEvent {
  topic: string;
  reason: string;
  id?: string;
}

export interface DuplicateIdentityEvent {
  identity: DeviceIdentity;
  owners: string[];
}

/** A config node of a device in use whose behavioural options differ from those in use (by name only). */
export interface SettingsDifferEvent {
  identity: DeviceIdentity;
  /** The config node whose options are not used. */
  owner: string;
  /** The config node whose options the connection runs with ('' when unknown). */
  inUseFrom: string;
  differences: string[];
}

/** Emitted once when a connection starts to look kicked (another client uses the device). */
export interface KickPatternEvent {
  /** For the log; names no key or token. */
  reason: string;
}
