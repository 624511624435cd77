import type { ThingReply, TopicKind } from '../protocol';
import type { ThingModel } from '../protocol/thing-model';
import type { TslModel } from '../protocol/tsl-types';
import type { ModelReplyCodes } from './product-model';
import type { DeviceNodeType, GatewayRules, SubDeviceEvent } from './gateway-types';

/** The public shapes of the emulator; see docs/emulator.md. */

export type { ThingReply, TopicKind, ThingModel, TslModel, ModelReplyCodes };
export type * from './gateway-types';

/**
 * A product's thing model: the OneNET console's export JSON (产品详情 → 查看/导出物模型, either
 * generation of onenet-next.md §1.2, parsed or as JSON text), a model imported by
 * importThingModel, or the emulator's own earlier format (ThingModel). All go through the importer.
 */
export type ThingModelSource = ThingModel | TslModel | Record<string, unknown> | string;

export interface EmulatorDevice {
  productId: string;
  deviceName: string;
  /** The base64 device key (设备密钥). Never printed. */
  key: string;
  /** 'gateway': may bind sub-devices and post for them (§Q2, see GatewayRules). Default 'direct'. */
  nodeType?: DeviceNodeType;
  /** A sub-device bound to this gateway from the start, as if bound in the console (§Q2 2.1). */
  gateway?: DeviceRef;
}

export interface EmulatorProduct {
  productId: string;
  /** The base64 product access key; a login token signed with it is accepted too (§2.3). */
  accessKey?: string;
  /**
   * When given, identifiers and values are checked against it (§3.1; refusals answered with
   * EmulatorOptions.modelReplyCodes, by default §3.2 codes 309/302, 313 for a read-only set).
   * A model the importer cannot fully understand is refused when the product is added.
   */
  thingModel?: ThingModelSource;
}

export interface EmulatorOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Adds a TLS listener (port default 0). */
  tls?: { key: string | Buffer; cert: string | Buffer; port?: number };
  devices?: EmulatorDevice[];
  products?: EmulatorProduct[];
  /** Subscriptions one session may hold; more are refused with SUBACK 0x80 (§1.4). Default 10. */
  maxSubscriptionsPerSession?: number;
  /** How long platform requests wait for the device's reply (§1.6). Default 5000. */
  replyDeadlineMs?: number;
  /**
   * OneNET's per-device uplink limit (§1.4; onenet-next.md §Q5). Off by default. See
   * UplinkRateLimitOptions for the allowance and what happens to a publish beyond it.
   */
  uplinkRateLimit?: UplinkRateLimitOptions;
  /** Default true: a session is disconnected when its token's `et` passes. */
  disconnectOnTokenExpiry?: boolean;
  /** Plain readable lines (connects, refusals, posts, replies); never a key or a token. */
  log?: (line: string) => void;
  /** How many uplink records uplinks() keeps (oldest dropped first). Default 10000. */
  uplinkLogLimit?: number;
  /** How many events eventLog() keeps per device. Default 1000. */
  eventLogLimit?: number;
  /** How many values propertyHistory() keeps per device (oldest dropped first). Default 10000. */
  propertyHistoryLimit?: number;
  /**
   * The codes posts, events and platform requests refused by a product's thing model get: unknown
   * identifier (default 309), data type (302), set of a read-only property (313). Configurable
   * because the platform's own codes for these are UNCONFIRMED (onenet-next.md §1.5).
   */
  modelReplyCodes?: ModelReplyCodes;
  /** Limits and reply codes of `thing/pack/post` and `thing/history/post` (§3.1 #8, #9; see BatchPostRules). */
  batchPosts?: BatchPostRules;
  /** Gateway topology and sub-device rules (§Q2; see GatewayRules for the UNCONFIRMED choices). */
  gateways?: GatewayRules;
}

/** What happens to a publish beyond the allowance (docs/emulator.md "Rate limit"). */
export type UplinkLimitMode = 'off' | 'delay' | 'disconnect' | 'ban';

/**
 * The allowance, per device and counted in wall-clock seconds: up to `perSecond + burst` tokens,
 * full at first, `perSecond` more at the start of every wall-clock second (never more than
 * `perSecond + burst`), one per publish. In other words, any k consecutive wall-clock seconds admit
 * `burst + perSecond × k` publishes; `burst` 0 (the default) means at most `perSecond` in each second.
 */
export interface UplinkRateLimitOptions {
  /** A positive integer. */
  perSecond: number;
  /**
   * `delay` (default, Studio's "超限后延迟到下一秒处理"): the excess is held until a later second has
   * room, and the connection's later packets wait behind it. `disconnect` (the adaptor and MQTTS
   * tables): the publish beyond the allowance closes the connection, unanswered. `ban`
   * ("拉黑设备5分钟"): disconnect, then refuse the device's logins for `banMs` with CONNACK 4.
   * `off`: no limit, as without the option.
   */
  mode?: UplinkLimitMode;
  /** How long `ban` refuses logins. Default 300000 (5 minutes). */
  banMs?: number;
  /** Extra publishes the allowance holds on top of one second's `perSecond`. Default 0. */
  burst?: number;
}

/** A publish beyond the uplink allowance, and what the emulator did about it. */
export interface RateViolationRecord {
  productId: string;
  deviceName: string;
  topic: string;
  /** When it arrived (ms). */
  at: number;
  mode: 'delay' | 'disconnect' | 'ban';
  action: 'delayed' | 'disconnected' | 'banned';
  /** `delayed`: how long it was held. */
  delayMs?: number;
  /** `banned`: until when logins are refused (ms). */
  bannedUntil?: number;
}

/**
 * How the emulator treats batch posts. The limits default to OneNET's documented ones; the reply
 * codes to the device-log codes closest to each refusal, since OneNET documents none (§3.2).
 */
export interface BatchPostRules {
  /** Device entries per message. Default 10. */
  devicesPerMessage?: number;
  /** Identifiers per device entry. Default 100. */
  pointsPerDevice?: number;
  /** Values per identifier in history/post. Default 100. */
  valuesPerPoint?: number;
  /** Whether events count towards pointsPerDevice (UNCONFIRMED). Default true. */
  eventsArePoints?: boolean;
  /** Reply code for a message over one of the limits. Default 301, as for other params OneNET cannot take. */
  limitCode?: number;
  /** Reply code for an entry naming another device than the topic's. Default 307 "invalid pid or devName". */
  foreignIdentityCode?: number;
}

export interface DeviceRef {
  productId: string;
  deviceName: string;
}

/** Kinds the emulator publishes to a device as a platform request. */
export type PlatformRequestKind = 'property-set' | 'property-get' | 'service-invoke';

export interface UplinkRecord {
  productId: string;
  deviceName: string;
  kind: TopicKind;
  topic: string;
  /** The request id when the payload carried a usable one; for `custom-down-reply`, the topic's id. */
  id?: string;
  /**
   * The parsed JSON, or the raw text when it was not JSON; for the custom-data kinds (`custom-up`,
   * `custom-down-reply`) the bytes themselves, since only the product's parsing script reads them.
   */
  payload: unknown;
  /** The payload exactly as the device sent it, byte for byte (a copy, never re-serialised). */
  payloadBytes: Buffer;
  qos: 0 | 1;
  receivedAt: number;
}

/** A device's answer to sendCustomCommand(), from `custome/down_reply/{id}` (§3 row 21). */
export interface CustomCommandReply {
  /** The command's message id, as the reply topic names it. */
  id: string;
  /** The reply exactly as the device sent it: custom data is the product's own format. */
  payload: Buffer;
}

/**
 * What setDesired() did: the version each value now has and, when the device was online, the reply
 * to the property set pushed to it (or why that push failed; the values stay stored either way).
 */
export interface DesiredSetResult {
  versions: Record<string, number>;
  online: boolean;
  reply?: ThingReply;
  pushError?: { message: string; code: number };
}

/** A desired value the platform keeps for a device, with its version. */
export interface DesiredRecord {
  value: unknown;
  version: number;
}

export interface PropertyRecord {
  value: unknown;
  /** The device's `time` when it sent one, else the arrival time (ms). */
  time: number;
}

export interface EventRecord {
  identifier: string;
  value: unknown;
  time: number;
  id: string;
}

/** Which topic carried a stored property value. */
export type PropertyVia = 'property-post' | 'pack-post' | 'history-post';

/** One property value as the platform stored it, from whichever topic carried it. */
export interface PropertyHistoryRecord {
  identifier: string;
  value: unknown;
  /** The device's `time` when it sent one, else the arrival time (ms). */
  time: number;
  via: PropertyVia;
  /** The id of the request that carried it. */
  id: string;
  receivedAt: number;
}

export interface ConnectionInfo {
  productId: string;
  deviceName: string;
  connectedAt: number;
}

export interface EmulatorStats {
  /** Successful logins. */
  connects: number;
  /** Logins answered with CONNACK 4 (bad username or password). */
  authFailures: number;
  /** Sessions closed because the same device logged in again. */
  kicks: number;
  /** Accepted device publishes. */
  publishes: number;
  /** Every refused CONNECT, auth failures and protocol violations together. */
  refusals: number;
  /** Publishes beyond the uplink allowance (held, or answered with a disconnect). */
  rateViolations: number;
}

// Event payloads ('client-connected', ... in OneNetEmulator's doc comment).

export interface ClientConnectedEvent {
  productId: string;
  deviceName: string;
  /** For tests comparing tokens across reconnects; never print it. */
  token: string;
}
export interface ClientRefusedEvent {
  clientId: string;
  username: string;
  reason: string;
}
export interface ClientDisconnectedEvent {
  productId: string;
  deviceName: string;
  reason: string;
}
export interface KickedEvent {
  productId: string;
  deviceName: string;
}
export interface ReplyEvent {
  productId: string;
  deviceName: string;
  kind: TopicKind;
  id: string;
  code: number;
}
export interface SubscribedEvent {
  productId: string;
  deviceName: string;
  filters: string[];
}
/** A message the platform sent to a device: a reply to its request, or a platform request. */
export interface DownlinkEvent {
  productId: string;
  deviceName: string;
  kind: TopicKind;
  topic: string;
  id: string;
  /** For replies. */
  code?: number;
}

export interface OneNetEmulatorEvents {
  'client-connected': [ClientConnectedEvent];
  'client-refused': [ClientRefusedEvent];
  'client-disconnected': [ClientDisconnectedEvent];
  kicked: [KickedEvent];
  uplink: [UplinkRecord];
  reply: [ReplyEvent];
  subscribed: [SubscribedEvent];
  downlink: [DownlinkEvent];
  'rate-limited': [RateViolationRecord];
  /** A sub-device was bound, unbound, logged in or logged out. */
  'sub-device': [SubDeviceEvent];
}
