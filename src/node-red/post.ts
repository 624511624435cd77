import { OneNetRequestError, type RequestOptions, type RequestOutcome } from '../connection';
import { readableText } from '../connection/client-text';
import { describeType } from '../protocol';
import type { DeviceLink } from './device-link';
import type { NodeDef, NodeMessage, SendFunction } from './node-red-types';

/** Flow-file properties both post nodes have (DESIGN.md §3). */
export interface PostNodeDef extends NodeDef {
  device?: string;
  waitReply?: boolean | string;
  timeout?: number | string;
}

export const DEFAULT_POST_TIMEOUT_MS = 5000;

/** What ends up in msg.onenet after a post; `reason` is added only when the post failed. */
export interface PostInfo {
  id?: string;
  topic?: string;
  code?: number;
  message: string;
  latencyMs?: number;
  /** How many flow messages the uplink that carried this one's values carried (1: not merged). */
  merged?: number;
  reason?: string;
  /** On failure: whether the post left Node-RED (true: it may have reached OneNET). */
  sent?: boolean;
  /** offlinePolicy 'store': written to the durable store, to be delivered later (no code yet). */
  stored?: true;
}

/** A node's own settings as request options, worked out once per node (its def never changes). */
const optionsOfDef = new WeakMap<PostNodeDef, Readonly<RequestOptions>>();

function nodeOptions(def: PostNodeDef): Readonly<RequestOptions> {
  let options = optionsOfDef.get(def);
  if (!options) {
    const timeout = Number(def.timeout);
    options = Object.freeze({
      waitReply: def.waitReply !== false && def.waitReply !== 'false',
      timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_POST_TIMEOUT_MS,
    });
    optionsOfDef.set(def, options);
  }
  return options;
}

/**
 * waitReply/timeout as the connection wants them (a blank or nonsense timeout means the default),
 * plus msg.time and msg.qos. A message without either gets the node's shared, frozen options: the
 * connection only reads them, and this runs once per message.
 */
export function postOptions(def: PostNodeDef, msg: NodeMessage): RequestOptions & { time?: number } {
  const base = nodeOptions(def);
  if (msg.time === undefined && msg.qos === undefined) return base;
  const options: RequestOptions & { time?: number } = { ...base };
  // msg.time is the user's; the protocol core rejects anything that is not a ms timestamp, with a
  // message naming msg.time, so it is passed on unchecked.
  if (msg.time !== undefined) options.time = msg.time as number;
  // msg.qos as the core mqtt out node reads it (a number or its text). OneNET takes QoS 0 and 1
  // only (§1.3); anything else is refused by the connection with a message naming the value.
  if (msg.qos !== undefined) options.qos = (msg.qos === '0' ? 0 : msg.qos === '1' ? 1 : msg.qos) as 0 | 1;
  return options;
}

/**
 * msg.payload as the object a post sends. Text is parsed as JSON first: an mqtt in, http request,
 * file or serial node often hands JSON over as a string, and the core nodes' habit is to take text
 * where the meaning is plain. The text must hold an object; anything that is not text goes on
 * unchanged, and the protocol core says what is wrong with it. `shape` names the object wanted, for
 * the error. Only the value sent is parsed: msg.payload itself stays as it came (DESIGN.md §3).
 */
export function payloadObject(payload: unknown, shape: string): unknown {
  if (typeof payload !== 'string') return payload;
  const wanted = `msg.payload must be an object ${shape}, or JSON text of one`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch (err) {
    throw new OneNetRequestError(
      'invalid',
      readableText(`${wanted}; this text is not JSON (${(err as Error).message})`),
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const type = describeType(parsed);
    const held = type === 'null' ? 'null' : type === 'array' ? 'an array' : `a ${type}`;
    throw new OneNetRequestError('invalid', `${wanted}; this JSON text holds ${held}`);
  }
  return parsed;
}

/**
 * Runs one post and forwards the message with msg.onenet once it succeeded. On failure msg.onenet
 * holds what is known (id, topic, code, latency, reason) before the error goes to done(err).
 * Written with then() rather than async/await: it runs once per message.
 */
export function postAndForward(
  link: DeviceLink,
  msg: NodeMessage,
  send: SendFunction,
  post: () => Promise<RequestOutcome>,
): Promise<void> {
  let request: Promise<RequestOutcome>;
  try {
    request = post();
  } catch (err) {
    msg.onenet = failureInfo(err);
    return Promise.reject(err);
  }
  return request.then(
    (outcome) => {
      // The outcome is made for this request alone and has exactly msg.onenet's fields.
      const info: PostInfo = outcome;
      // A stored post has no reply yet (DESIGN.md §4: `stored: true`, and no code).
      if (outcome.stored) delete info.code;
      msg.onenet = info;
      link.status.showConnection();
      send(msg);
    },
    (err: unknown) => {
      msg.onenet = failureInfo(err);
      throw err;
    },
  );
}

export function failureInfo(err: unknown): PostInfo {
  const message = err instanceof Error ? err.message : String(err);
  if (!(err instanceof OneNetRequestError)) return { message };
  const info: PostInfo = { message, reason: err.reason };
  if (err.id !== undefined) info.id = err.id;
  if (err.topic !== undefined) info.topic = err.topic;
  if (err.code !== undefined) info.code = err.code;
  if (err.latencyMs !== undefined) info.latencyMs = err.latencyMs;
  // Tells a Catch-and-retry flow whether a retry could post the value twice.
  if (err.sent !== undefined) info.sent = err.sent;
  return info;
}
