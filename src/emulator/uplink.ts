import {
  SUCCESS_CODE,
  TOPIC_KINDS,
  isCustomTopicKind,
  isPlainObject,
  isValidMessageId,
  parseDesiredDelete,
  parseDesiredGet,
  parseEventPost,
  parsePropertyPost,
  parseReply,
  replyKindOf,
  topicDirection,
  type DesiredDeleteParams,
  type ParseResult,
  type ThingReply,
  type TimedValue,
  type TopicKind,
} from '../protocol';
import type { ModelVerdict, ProductModel } from './product-model';
import { interpretBatchPost, type BatchContext, type BatchDeviceData } from './batch-uplink';

/**
 * What a device publish means, decided from its topic kind and payload alone (no I/O), so the
 * emulator's hot path is one JSON parse plus validation. Codes are OneNET's (§3.2).
 */

export type UplinkOutcome =
  | {
      type: 'request';
      /** The id to echo in the reply: the request's when usable, else whatever it carried, else "". */
      replyId: string;
      id: string | undefined;
      payload: unknown;
      code: number;
      /** Why the request was refused (code ≠ 200). */
      reason?: string;
      /** Valid property values to store. */
      properties?: Record<string, TimedValue>;
      /** Valid events to log. */
      events?: Record<string, TimedValue>;
      /** pack/post and history/post: the values of every device entry, with their times. */
      batch?: BatchDeviceData[];
      /** data for the reply. */
      replyData?: unknown;
      /** Run only when the request is answered 200 (not under failReplies): a gateway's topology change. */
      commit?: () => void;
      /** What the log shows instead of the payload, when the payload holds a credential (a sasToken). */
      logPreview?: string;
      /** desired/get: the identifiers asked for (the handler answers from its desired store). */
      desiredGet?: string[];
      /** desired/delete: what to clear (the handler applies it to its desired store). */
      desiredDelete?: DesiredDeleteParams;
    }
  | { type: 'platform-reply'; payload: unknown; reply?: ThingReply; id?: string; problem?: string }
  | { type: 'result'; payload: unknown; id?: string }
  /** Custom data (§3 rows 20–21): the product's own bytes, which only OneNET's parsing script reads. */
  | { type: 'custom'; payload: Buffer };

/** Kinds a device sends to answer a platform request (`set_reply`, `get_reply`, `invoke_reply`, ...). */
const PLATFORM_REPLY_KINDS: ReadonlySet<TopicKind> = new Set(
  TOPIC_KINDS.filter((kind) => topicDirection(kind) === 'down' && !isCustomTopicKind(kind))
    .map((kind) => replyKindOf(kind))
    .filter((kind): kind is TopicKind => kind !== undefined),
);

export function isPlatformReplyKind(kind: TopicKind): boolean {
  return PLATFORM_REPLY_KINDS.has(kind);
}

/** Best effort for error replies and records: the parsed JSON, or the text when it is not JSON. */
function looseParse(payload: Buffer): unknown {
  const text = payload.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function looseId(parsed: unknown): string {
  if (!isPlainObject(parsed)) return '';
  const id = parsed.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : '';
}

/** For kinds the protocol core has no dedicated parser for: a JSON object with a valid id. */
function parseGenericRequest(payload: Buffer): ParseResult<{ id: string }> & { raw?: unknown } {
  const parsed = looseParse(payload);
  if (!isPlainObject(parsed))
    return { ok: false, code: 301, reason: 'payload is not a JSON object', raw: parsed };
  if (!isValidMessageId(parsed.id)) {
    return {
      ok: false,
      code: 312,
      reason: '"id" must be a numeric string of at most 13 digits',
      raw: parsed,
    };
  }
  return { ok: true, value: parsed as { id: string }, raw: parsed };
}

function refused(payload: Buffer, code: number, reason: string, id?: string): UplinkOutcome {
  const loose = looseParse(payload);
  return { type: 'request', replyId: id ?? looseId(loose), id, payload: loose, code, reason };
}

function checked(violation: ModelVerdict | undefined): { code: number; reason?: string } {
  return violation ? { code: violation.code, reason: violation.reason } : { code: SUCCESS_CODE };
}

/** `batch` is needed for pack/post and history/post only: who sent them, and their rules. */
export function interpretUplink(
  kind: TopicKind,
  payload: Buffer,
  model: ProductModel | undefined,
  batch?: BatchContext,
): UplinkOutcome {
  if (isCustomTopicKind(kind)) return { type: 'custom', payload };
  if (isPlatformReplyKind(kind)) {
    const parsed = parseReply(payload);
    if (!parsed.ok) {
      const outcome: UplinkOutcome = {
        type: 'platform-reply',
        payload: looseParse(payload),
        problem: parsed.reason,
      };
      if (parsed.id !== undefined) outcome.id = parsed.id;
      return outcome;
    }
    return { type: 'platform-reply', payload: parsed.value, reply: parsed.value, id: parsed.value.id };
  }
  if (replyKindOf(kind) === undefined) {
    const parsed = parseGenericRequest(payload);
    return parsed.ok
      ? { type: 'result', payload: parsed.value, id: parsed.value.id }
      : { type: 'result', payload: parsed.raw };
  }
  switch (kind) {
    case 'property-post': {
      const parsed = parsePropertyPost(payload);
      if (!parsed.ok) return refused(payload, parsed.code, parsed.reason, parsed.id);
      const { id, params } = parsed.value;
      const verdict = checked(model?.propertyPost(params));
      const outcome: UplinkOutcome = { type: 'request', replyId: id, id, payload: parsed.value, ...verdict };
      if (verdict.code === SUCCESS_CODE) outcome.properties = params;
      return outcome;
    }
    case 'event-post': {
      const parsed = parseEventPost(payload);
      if (!parsed.ok) return refused(payload, parsed.code, parsed.reason, parsed.id);
      const { id, params } = parsed.value;
      const verdict = checked(model?.eventPost(params));
      const outcome: UplinkOutcome = { type: 'request', replyId: id, id, payload: parsed.value, ...verdict };
      if (verdict.code === SUCCESS_CODE) outcome.events = params;
      return outcome;
    }
    case 'desired-get': {
      const parsed = parseDesiredGet(payload);
      if (!parsed.ok) return refused(payload, parsed.code, parsed.reason, parsed.id);
      const { id, params } = parsed.value;
      const verdict = checked(model?.propertyGet(params));
      const outcome: UplinkOutcome = { type: 'request', replyId: id, id, payload: parsed.value, ...verdict };
      if (verdict.code === SUCCESS_CODE) outcome.desiredGet = params;
      return outcome;
    }
    case 'desired-delete': {
      const parsed = parseDesiredDelete(payload);
      if (!parsed.ok) return refused(payload, parsed.code, parsed.reason, parsed.id);
      const { id, params } = parsed.value;
      return {
        type: 'request',
        replyId: id,
        id,
        payload: parsed.value,
        code: SUCCESS_CODE,
        desiredDelete: params,
      };
    }
    case 'pack-post':
    case 'history-post': {
      if (!batch) break;
      const verdict = interpretBatchPost(kind, payload, batch);
      if (!verdict.ok) return refused(payload, verdict.code, verdict.reason, verdict.id);
      return {
        type: 'request',
        replyId: verdict.id,
        id: verdict.id,
        payload: verdict.payload,
        code: SUCCESS_CODE,
        batch: verdict.devices,
      };
    }
  }
  // Gateway requests (and batch posts without a context): acknowledged after the common checks only.
  const parsed = parseGenericRequest(payload);
  if (!parsed.ok) return refused(payload, parsed.code, parsed.reason);
  return {
    type: 'request',
    replyId: parsed.value.id,
    id: parsed.value.id,
    payload: parsed.value,
    code: SUCCESS_CODE,
  };
}
