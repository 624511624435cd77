import { MAX_MESSAGE_ID_DIGITS, MAX_PAYLOAD_BYTES, THING_MODEL_VERSION } from './limits';
import {
  describeType,
  identifierError,
  isPlainObject,
  isSimpleValue,
  isValidMessageId,
  timeError,
  valueError,
} from './validation';

/**
 * OneJSON messages (shared/onenet-protocol.md §3.1): building what a device sends, and parsing what
 * it receives. Builders throw InvalidInputError with a sentence for the user; parsers never throw,
 * whatever bytes they are given, and return the reason a message was refused.
 */

export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
}

/** A value with its optional timestamp, as property and event posts carry them. */
export interface TimedValue {
  value: unknown;
  time?: number;
}

export interface ThingRequest<P> {
  id: string;
  version: string;
  params: P;
}

export type PropertyPostParams = Record<string, TimedValue>;
export type EventPostParams = Record<string, TimedValue>;
export type PropertySetParams = Record<string, unknown>;
export type PropertyGetParams = string[];
export type ServiceInvokeParams = Record<string, unknown>;

export interface ThingReply {
  id: string;
  code: number;
  msg: string;
  data?: unknown;
}

/**
 * Message ids: numeric strings of at most 13 digits, unique per connection (§1.6). A counter wraps
 * long before 13 digits are exhausted at any realistic rate.
 *
 * One id per request makes this a hot path: turning a 13-digit number (a heap double) into text
 * costs about three times as much as turning two small integers into text, so the counter is kept
 * as a high part (its text cached) and a six-digit low part. The ids are exactly String(counter).
 */
export function createMessageIdGenerator(first = 1): () => string {
  const limit = 10 ** MAX_MESSAGE_ID_DIGITS;
  if (!Number.isSafeInteger(first) || first < 0) {
    let next = first;
    return () => {
      const id = String(next);
      next = next + 1 >= limit ? 1 : next + 1;
      return id;
    };
  }
  const lowRange = 1_000_000;
  let next = first;
  let high = Math.floor(first / lowRange);
  let low = first - high * lowRange;
  let highText = high > 0 ? String(high) : '';
  return () => {
    // lowRange + low has seven digits; dropping the first leaves low zero-padded to six.
    const id = high === 0 ? String(low) : highText + String(lowRange + low).slice(1);
    if (next + 1 >= limit) {
      next = 1;
      high = 0;
      low = 1;
      highText = '';
    } else {
      next++;
      low++;
      if (low === lowRange) {
        low = 0;
        high++;
        highText = String(high);
      }
    }
    return id;
  };
}

// ---------------------------------------------------------------------------------------------
// Building

/**
 * Normalises `{identifier: value}` or `{identifier: {value, time}}` into OneJSON property params.
 * An object counts as `{value, time}` only when its keys are `value` and optionally `time`.
 */
export function toPropertyParams(payload: unknown, defaultTime?: number): PropertyPostParams {
  if (!isPlainObject(payload)) {
    throw new InvalidInputError(
      `payload must be an object of {identifier: value}, not ${describeType(payload)}`,
    );
  }
  const identifiers = Object.keys(payload);
  if (identifiers.length === 0) throw new InvalidInputError('payload has no properties to post');
  if (defaultTime !== undefined) assertValid(timeError(defaultTime, 'msg.time'));
  const params: PropertyPostParams = {};
  for (const identifier of identifiers) {
    assertValid(identifierError(identifier));
    params[identifier] = toTimedValue(payload[identifier], identifier, defaultTime);
  }
  return params;
}

/** `identifier` names the entry in error messages (payload.<identifier>), built only when one is thrown. */
function toTimedValue(entry: unknown, identifier: string, defaultTime: number | undefined): TimedValue {
  // The common case, a plain number, string or boolean, needs no path and no walk.
  if (isSimpleValue(entry))
    return defaultTime === undefined ? { value: entry } : { value: entry, time: defaultTime };
  const path = `payload.${identifier}`;
  const explicit =
    isPlainObject(entry) &&
    'value' in entry &&
    Object.keys(entry).every((k) => k === 'value' || k === 'time');
  const value = explicit ? entry.value : entry;
  assertValid(valueError(value, explicit ? `${path}.value` : path));
  const time = explicit && entry.time !== undefined ? entry.time : defaultTime;
  if (time === undefined) return { value };
  assertValid(timeError(time, explicit && entry.time !== undefined ? `${path}.time` : 'msg.time'));
  return { value, time: time as number };
}

export function toEventParams(eventIdentifier: unknown, output: unknown, time?: number): EventPostParams {
  assertValid(identifierError(eventIdentifier));
  if (!isPlainObject(output)) {
    throw new InvalidInputError(
      `event output must be an object of {parameter: value}, not ${describeType(output)}`,
    );
  }
  assertValid(valueError(output, 'payload'));
  if (time !== undefined) assertValid(timeError(time, 'msg.time'));
  const entry: TimedValue = time === undefined ? { value: output } : { value: output, time };
  return { [eventIdentifier as string]: entry };
}

export function buildRequest<P>(id: string, params: P): ThingRequest<P> {
  if (!isValidMessageId(id))
    throw new InvalidInputError(`message id "${id}" is not a numeric string of at most 13 digits`);
  return { id, version: THING_MODEL_VERSION, params };
}

export function buildReply(id: string, code: number, msg: string, data?: unknown): ThingReply {
  if (!Number.isSafeInteger(code))
    throw new InvalidInputError(`reply code must be an integer, not ${String(code)}`);
  if (data !== undefined) assertValid(valueError(data, 'reply data'));
  return data === undefined ? { id, code, msg } : { id, code, msg, data };
}

/** JSON for the wire, refusing anything OneNET would disconnect for (§1.3: 256 KB). */
export function serializeMessage(
  // The last form is a request without params, as gateways send `sub/topo/get` (gateway.ts).
  message: ThingRequest<unknown> | ThingReply | { id: string; version: string },
): Buffer {
  const bytes = Buffer.from(JSON.stringify(message), 'utf8');
  if (bytes.length > MAX_PAYLOAD_BYTES) {
    throw new InvalidInputError(
      `message is ${bytes.length} bytes; OneNET accepts at most ${MAX_PAYLOAD_BYTES}`,
    );
  }
  return bytes;
}

function assertValid(error: string | undefined): void {
  if (error !== undefined) throw new InvalidInputError(error);
}

// ---------------------------------------------------------------------------------------------
// Parsing

/**
 * The device-log code OneNET records for each kind of bad message (§3.2); 307 ("invalid pid or
 * devName") names a bad device identity in a batch post (batch-posts.ts).
 */
export type RejectionCode = 301 | 302 | 307 | 309 | 312;

export type ParseResult<T> =
  { ok: true; value: T } | { ok: false; code: RejectionCode; reason: string; id?: string };

function reject(
  code: RejectionCode,
  reason: string,
  id?: string,
): { ok: false; code: RejectionCode; reason: string; id?: string } {
  return id === undefined ? { ok: false, code, reason } : { ok: false, code, reason, id };
}

function parseJsonObject(payload: Buffer | string): ParseResult<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    return reject(301, `malformed JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(parsed)) return reject(301, `expected a JSON object, got ${describeType(parsed)}`);
  return { ok: true, value: parsed };
}

export type ParamsCheck<P> = (
  params: unknown,
) => { ok: true; params: P } | { ok: false; code: RejectionCode; reason: string };

/** The common request envelope `{id, version?, params}`, with `checkParams` deciding about `params`. */
export function parseRequest<P>(
  payload: Buffer | string,
  checkParams: ParamsCheck<P>,
): ParseResult<ThingRequest<P>> {
  const object = parseJsonObject(payload);
  if (!object.ok) return object;
  const { id, version, params } = object.value;
  if (id === undefined) return reject(312, 'request has no "id"');
  if (!isValidMessageId(id))
    return reject(312, `"id" must be a numeric string of at most 13 digits, got ${JSON.stringify(id)}`);
  if (version !== undefined && typeof version !== 'string')
    return reject(301, '"version" must be a string', id);
  if (params === undefined) return reject(301, 'request has no "params"', id);
  const checked = checkParams(params);
  if (!checked.ok) return reject(checked.code, checked.reason, id);
  return { ok: true, value: { id, version: version ?? THING_MODEL_VERSION, params: checked.params } };
}

function checkObjectParams(
  params: unknown,
): { ok: true; params: Record<string, unknown> } | { ok: false; code: RejectionCode; reason: string } {
  if (!isPlainObject(params))
    return { ok: false, code: 301, reason: `"params" must be an object, got ${describeType(params)}` };
  for (const [identifier, value] of Object.entries(params)) {
    const error = identifierError(identifier) ?? valueError(value, `params.${identifier}`);
    if (error) return { ok: false, code: error.startsWith('identifier') ? 309 : 302, reason: error };
  }
  return { ok: true, params };
}

function checkTimedParams(
  params: unknown,
): { ok: true; params: Record<string, TimedValue> } | { ok: false; code: RejectionCode; reason: string } {
  if (!isPlainObject(params))
    return { ok: false, code: 301, reason: `"params" must be an object, got ${describeType(params)}` };
  if (Object.keys(params).length === 0) return { ok: false, code: 301, reason: '"params" is empty' };
  for (const [identifier, entry] of Object.entries(params)) {
    const idError = identifierError(identifier);
    if (idError) return { ok: false, code: 309, reason: idError };
    if (!isPlainObject(entry) || !('value' in entry)) {
      return { ok: false, code: 301, reason: `params.${identifier} must be {"value": …, "time"?: …}` };
    }
    const error =
      valueError(entry.value, `params.${identifier}.value`) ??
      (entry.time === undefined ? undefined : timeError(entry.time, `params.${identifier}.time`));
    if (error) return { ok: false, code: 302, reason: error };
  }
  return { ok: true, params: params as Record<string, TimedValue> };
}

export function parsePropertyPost(payload: Buffer | string): ParseResult<ThingRequest<PropertyPostParams>> {
  return parseRequest(payload, checkTimedParams);
}

export function parseEventPost(payload: Buffer | string): ParseResult<ThingRequest<EventPostParams>> {
  return parseRequest(payload, (params) => {
    const checked = checkTimedParams(params);
    if (!checked.ok) return checked;
    for (const [identifier, entry] of Object.entries(checked.params)) {
      if (!isPlainObject(entry.value)) {
        return {
          ok: false,
          code: 302,
          reason: `params.${identifier}.value must be an object of output parameters`,
        };
      }
    }
    return checked;
  });
}

export function parsePropertySet(payload: Buffer | string): ParseResult<ThingRequest<PropertySetParams>> {
  return parseRequest(payload, checkObjectParams);
}

export function parseServiceInvoke(payload: Buffer | string): ParseResult<ThingRequest<ServiceInvokeParams>> {
  return parseRequest(payload, checkObjectParams);
}

export function parsePropertyGet(payload: Buffer | string): ParseResult<ThingRequest<PropertyGetParams>> {
  return parseRequest(payload, (params) => {
    if (!Array.isArray(params))
      return {
        ok: false,
        code: 301,
        reason: `"params" must be an array of identifiers, got ${describeType(params)}`,
      };
    for (const identifier of params) {
      const error = identifierError(identifier);
      if (error) return { ok: false, code: 309, reason: error };
    }
    return { ok: true, params: params as string[] };
  });
}

/**
 * The reply OneNET sends to nearly every post, `{"id":"…","code":…,"msg":"…"}` with a plain ASCII
 * message, written exactly so: whatever this matches is valid JSON (no leading zeros, no escapes,
 * no bytes above 0x7e) with a valid id, so it is read without JSON.parse. Every other shape takes the
 * general path below, which gives the same result for these (a property test checks both agree).
 * One reply arrives per post, also with Reply off; this halves what reading one costs.
 */
const PLAIN_REPLY =
  /^\{"id":"(\d{1,13})","code":(-?(?:0|[1-9]\d{0,14})),"msg":"([\x20\x21\x23-\x5b\x5d-\x7e]*)"\}$/;

export function parseReply(payload: Buffer | string): ParseResult<ThingReply> {
  const text =
    typeof payload === 'string' ? payload : payload.length <= 512 ? payload.toString('latin1') : '';
  const plain = PLAIN_REPLY.exec(text);
  if (plain) return { ok: true, value: { id: plain[1]!, code: Number(plain[2]), msg: plain[3]! } };
  return parseReplyObject(payload);
}

function parseReplyObject(payload: Buffer | string): ParseResult<ThingReply> {
  const object = parseJsonObject(payload);
  if (!object.ok) return object;
  const { id, code, msg, data } = object.value;
  if (!isValidMessageId(id))
    return reject(312, `reply "id" must be a numeric string of at most 13 digits, got ${JSON.stringify(id)}`);
  if (typeof code !== 'number' || !Number.isSafeInteger(code))
    return reject(301, 'reply "code" must be an integer', id);
  if (msg !== undefined && typeof msg !== 'string') return reject(301, 'reply "msg" must be a string', id);
  const reply: ThingReply = { id, code, msg: msg ?? '' };
  if (data !== undefined) reply.data = data;
  return { ok: true, value: reply };
}
