import { BATCH_LIMITS, MAX_PAYLOAD_BYTES, subDeviceKey, type PackEntry, type TimedValue } from '../protocol';
import { takeValue, timed, unsentOf } from './uplink-merge';
import type { RequestEntry } from './uplink-types';

/**
 * How the scheduler folds waiting sub-device posts into one pack/post (onenet-next.md §Q2 step 6):
 * at most 10 identities, at most 100 points each, one value per identifier and identity. Each
 * identifier takes its oldest waiting value, so a newer one follows in the next pack/post and
 * nothing is lost; every value carries its time (the flow's, else when the post was accepted).
 */

/** Room kept below OneNET's 256 KB for the envelope and the estimate's slack. */
const PAYLOAD_BUDGET = MAX_PAYLOAD_BYTES - 4096;

export interface MergedPack {
  entries: PackEntry[];
  members: RequestEntry[];
}

/** Takes the values of one pack/post out of `entries` (sub-device posts, in acceptance order). */
export function takePack(entries: readonly RequestEntry[]): MergedPack {
  const byIdentity = new Map<string, { entry: PackEntry; points: number }>();
  const members = new Set<RequestEntry>();
  let bytes = 0;
  for (const request of entries) {
    const identity = request.identity;
    if (!identity) continue;
    const key = subDeviceKey(identity);
    let slot = byIdentity.get(key);
    if (!slot) {
      if (byIdentity.size >= BATCH_LIMITS.devicesPerMessage) continue;
      slot = {
        entry: { identity: { productID: identity.productID, deviceName: identity.deviceName } },
        points: 0,
      };
      byIdentity.set(key, slot);
    }
    const mapName = request.kind === 'event-post' ? 'events' : 'properties';
    for (const identifier of [...unsentOf(request)]) {
      if (slot.points >= BATCH_LIMITS.pointsPerDevice) break;
      const map: Record<string, TimedValue> = (slot.entry[mapName] ??= {});
      if (identifier in map) continue;
      const value = timed(request, identifier);
      const size = identifier.length + 4 + Buffer.byteLength(JSON.stringify(value));
      if (bytes > 0 && bytes + size > PAYLOAD_BUDGET) continue;
      bytes += size;
      map[identifier] = value;
      slot.points++;
      takeValue(request, identifier);
      members.add(request);
    }
  }
  const packed = [...byIdentity.values()]
    .map((slot) => slot.entry)
    .filter((entry) => entry.properties ?? entry.events);
  return { entries: packed, members: [...members] };
}
