import type { SubDeviceIdentity, TimedValue } from '../protocol';
import type { OneNetRequestError } from './errors';
import type { RequestOutcome, UplinkKind } from './types';

/**
 * One flow request (a request() call) from acceptance until it settles, exactly once. Its values
 * travel in one uplink message, or, when the scheduler merges posts to stay within the uplink
 * rate, in several: the latest value of each property in a property/post (a sub-device's in a
 * pack/post), the values a newer post overwrote in a history/post, and, for a post too large for
 * one merged message, the rest in the next ones.
 */
export interface RequestEntry {
  /** The message id it is sent with when it goes out alone (the first release's one post per msg). */
  id: string;
  kind: UplinkKind;
  topic: string;
  /** The message it is sent as when it goes out alone. */
  payload: Buffer;
  qos: 0 | 1;
  waitReply: boolean;
  timeoutMs: number;
  /** When request() was called (queue age and latency count from here; unstamped values get it). */
  createdAt: number;
  resolve: (outcome: RequestOutcome) => void;
  reject: (error: OneNetRequestError) => void;
  /** The values by identifier (property identifiers, or the one event identifier), for merging. */
  values: Record<string, TimedValue>;
  /** Acceptance order: of two values of one property, the later accepted is the newer. */
  seq: number;
  /**
   * Set for a sub-device's post on its gateway's connection: its values travel in pack/post and
   * history/post entries with this identity (onenet-next.md §Q2 step 6), never as the gateway's own,
   * and the store keeps them under it.
   */
  identity?: SubDeviceIdentity;
  /**
   * Identifiers not yet put into a message. Undefined while the entry is whole (nothing sent), so
   * it can still go out alone with its own payload.
   */
  unsent?: Set<string>;
  /** Messages carrying some of its values that have not settled yet. */
  carriers: number;
  /** The message that carried its newest values: its id and topic are the ones reported. */
  latestCarrier?: UplinkMessage;
  /** Still waiting in the scheduler with values to send. */
  waiting: boolean;
  done: boolean;
  /** The timeout, running from acceptance to the reply (stopped while the offline queue holds it). */
  timer: NodeJS.Timeout | undefined;
}

export type UplinkMessageKind = UplinkKind | 'history-post' | 'pack-post';

/** One publish on the wire, carrying the values of one or more flow requests. */
export interface UplinkMessage {
  id: string;
  kind: UplinkMessageKind;
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
  /** Some member waits for the platform's reply. */
  waitReply: boolean;
  members: RequestEntry[];
  /** A single whole entry, sent with its own id and payload. */
  alone: boolean;
  /** queued (for a re-send), publishing (handed to MQTT.js), delivered (written or PUBACKed). */
  state: 'queued' | 'publishing' | 'delivered' | 'done';
  /** The pipeline generation it was published in; callbacks from an older client are ignored. */
  generation: number;
  /** Sent once before, on a session that dropped before OneNET acknowledged it. */
  resent?: boolean;
}

/** A publish that goes before every post (a reply to a platform request: OneNET waits only 5 s). */
export interface PriorityUplink {
  /** Publishes now; the uplink budget has been charged for it. */
  send: () => void;
  /** Withdrawn (timed out or the session went) before it was sent. */
  cancelled: boolean;
}

/**
 * The uplink scheduler's lanes for a connection's own publishes: `priority` goes before every post
 * (a reply: OneNET waits only 5 s for it); `shared` takes turns with the posts while both wait (a
 * gateway binding and logging in its sub-devices, which at one message a second can take many
 * minutes, must not hold back the posts of the sub-devices already logged in).
 */
export type OwnUplinkLane = 'priority' | 'shared';
