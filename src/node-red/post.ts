import { OneNetRequestError, type RequestOptions, type RequestOutcome } from '../connection';
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
  reason?: string;
}

/** waitReply/timeout as the connection wants them; a blank or nonsense timeout means the default. */
export function postOptions(def: PostNodeDef, msg: NodeMessage): RequestOptions & { time?: number } {
  const waitReply = def.waitReply !== false && def.waitReply !== 'false';
  const timeout = Number(def.timeout);
  const options: RequestOptions & { time?: number } = {
    waitReply,
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_POST_TIMEOUT_MS,
  };
  // msg.time is the user's; the protocol core rejects anything that is not a ms timestamp, with a
  // message naming msg.time, so it is passed on unchecked.
  if (msg.time !== undefined) options.time = msg.time as number;
  return options;
}

/**
 * Runs one post and forwards the message with msg.onenet once it succeeded. On failure msg.onenet
 * holds what is known (id, topic, code, latency, reason) before the error goes to done(err).
 */
export async function postAndForward(
  link: DeviceLink,
  msg: NodeMessage,
  send: SendFunction,
  post: () => Promise<RequestOutcome>,
): Promise<void> {
  let outcome: RequestOutcome;
  try {
    outcome = await post();
  } catch (err) {
    msg.onenet = failureInfo(err);
    throw err;
  }
  const info: PostInfo = { ...outcome };
  msg.onenet = info;
  link.status.showConnection();
  send(msg);
}

export function failureInfo(err: unknown): PostInfo {
  const message = err instanceof Error ? err.message : String(err);
  if (!(err instanceof OneNetRequestError)) return { message };
  const info: PostInfo = { message, reason: err.reason };
  if (err.id !== undefined) info.id = err.id;
  if (err.topic !== undefined) info.topic = err.topic;
  if (err.code !== undefined) info.code = err.code;
  if (err.latencyMs !== undefined) info.latencyMs = err.latencyMs;
  return info;
}
