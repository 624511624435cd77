import { MAX_PAYLOAD_BYTES, THING_MODEL_VERSION } from './limits';
import {
  InvalidInputError,
  parseRequest,
  type RejectionCode,
  type ThingRequest,
  type TimedValue,
} from './messages';
import {
  describeType,
  deviceNameError,
  identifierError,
  isPlainObject,
  isValidMessageId,
  productIdError,
  timeError,
  valueError,
} from './validation';

/**
 * Batch posts (shared/onenet-protocol.md §3.1 #8 and #9, onenet-next.md §Q3): `thing/pack/post`
 * carries one value per identifier for up to 10 devices, `thing/history/post` up to 100 timestamped
 * values per identifier. Builders throw InvalidInputError with a sentence for the user; parsers never
 * throw. Shared by the client (which must stay inside the limits) and the emulator (which refuses
 * what breaks them).
 *
 * Readings of the documents, where they leave a choice (all UNCONFIRMED against the platform):
 * - A "point" (数据点, "每个设备上送数据点数量不超过100个") is one identifier in one device entry, a
 *   property or an event: properties and events together count towards `pointsPerDevice`. Whether
 *   the platform counts events is not documented; `eventsArePoints: false` counts properties only.
 * - "每个功能点历史数据不超过100个" applies to every identifier, events included.
 * - The same device may appear in only one entry of a message (an entry without `identity` is the
 *   topic's device). Merge its values into one entry instead.
 * - `identity: {"productID": "", "deviceName": ""}`, as in the documentation's examples, means "the
 *   topic's device", like no identity at all; the parsers drop it. One empty and one filled is refused.
 * - history/post values always carry `time` (every documented example does); pack/post's is optional.
 * - An entry holds only `identity`, `properties` and `events`; any other key is refused (a typo such as
 *   "event" would otherwise lose data without a word), and so is an entry with no point at all.
 */

export interface BatchIdentity {
  productID: string;
  deviceName: string;
}

/** One historic value; `time` in milliseconds since the epoch. */
export interface HistoryValue {
  value: unknown;
  time: number;
}

export interface HistoryEntry {
  /** Absent: the device of the topic. */
  identity?: BatchIdentity;
  properties?: Record<string, HistoryValue[]>;
  events?: Record<string, HistoryValue[]>;
}

export interface PackEntry {
  /** Absent: the device of the topic. */
  identity?: BatchIdentity;
  properties?: Record<string, TimedValue>;
  events?: Record<string, TimedValue>;
}

/** OneNET's documented limits for both batch topics (property&event.md §5–6). */
export const BATCH_LIMITS = {
  /** "每次批量上送不超过10个子设备". */
  devicesPerMessage: 10,
  /** "每个设备上送数据点数量不超过100个". */
  pointsPerDevice: 100,
  /** "每个功能点历史数据不超过100个". */
  valuesPerPoint: 100,
} as const satisfies BatchLimits;

export interface BatchLimits {
  devicesPerMessage: number;
  pointsPerDevice: number;
  valuesPerPoint: number;
}

export type BatchLimitName = keyof BatchLimits;

export interface BatchParseOptions {
  /** Limits to enforce, default BATCH_LIMITS (the emulator makes them configurable). */
  limits?: Partial<BatchLimits>;
  /** Whether events count as points towards `pointsPerDevice` (default true, the stricter reading). */
  eventsArePoints?: boolean;
}

export type BatchParseResult<P> =
  | { ok: true; request: ThingRequest<P> }
  | {
      ok: false;
      reason: string;
      /** The device-log code of the problem (§3.2), as the single-message parsers give it. */
      code: RejectionCode;
      /** Set when the request broke one of the limits rather than the format. */
      limit?: BatchLimitName;
      /** The request id, when it had a usable one. */
      id?: string;
    };

export interface BatchCount {
  /** Entries in the message. */
  devices: number;
  /** The most points (identifiers) any one entry holds. */
  maxPointsPerDevice: number;
  /** The most values any one identifier holds (1 for pack/post). */
  maxValuesPerPoint: number;
  /** Values in the whole message, properties and events. */
  values: number;
}

type Kind = 'pack' | 'history';
type Problem = { code: RejectionCode; reason: string; limit?: BatchLimitName };
type Checked<E> = { ok: true; entries: E[] } | ({ ok: false } & Problem);

const ENTRY_KEYS: ReadonlySet<string> = new Set(['identity', 'properties', 'events']);
const TOPIC: Record<Kind, string> = { pack: 'pack/post', history: 'history/post' };

// ---------------------------------------------------------------------------------------------
// Counting

/** How many points (identifier entries, properties + events) and values the entries hold — the numbers the limits count. */
export function countBatch(
  entries: readonly (HistoryEntry | PackEntry)[],
  options: { eventsArePoints?: boolean } = {},
): BatchCount {
  const eventsArePoints = options.eventsArePoints ?? true;
  let maxPointsPerDevice = 0;
  let maxValuesPerPoint = 0;
  let values = 0;
  for (const entry of entries) {
    let points = 0;
    for (const [map, counted] of [
      [entry.properties, true],
      [entry.events, eventsArePoints],
    ] as const) {
      if (!map) continue;
      for (const point of Object.values(map as Record<string, unknown>)) {
        const n = Array.isArray(point) ? point.length : 1;
        values += n;
        if (n > maxValuesPerPoint) maxValuesPerPoint = n;
        if (counted) points++;
      }
    }
    if (points > maxPointsPerDevice) maxPointsPerDevice = points;
  }
  return { devices: entries.length, maxPointsPerDevice, maxValuesPerPoint, values };
}

// ---------------------------------------------------------------------------------------------
// Checking (one walk for builders and parsers)

function problem(code: RejectionCode, reason: string, limit?: BatchLimitName): { ok: false } & Problem {
  return limit === undefined ? { ok: false, code, reason } : { ok: false, code, reason, limit };
}

function checkIdentity(
  identity: unknown,
  path: string,
): { ok: true; identity: BatchIdentity | undefined } | ({ ok: false } & Problem) {
  if (identity === undefined) return { ok: true, identity: undefined };
  if (!isPlainObject(identity))
    return problem(301, `${path} must be {"productID", "deviceName"}, not ${describeType(identity)}`);
  const { productID, deviceName } = identity;
  if (typeof productID !== 'string' || typeof deviceName !== 'string')
    return problem(301, `${path} must have the strings "productID" and "deviceName"`);
  if (productID === '' && deviceName === '') return { ok: true, identity: undefined };
  const error = productIdError(productID) ?? deviceNameError(deviceName);
  if (error) return problem(307, `${path}: ${error}`);
  return { ok: true, identity: { productID, deviceName } };
}

/** One `{value, time}` of a point; events' values are objects of output parameters. */
function checkValue(
  item: unknown,
  path: string,
  isEvent: boolean,
  timeRequired: boolean,
): { ok: true; value: TimedValue } | ({ ok: false } & Problem) {
  if (!isPlainObject(item) || !('value' in item))
    return problem(301, `${path} must be {"value": …, "time"${timeRequired ? '' : '?'}: …}`);
  const { value, time } = item;
  if (isEvent && !isPlainObject(value))
    return problem(302, `${path}.value must be an object of output parameters`);
  const error =
    valueError(value, `${path}.value`) ??
    (time === undefined && !timeRequired ? undefined : timeError(time, `${path}.time`));
  if (error) return problem(302, error);
  return { ok: true, value: time === undefined ? { value } : { value, time: time as number } };
}

function checkPoints(
  kind: Kind,
  map: unknown,
  path: string,
  isEvent: boolean,
  limits: BatchLimits,
): { ok: true; points: Record<string, unknown> } | ({ ok: false } & Problem) {
  if (!isPlainObject(map)) return problem(301, `${path} must be an object, not ${describeType(map)}`);
  const points: Record<string, unknown> = {};
  for (const [identifier, point] of Object.entries(map)) {
    const idError = identifierError(identifier);
    if (idError) return problem(309, `${path}: ${idError}`);
    const pointPath = `${path}.${identifier}`;
    if (kind === 'pack') {
      const checked = checkValue(point, pointPath, isEvent, false);
      if (!checked.ok) return checked;
      points[identifier] = checked.value;
      continue;
    }
    if (!Array.isArray(point))
      return problem(301, `${pointPath} must be an array of {"value", "time"}, not ${describeType(point)}`);
    if (point.length === 0) return problem(301, `${pointPath} has no values`);
    if (point.length > limits.valuesPerPoint) {
      return problem(
        301,
        `${pointPath} has ${point.length} values; OneNET accepts at most ${limits.valuesPerPoint} per identifier`,
        'valuesPerPoint',
      );
    }
    const values: TimedValue[] = [];
    for (let i = 0; i < point.length; i++) {
      const checked = checkValue(point[i], `${pointPath}[${i}]`, isEvent, true);
      if (!checked.ok) return checked;
      values.push(checked.value);
    }
    points[identifier] = values;
  }
  return { ok: true, points };
}

function checkEntries<E>(kind: Kind, params: unknown, path: string, options: BatchParseOptions): Checked<E> {
  const limits: BatchLimits = { ...BATCH_LIMITS, ...options.limits };
  const eventsArePoints = options.eventsArePoints ?? true;
  if (!Array.isArray(params))
    return problem(301, `${path} must be an array of device entries, not ${describeType(params)}`);
  if (params.length === 0) return problem(301, `${path} has no device entries`);
  if (params.length > limits.devicesPerMessage) {
    return problem(
      301,
      `${path} has ${params.length} device entries; OneNET accepts at most ${limits.devicesPerMessage} per message`,
      'devicesPerMessage',
    );
  }
  const seen = new Set<string>();
  const entries: E[] = [];
  for (let i = 0; i < params.length; i++) {
    const entryPath = `${path}[${i}]`;
    const raw: unknown = params[i];
    if (!isPlainObject(raw))
      return problem(301, `${entryPath} must be an object of identity, properties and events`);
    const unknownKey = Object.keys(raw).find((key) => !ENTRY_KEYS.has(key));
    if (unknownKey !== undefined) {
      return problem(
        301,
        `${entryPath} has the key "${unknownKey.slice(0, 40)}"; an entry holds only identity, properties and events`,
      );
    }
    const identity = checkIdentity(raw.identity, `${entryPath}.identity`);
    if (!identity.ok) return identity;
    const deviceKey = identity.identity
      ? `${identity.identity.productID}/${identity.identity.deviceName}`
      : '';
    if (seen.has(deviceKey)) {
      return problem(
        301,
        `${entryPath}: ${deviceKey === '' ? "the topic's own device" : `device ${deviceKey}`} appears in more than one entry; put its values in one entry`,
      );
    }
    seen.add(deviceKey);
    const propertyCount = isPlainObject(raw.properties) ? Object.keys(raw.properties).length : 0;
    const eventCount = isPlainObject(raw.events) ? Object.keys(raw.events).length : 0;
    const points = propertyCount + (eventsArePoints ? eventCount : 0);
    if (points > limits.pointsPerDevice) {
      return problem(
        301,
        `${entryPath} has ${points} ${eventsArePoints ? 'properties and events' : 'properties'}; OneNET accepts at most ${limits.pointsPerDevice} points per device`,
        'pointsPerDevice',
      );
    }
    const entry: HistoryEntry | PackEntry = {};
    if (identity.identity) entry.identity = identity.identity;
    for (const section of ['properties', 'events'] as const) {
      if (raw[section] === undefined) continue;
      const checked = checkPoints(
        kind,
        raw[section],
        `${entryPath}.${section}`,
        section === 'events',
        limits,
      );
      if (!checked.ok) return checked;
      if (Object.keys(checked.points).length > 0) entry[section] = checked.points as never;
    }
    if (!entry.properties && !entry.events)
      return problem(301, `${entryPath} has no properties and no events to post`);
    entries.push(entry as E);
  }
  return { ok: true, entries };
}

// ---------------------------------------------------------------------------------------------
// Building

function build(kind: Kind, id: string, entries: unknown): string {
  if (!isValidMessageId(id))
    throw new InvalidInputError(`message id "${String(id)}" is not a numeric string of at most 13 digits`);
  const checked = checkEntries(kind, entries, 'entries', {});
  if (!checked.ok) throw new InvalidInputError(`${TOPIC[kind]}: ${checked.reason}`);
  const text = JSON.stringify({ id, version: THING_MODEL_VERSION, params: checked.entries });
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new InvalidInputError(
      `${TOPIC[kind]} message is ${bytes} bytes; OneNET accepts at most ${MAX_PAYLOAD_BYTES}: send fewer values in it`,
    );
  }
  return text;
}

/**
 * JSON text of the request {"id","version":"1.0","params":[...]}; throws InvalidInputError with a user
 * sentence when a limit or a value is wrong (empty entries, > limits, bad identifier, non-finite time,
 * payload > MAX_PAYLOAD_BYTES).
 */
export function buildHistoryPost(id: string, entries: HistoryEntry[]): string {
  return build('history', id, entries);
}

/** As buildHistoryPost, for thing/pack/post: one value (time optional) per identifier. */
export function buildPackPost(id: string, entries: PackEntry[]): string {
  return build('pack', id, entries);
}

// ---------------------------------------------------------------------------------------------
// Parsing

function parse<E>(kind: Kind, payload: unknown, options: BatchParseOptions): BatchParseResult<E[]> {
  try {
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload))
      return { ok: false, code: 301, reason: `payload must be bytes or text, not ${describeType(payload)}` };
    const size = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
    if (size > MAX_PAYLOAD_BYTES)
      return { ok: false, code: 301, reason: `payload of ${size} bytes exceeds ${MAX_PAYLOAD_BYTES}` };
    let limit: BatchLimitName | undefined;
    const parsed = parseRequest<E[]>(payload, (params) => {
      const checked = checkEntries<E>(kind, params, 'params', options);
      if (checked.ok) return { ok: true, params: checked.entries };
      limit = checked.limit;
      return { ok: false, code: checked.code, reason: checked.reason };
    });
    if (parsed.ok) return { ok: true, request: parsed.value };
    const refused: BatchParseResult<E[]> = { ok: false, code: parsed.code, reason: parsed.reason };
    if (parsed.id !== undefined) refused.id = parsed.id;
    if (limit !== undefined) refused.limit = limit;
    return refused;
  } catch (error) {
    // Nothing above should throw; this keeps the promise of the signature whatever the input.
    return { ok: false, code: 301, reason: `unreadable request: ${String((error as Error)?.message)}` };
  }
}

/** Never throws, whatever the input; returns the parsed request or the reason it is refused. */
export function parseHistoryPost(
  payload: Buffer | string,
  options: BatchParseOptions = {},
): BatchParseResult<HistoryEntry[]> {
  return parse<HistoryEntry>('history', payload, options);
}

/** Never throws, whatever the input; returns the parsed request or the reason it is refused. */
export function parsePackPost(
  payload: Buffer | string,
  options: BatchParseOptions = {},
): BatchParseResult<PackEntry[]> {
  return parse<PackEntry>('pack', payload, options);
}
