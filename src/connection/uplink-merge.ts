import {
  buildRequest,
  MAX_PAYLOAD_BYTES,
  serializeMessage,
  type HistoryValue,
  type TimedValue,
} from '../protocol';
import type { RequestEntry } from './uplink-types';

/**
 * How the scheduler folds waiting posts into fewer messages when they come faster than the uplink
 * rate (issue "Uplink scheduler"; DESIGN.md §4). Nothing measured is lost and every value keeps
 * the time it was accepted:
 * - the newest waiting value of each property goes out in one property/post, with its time;
 * - values a newer waiting post overwrote go out in a history/post, each with its time;
 * - events are never merged away: one event/post carries the oldest waiting value of each event
 *   identifier, and the later ones of the same identifier go in the history/post's `events`, each
 *   with its time. (Whether OneNET's rule engine and push see events that arrive by history post
 *   is UNCONFIRMED, onenet-next.md §3.2; they are stored with their times either way.)
 * Each function takes the values it puts into the message out of the entries' `unsent` sets and
 * returns the entries the message carries. Entries are given in acceptance order.
 */

/** Room kept below OneNET's 256 KB for the envelope and the estimate's slack. */
const PAYLOAD_BUDGET = MAX_PAYLOAD_BYTES - 4096;
/** onenet-next.md §Q3: per device at most 100 points, each with at most 100 history values. */
const HISTORY_POINTS = 100;
const HISTORY_VALUES_PER_POINT = 100;

export interface MergedPost {
  params: Record<string, TimedValue>;
  members: RequestEntry[];
}

export interface MergedHistory {
  properties: Record<string, HistoryValue[]>;
  events: Record<string, HistoryValue[]>;
  members: RequestEntry[];
}

/** The identifiers of an entry still to send (all of them while it is whole). */
export function unsentOf(entry: RequestEntry): Iterable<string> {
  return entry.unsent ?? Object.keys(entry.values);
}

export function takeValue(entry: RequestEntry, identifier: string): void {
  entry.unsent ??= new Set(Object.keys(entry.values));
  entry.unsent.delete(identifier);
}

/** The value with the time it was accepted when the flow gave none. */
export function timed(entry: RequestEntry, identifier: string): HistoryValue {
  const { value, time } = entry.values[identifier]!;
  return { value, time: time ?? entry.createdAt };
}

function sizeOf(identifier: string, value: HistoryValue): number {
  // The identifier, quotes and separators, and the {"value":…,"time":…} object.
  return identifier.length + 4 + Buffer.byteLength(JSON.stringify(value));
}

/**
 * The newest waiting value of each property, unless a newer one of that property already went out
 * live (`sentLive`: identifier → seq of the last value sent in a property/post), which the older
 * one must not replace as the property's latest value.
 */
function newestPending(entries: readonly RequestEntry[]): Map<string, RequestEntry> {
  const newest = new Map<string, RequestEntry>();
  for (const entry of entries) for (const identifier of unsentOf(entry)) newest.set(identifier, entry);
  return newest;
}

function isLive(
  entry: RequestEntry,
  identifier: string,
  newest: Map<string, RequestEntry>,
  sentLive: Map<string, number>,
): boolean {
  return newest.get(identifier) === entry && (sentLive.get(identifier) ?? -1) < entry.seq;
}

/** Whether some waiting value would go to history: an overwritten property, a second event of one identifier. */
export function hasHistory(
  properties: readonly RequestEntry[],
  events: readonly RequestEntry[],
  sentLive: Map<string, number>,
): boolean {
  const newest = newestPending(properties);
  for (const entry of properties)
    for (const identifier of unsentOf(entry)) if (!isLive(entry, identifier, newest, sentLive)) return true;
  const seen = new Set<string>();
  for (const entry of events)
    for (const identifier of unsentOf(entry)) {
      if (seen.has(identifier)) return true;
      seen.add(identifier);
    }
  return false;
}

/**
 * Whether a newer value of one of the entry's properties already went out in a property/post: the
 * entry must then not go out alone (its older value would replace the newer as the latest), and
 * its values go to history instead.
 */
export function overtakenLive(entry: RequestEntry, sentLive: Map<string, number>): boolean {
  if (entry.kind !== 'property-post') return false;
  for (const identifier of unsentOf(entry)) if ((sentLive.get(identifier) ?? -1) > entry.seq) return true;
  return false;
}

/** Whether some waiting property value is the newest of its property. */
export function hasLive(entries: readonly RequestEntry[], sentLive: Map<string, number>): boolean {
  const newest = newestPending(entries);
  for (const [identifier, entry] of newest) if (isLive(entry, identifier, newest, sentLive)) return true;
  return false;
}

/** One property/post with the newest value of every property that waits (see the module comment). */
export function takeLatestProperties(
  entries: readonly RequestEntry[],
  sentLive: Map<string, number>,
): MergedPost {
  const newest = newestPending(entries);
  const params: Record<string, TimedValue> = {};
  const members = new Set<RequestEntry>();
  let bytes = 0;
  for (const [identifier, entry] of newest) {
    if (!isLive(entry, identifier, newest, sentLive)) continue;
    const value = timed(entry, identifier);
    const size = sizeOf(identifier, value);
    if (bytes > 0 && bytes + size > PAYLOAD_BUDGET) continue; // goes in the next message
    bytes += size;
    params[identifier] = value;
    sentLive.set(identifier, entry.seq);
    takeValue(entry, identifier);
    members.add(entry);
  }
  return { params, members: [...members] };
}

/**
 * One history/post with the property values newer posts overwrote and the events that wait behind
 * an older one of the same identifier, oldest first, within OneNET's limits.
 */
export function takeHistory(
  properties: readonly RequestEntry[],
  events: readonly RequestEntry[],
  sentLive: Map<string, number>,
): MergedHistory {
  const newest = newestPending(properties);
  const history: MergedHistory = { properties: {}, events: {}, members: [] };
  const members = new Set<RequestEntry>();
  const budget = { points: 0, bytes: 0 };
  for (const entry of properties)
    for (const identifier of [...unsentOf(entry)])
      if (
        !isLive(entry, identifier, newest, sentLive) &&
        addToHistory(history.properties, entry, identifier, budget)
      )
        members.add(entry);
  const firstEvent = new Set<string>();
  for (const entry of events)
    for (const identifier of [...unsentOf(entry)]) {
      if (!firstEvent.has(identifier)) {
        firstEvent.add(identifier); // the oldest goes by event/post
        continue;
      }
      if (addToHistory(history.events, entry, identifier, budget)) members.add(entry);
    }
  history.members = [...members];
  return history;
}

function addToHistory(
  into: Record<string, HistoryValue[]>,
  entry: RequestEntry,
  identifier: string,
  budget: { points: number; bytes: number },
): boolean {
  let values = into[identifier];
  if (!values && budget.points >= HISTORY_POINTS) return false;
  if (values && values.length >= HISTORY_VALUES_PER_POINT) return false;
  const value = timed(entry, identifier);
  const size = sizeOf(identifier, value);
  if (budget.bytes > 0 && budget.bytes + size > PAYLOAD_BUDGET) return false;
  if (!values) {
    values = into[identifier] = [];
    budget.points++;
  }
  budget.bytes += size;
  values.push(value);
  takeValue(entry, identifier);
  return true;
}

/** One event/post with the oldest waiting value of each event identifier. */
export function takeEvents(entries: readonly RequestEntry[]): MergedPost {
  const params: Record<string, TimedValue> = {};
  const members: RequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    for (const identifier of [...unsentOf(entry)]) {
      if (identifier in params) continue;
      const value = timed(entry, identifier);
      const size = sizeOf(identifier, value);
      if (bytes > 0 && bytes + size > PAYLOAD_BUDGET) continue;
      bytes += size;
      params[identifier] = value;
      takeValue(entry, identifier);
      members.push(entry);
    }
  }
  return { params, members };
}

/** Whether every value of the entry has gone into a message. */
export function fullyTaken(entry: RequestEntry): boolean {
  return entry.unsent !== undefined && entry.unsent.size === 0;
}

/**
 * The entry's own message with the time it was accepted on every value that has none: for a post
 * that waited (for the uplink budget, or in the offline queue), so OneNET records when it was
 * measured, not when it arrived. Unchanged when every value has its time.
 */
export function stampedPayload(entry: RequestEntry): Buffer {
  const values = Object.entries(entry.values);
  if (values.every(([, timed]) => timed.time !== undefined)) return entry.payload;
  const params = Object.fromEntries(
    values.map(([identifier, timed]) => [
      identifier,
      { value: timed.value, time: timed.time ?? entry.createdAt },
    ]),
  );
  return serializeMessage(buildRequest(entry.id, params));
}
