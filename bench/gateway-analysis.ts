import type { RateViolation, StoredValue, UplinkLogRecord } from './emulator-process';
import type { GatewayPost } from './gateway-flow';
import { percentileOfSorted, summariseLatencies, type LatencySummary } from './stats';

/**
 * What the gateway benchmark concludes from one run: the driver's record of every post, matched
 * value by value to what the emulator stored for each sub-device, and the gateway's uplinks as the
 * emulator received them. A value is "delivered" when its post succeeded and the emulator stored it
 * exactly once with the time the flow posted it; "lost" when its post succeeded (or never settled)
 * and the emulator has no such value. Posts that failed are counted by reason, apart from losses:
 * the flow was told, and can retry or store them.
 */

/**
 * A stored value has its original time when it is at most this much after the flow sent the post
 * (the connection stamps the time it accepted it). Each value is the post's own number, so no
 * value can pass with another post's time.
 */
export const TIME_TOLERANCE_MS = 100;
const WINDOW_MS = 10_000;

export interface PostFigures {
  posts: number;
  ok: number;
  failed: number;
  unsettled: number;
  failedBy: Record<string, number>;
  valuesDelivered: number;
  valuesLost: number;
  valuesDuplicated: number;
  /** Stored once, but with a time outside 0…TIME_TOLERANCE_MS after the flow sent it. */
  valuesOffTime: number;
  /** Posts that failed (e.g. timed out after they were sent) whose value the emulator stored anyway. */
  storedThoughFailed: number;
  /** Stored time − the flow's send time over the values found (ms). */
  timeOffset: { p50: number; min: number; max: number };
  /** End to end: when the emulator stored the value − when the flow sent the post (delivered values). */
  lag: LatencySummary;
  /** The flow's view: sent → settled on the post node's output (succeeded posts). */
  settle: LatencySummary;
  /** Values stored per pack/post and history/post (of the gateway) the emulator received. */
  valuesPerMessage: number;
}

export interface UplinkFigures {
  byKind: Record<string, number>;
  /** In the posting window: uplinks, uplinks a second, the most in any 10 s, and over the emulator's limit. */
  inWindow: number;
  perSecond: number;
  maxIn10s: number;
  violations: number;
}

export interface LoginFigures {
  /** sub/login and topo/add requests the emulator received during the run. */
  logins: number;
  topoAdds: number;
  /** From the deploy to the emulator receiving the last of `count` sub/logins (ms; NaN: not all). */
  allLoggedInMs: number;
  /** How long after the deploy the run watched, and the sub/logins received by then. */
  windowMs: number;
  loginsInWindow: number;
}

export function postFigures(
  posts: readonly GatewayPost[],
  total: number,
  stored: readonly (readonly StoredValue[])[],
  /** pack/posts and history/posts the emulator received during the run. */
  packs: number,
): PostFigures {
  let ok = 0;
  let failed = 0;
  const failedBy: Record<string, number> = {};
  let delivered = 0;
  let lost = 0;
  let duplicated = 0;
  let offTime = 0;
  let storedThoughFailed = 0;
  const offsets: number[] = [];
  const lags: number[] = [];
  const settles: number[] = [];
  // Per sub-device: post number → the values stored with that number.
  const found = stored.map((values) => {
    const byValue = new Map<number, StoredValue[]>();
    for (const value of values) {
      const key = Number(value.value);
      const list = byValue.get(key);
      if (list) list.push(value);
      else byValue.set(key, [value]);
    }
    return byValue;
  });
  for (const [device, seq, sentAt, settledAt, okFlag, reason] of posts) {
    const copies = found[device]?.get(seq) ?? [];
    if (settledAt !== 0 && okFlag === 0) {
      failed++;
      failedBy[reason] = (failedBy[reason] ?? 0) + 1;
      if (copies.length > 0) storedThoughFailed++;
      continue;
    }
    if (okFlag === 1) {
      ok++;
      settles.push(settledAt - sentAt);
    }
    if (copies.length === 0) {
      lost++;
      continue;
    }
    if (copies.length > 1) duplicated++;
    const first = copies[0]!;
    const offset = first.time - sentAt;
    offsets.push(offset);
    if (copies.length === 1 && offset >= 0 && offset <= TIME_TOLERANCE_MS) {
      delivered++;
      lags.push(first.receivedAt - sentAt);
    } else if (copies.length === 1) offTime++;
  }
  offsets.sort((a, b) => a - b);
  const storedInAll = stored.reduce((sum, values) => sum + values.length, 0);
  return {
    posts: total,
    ok,
    failed,
    unsettled: total - ok - failed,
    failedBy,
    valuesDelivered: delivered,
    valuesLost: lost + (total - posts.length),
    valuesDuplicated: duplicated,
    valuesOffTime: offTime,
    storedThoughFailed,
    timeOffset: {
      p50: percentileOfSorted(offsets, 50),
      min: offsets[0] ?? Number.NaN,
      max: offsets[offsets.length - 1] ?? Number.NaN,
    },
    lag: summariseLatencies(lags),
    settle: summariseLatencies(settles),
    valuesPerMessage: packs > 0 ? storedInAll / packs : Number.NaN,
  };
}

export function uplinkFigures(
  uplinks: readonly UplinkLogRecord[],
  violations: readonly RateViolation[],
  from: number,
  to: number,
): UplinkFigures {
  const byKind: Record<string, number> = {};
  for (const uplink of uplinks) byKind[uplink.kind] = (byKind[uplink.kind] ?? 0) + 1;
  const arrivals = uplinks
    .map((uplink) => uplink.receivedAt)
    .filter((at) => at >= from && at < to)
    .sort((a, b) => a - b);
  let maxIn10s = 0;
  for (let i = 0, j = 0; i < arrivals.length; i++) {
    while (arrivals[j]! < arrivals[i]! - WINDOW_MS + 1) j++;
    maxIn10s = Math.max(maxIn10s, i - j + 1);
  }
  return {
    byKind,
    inWindow: arrivals.length,
    perSecond: to > from ? (arrivals.length / (to - from)) * 1000 : Number.NaN,
    maxIn10s,
    violations: violations.length,
  };
}

export function loginFigures(
  uplinks: readonly UplinkLogRecord[],
  count: number,
  deployedAt: number,
  windowMs: number,
): LoginFigures {
  // Only this deploy's: the memory baseline's flow logged one sub-device in before it.
  const since = uplinks.filter((uplink) => uplink.receivedAt >= deployedAt);
  const logins = since
    .filter((uplink) => uplink.kind === 'sub-login')
    .map((uplink) => uplink.receivedAt - deployedAt)
    .sort((a, b) => a - b);
  return {
    logins: logins.length,
    topoAdds: since.filter((uplink) => uplink.kind === 'sub-topo-add').length,
    allLoggedInMs: logins.length >= count ? logins[count - 1]! : Number.NaN,
    windowMs,
    loginsInWindow: logins.filter((ms) => ms <= windowMs).length,
  };
}
