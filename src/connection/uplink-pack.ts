import {
  BATCH_LIMITS,
  MAX_PAYLOAD_BYTES,
  subDeviceKey,
  type HistoryEntry,
  type HistoryValue,
  type PackEntry,
  type SubDeviceIdentity,
  type TimedValue,
} from '../protocol';
import { takeValue, timed, unsentOf } from './uplink-merge';
import type { RequestEntry } from './uplink-types';

/**
 * How the scheduler folds waiting sub-device posts into the gateway's batch messages
 * (onenet-next.md §Q2 step 6, §Q3), as uplink-merge.ts does for the gateway's own posts:
 * - pack/post carries the newest waiting value of each property of each sub-device, and the oldest
 *   waiting value of each of its event identifiers;
 * - history/post, entries with `identity`, carries the values a newer waiting post of the same
 *   sub-device overwrote and the later events of one identifier, each with its time.
 * Both keep to at most 10 identities, 100 points each (properties and events together, the stricter
 * reading of batch-posts.ts), 100 values per point (history) and 256 KB; what does not fit waits
 * for the next message. Every value carries its time (the flow's, else when the post was accepted).
 * Each function takes the values it puts into the message out of the entries' `unsent` sets;
 * entries are given in acceptance order.
 */

/** Room kept below OneNET's 256 KB for the envelope and the estimate's slack. */
const PAYLOAD_BUDGET = MAX_PAYLOAD_BYTES - 4096;

export interface MergedPack {
  entries: PackEntry[];
  members: RequestEntry[];
}

export interface MergedPackHistory {
  entries: HistoryEntry[];
  members: RequestEntry[];
}

/**
 * Newest value sent live of each point of each sub-device, so an older one never follows it into
 * pack/post: the key is pointKey(), the value the seq of the entry that carried it.
 */
export type SentLive = Map<string, number>;

/** One identifier of one sub-device ('\n' appears in neither an identity nor an identifier). */
function pointKey(identity: SubDeviceIdentity, identifier: string): string {
  return `${subDeviceKey(identity)}\n${identifier}`;
}

function sizeOf(identifier: string, value: HistoryValue): number {
  // The identifier, quotes and separators, and the {"value":…,"time":…} object.
  return identifier.length + 4 + Buffer.byteLength(JSON.stringify(value));
}

/** The entry carrying the newest waiting value of each property point. */
function newestProperties(entries: readonly RequestEntry[]): Map<string, RequestEntry> {
  const newest = new Map<string, RequestEntry>();
  for (const entry of entries) {
    if (!entry.identity || entry.kind !== 'property-post') continue;
    for (const identifier of unsentOf(entry)) newest.set(pointKey(entry.identity, identifier), entry);
  }
  return newest;
}

/**
 * Where a waiting value goes: 'pack' (the newest of its property, unless a newer one already went
 * live; the first waiting event of its identifier) or 'history' (everything else).
 */
type Route = (entry: RequestEntry, identifier: string) => 'pack' | 'history';

function router(entries: readonly RequestEntry[], sentLive: SentLive): Route {
  const newest = newestProperties(entries);
  const firstEvent = new Map<string, RequestEntry>();
  for (const entry of entries) {
    if (!entry.identity || entry.kind !== 'event-post') continue;
    for (const identifier of unsentOf(entry)) {
      const key = pointKey(entry.identity, identifier);
      if (!firstEvent.has(key)) firstEvent.set(key, entry);
    }
  }
  return (entry, identifier) => {
    const key = pointKey(entry.identity!, identifier);
    if (entry.kind === 'event-post') return firstEvent.get(key) === entry ? 'pack' : 'history';
    return newest.get(key) === entry && (sentLive.get(key) ?? -1) < entry.seq ? 'pack' : 'history';
  };
}

/** Which of the two gateway lanes some waiting sub-device value belongs in (one pass for both). */
export function packLanesWaiting(
  entries: readonly RequestEntry[],
  sentLive: SentLive,
): { pack: boolean; history: boolean } {
  const waiting = { pack: false, history: false };
  if (entries.length === 0) return waiting;
  const route = router(entries, sentLive);
  for (const entry of entries) {
    if (!entry.identity) continue;
    for (const identifier of unsentOf(entry)) {
      waiting[route(entry, identifier)] = true;
      if (waiting.pack && waiting.history) return waiting;
    }
  }
  return waiting;
}

/**
 * Whether a newer value of one of the entry's properties already went out in a pack/post: the
 * entry must then not go out alone (its older value would replace the newer as the latest), and
 * its values go to history instead.
 */
export function overtakenInPack(entry: RequestEntry, sentLive: SentLive): boolean {
  if (!entry.identity || entry.kind !== 'property-post') return false;
  for (const identifier of unsentOf(entry))
    if ((sentLive.get(pointKey(entry.identity, identifier)) ?? -1) > entry.seq) return true;
  return false;
}

interface Slot<M> {
  entry: { identity: SubDeviceIdentity; properties?: M; events?: M };
  points: number;
}

/** Collects the values of one message, identity by identity in order of arrival, within the limits. */
class BatchBuilder<V> {
  private readonly slots = new Map<string, Slot<Record<string, V>>>();
  private readonly members = new Set<RequestEntry>();
  private bytes = 0;

  /** `append`: the point with `value` added (history: one more in its list), undefined to refuse it (pack: one value a point). */
  constructor(
    private readonly append: (point: V | undefined, value: HistoryValue) => V | undefined,
    private readonly valuesIn: (point: V) => number,
  ) {}

  /** Whether the value went into the message (else it waits for a later one). */
  add(entry: RequestEntry, identifier: string): boolean {
    const identity = entry.identity!;
    const key = subDeviceKey(identity);
    let slot = this.slots.get(key);
    if (!slot && this.slots.size >= BATCH_LIMITS.devicesPerMessage) return false;
    const section = entry.kind === 'event-post' ? 'events' : 'properties';
    const point = slot?.entry[section]?.[identifier];
    if (point === undefined && (slot?.points ?? 0) >= BATCH_LIMITS.pointsPerDevice) return false;
    if (point !== undefined && this.valuesIn(point) >= BATCH_LIMITS.valuesPerPoint) return false;
    const value = timed(entry, identifier);
    const size = sizeOf(identifier, value);
    if (this.bytes > 0 && this.bytes + size > PAYLOAD_BUDGET) return false; // goes in the next message
    const next = this.append(point, value);
    if (next === undefined) return false;
    if (!slot) {
      slot = {
        entry: { identity: { productID: identity.productID, deviceName: identity.deviceName } },
        points: 0,
      };
      this.slots.set(key, slot);
    }
    const map = (slot.entry[section] ??= {});
    if (point === undefined) slot.points++;
    map[identifier] = next;
    this.bytes += size;
    takeValue(entry, identifier);
    this.members.add(entry);
    return true;
  }

  result(): { entries: Array<Slot<Record<string, V>>['entry']>; members: RequestEntry[] } {
    return { entries: [...this.slots.values()].map((slot) => slot.entry), members: [...this.members] };
  }
}

/** One pack/post: the newest value of each property and the oldest of each event, per sub-device. */
export function takePack(entries: readonly RequestEntry[], sentLive: SentLive): MergedPack {
  const route = router(entries, sentLive);
  const pack = new BatchBuilder<TimedValue>(
    (point, value) => (point === undefined ? value : undefined),
    () => 1,
  );
  for (const entry of entries) {
    if (!entry.identity) continue;
    for (const identifier of [...unsentOf(entry)]) {
      if (
        route(entry, identifier) === 'pack' &&
        pack.add(entry, identifier) &&
        entry.kind === 'property-post'
      )
        sentLive.set(pointKey(entry.identity, identifier), entry.seq);
    }
  }
  return pack.result();
}

/** One history/post (entries with identity): the overwritten properties and the later events, oldest first. */
export function takePackHistory(entries: readonly RequestEntry[], sentLive: SentLive): MergedPackHistory {
  const route = router(entries, sentLive);
  const history = new BatchBuilder<HistoryValue[]>(
    (point, value) => {
      if (!point) return [value];
      point.push(value);
      return point;
    },
    (point) => point.length,
  );
  for (const entry of entries) {
    if (!entry.identity) continue;
    for (const identifier of [...unsentOf(entry)])
      if (route(entry, identifier) === 'history') history.add(entry, identifier);
  }
  return history.result();
}
