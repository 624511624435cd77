import {
  buildPackPost,
  buildRequest,
  serializeMessage,
  toEventParams,
  toPropertyParams,
  type SubDeviceIdentity,
  type TimedValue,
} from '../protocol';
import { readableText } from './client-text';
import { OneNetRequestError } from './errors';
import { MAX_TIMER_MS } from './session';
import type { RequestEntry } from './uplink-types';
import type { RequestOptions, RequestOutcome } from './types';

export type RequestCallOptions = RequestOptions & { time?: number };

export interface PostInput {
  kind: 'property-post' | 'event-post';
  params: unknown;
  options: RequestCallOptions;
  /** A gateway's sub-device: the post becomes a pack/post entry with this identity. */
  identity?: SubDeviceIdentity;
  topic: string;
  createdAt: number;
}

export interface PostNumbering {
  nextId: () => string;
  /** Taken only for a post that is valid, so acceptance order has no gaps. */
  nextSeq: () => number;
  defaultTimeoutMs: number;
}

/**
 * A flow's post, checked and built into the entry the pipeline, the store or a sub-device's binding
 * takes (DeviceConnection decides which). Throws OneNetRequestError 'invalid' for bad input: the
 * reason quotes the user's data (a property path, an identifier), shortened to stay readable.
 */
export function buildPostEntry(
  input: PostInput,
  numbering: PostNumbering,
  resolve: (outcome: RequestOutcome) => void,
  reject: (error: OneNetRequestError) => void,
): RequestEntry {
  const { kind, params, options, identity, topic, createdAt } = input;
  let id: string;
  let payload: Buffer;
  let values: Record<string, TimedValue>;
  let settings: RequestSettings;
  try {
    settings = requestSettings(options, numbering.defaultTimeoutMs);
    id = numbering.nextId();
    values =
      kind === 'property-post' ? toPropertyParams(params, options.time) : eventParams(params, options.time);
    if (identity) {
      // A sub-device's values go in a pack/post entry, each with its time (onenet-next.md §Q2 step 6).
      for (const value of Object.values(values)) value.time ??= createdAt;
      const entry =
        kind === 'property-post' ? { identity, properties: values } : { identity, events: values };
      payload = Buffer.from(buildPackPost(id, [entry]));
    } else payload = serializeMessage(buildRequest(id, values));
  } catch (err) {
    throw new OneNetRequestError('invalid', readableText((err as Error).message), { topic });
  }
  const entry: RequestEntry = {
    id,
    kind,
    topic,
    payload,
    qos: settings.qos,
    waitReply: settings.waitReply,
    timeoutMs: settings.timeoutMs,
    createdAt,
    resolve,
    reject,
    values,
    seq: numbering.nextSeq(),
    carriers: 0,
    waiting: false,
    done: false,
    timer: undefined,
  };
  if (identity) entry.identity = identity;
  return entry;
}

interface RequestSettings {
  qos: 0 | 1;
  waitReply: boolean;
  timeoutMs: number;
}

function requestSettings(options: RequestCallOptions, defaultTimeoutMs: number): RequestSettings {
  if (options === null || typeof options !== 'object') throw new Error('request options must be an object');
  const qos = options.qos ?? 1;
  // §1.3: QoS 2 is not supported by OneNET (it disconnects).
  if (qos !== 0 && qos !== 1) throw new Error(`qos must be 0 or 1, not ${String(qos)}`);
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new Error(`timeout must be a positive number of ms, not ${String(timeoutMs)}`);
  return {
    qos,
    waitReply: options.waitReply !== false,
    timeoutMs: Math.min(Math.ceil(timeoutMs), MAX_TIMER_MS),
  };
}

function eventParams(params: unknown, time: number | undefined): ReturnType<typeof toEventParams> {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new Error('an event post needs {identifier, output}');
  }
  const { identifier, output } = params as { identifier?: unknown; output?: unknown };
  return toEventParams(identifier, output, time);
}
