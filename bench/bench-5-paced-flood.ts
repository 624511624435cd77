import { benchDevice, type BenchDevice } from './devices';
import type { RateViolation, StoredValue, UplinkLogRecord } from './emulator-process';
import type { FloodPost } from './flow-helpers';
import { floodPart, flowOf } from './flows';
import { problemLines, startBenchNodeRed } from './node-red-harness';
import { ForeignLoad } from './proc-stats';
import { withCleanup, type BenchContext, type BenchReport, type Goal } from './report';
import { formatTable, percentileOfSorted } from './stats';
import { EmulatorWorker } from './workers';

/**
 * #6 Paced flood: one device, a Node-RED flow posting 10 properties every 100 ms (10 posts a second)
 * through onenet-property-post (reply awaited, the node's default 5 s timeout) at the default
 * uplinkRate 1 (burst 3), into the emulator limiting each device to 1 publish a second with a burst
 * of 3 in `delay` mode. Beside it, in the same run and against the same emulator, the baseline: the
 * same flow with uplinkRate 0 (no pacing, the behaviour before the uplink scheduler).
 *
 * Why the emulator's `delay` mode: it never hides an excess. Every publish beyond the allowance is
 * recorded when it arrives (rateViolations), so with none recorded the emulator's handling times are
 * the arrival times and the 10 s windows count what the client sent; and it is what OneNET Studio's
 * documents describe ("delayed to the next second"), so the baseline shows what an unpaced device
 * gets there: nothing refused, but every reply later than the one before. `off` would show arrivals
 * without judging them; `disconnect`/`ban` would turn the first excess into reconnects (or a 5 minute
 * ban) and the baseline would measure those instead of the growing wait.
 *
 * Measured: the flow's own timing of every post (sent → settled on the post node's output or a Catch
 * node) and msg.onenet (latencyMs, merged); the emulator's arrival time and kind of every accepted
 * publish, its rate-limit violations, and every property value it stored with its time
 * (propertyHistory), matched value by value to the post that carried it.
 */

const RATE_LIMIT = { perSecond: 1, burst: 3, mode: 'delay' as const };
const INTERVAL_MS = 100;
const PROPERTIES = 10;
const WINDOW_MS = 10_000;
const GOAL_P99_MS = 2500;
/** The goal's "at most 10 + burst in any 10 s window". */
const GOAL_WINDOW_MAX = (WINDOW_MS / 1000) * RATE_LIMIT.perSecond + RATE_LIMIT.burst;
/** The post node's default timeout (DEFAULT_POST_TIMEOUT_MS) plus a margin: every post has settled by then. */
const SETTLE_MS = 5000 + 2000;
/**
 * A stored value has "its original time" when it is at most this much after the flow sent it (the
 * connection stamps the time it accepted the post, a few ms after the flow's send). Below the 100 ms
 * between posts, so no value can pass with another post's time.
 */
const TIME_TOLERANCE_MS = 50;

type SideName = 'paced' | 'unpaced';

const LABELS: Record<SideName, string> = {
  paced: 'uplinkRate 1 (default): paced and merged',
  unpaced: 'uplinkRate 0 (baseline): unpaced',
};

interface WindowRow {
  fromS: number;
  /** Flow side, for the posts sent in the window. */
  sent: number;
  ok: number;
  failed: number;
  settleP50Ms: number;
  settleP99Ms: number;
  /** Emulator side, for what it handled in the window. */
  uplinks: number;
  /** Handled time minus the flow's send time, median over the posts whose values were stored in the window. */
  storedAgeP50Ms: number;
  /** Publishes that arrived in the window beyond the allowance, and the longest the emulator held one. */
  violations: number;
  maxDelayMs: number;
}

interface OffTime {
  seq: number;
  identifier: string;
  via: string;
  /** Stored time − the flow's send time, and when the emulator stored it, from the same start. */
  timeOffsetMs: number;
  storedAfterMs: number;
  copies: number;
  /** msg.onenet.merged of the post: 1 means it went out alone, with its own payload. */
  merged?: number;
}

interface SideResult {
  side: SideName;
  uplinkRate: string;
  posts: number;
  ok: number;
  failed: number;
  failedBy: Record<string, number>;
  unsettled: number;
  /** Flow timing: sent → settled (a post not settled counts as infinitely late). */
  settle: { p50: number; p90: number; p99: number; max: number };
  /** msg.onenet.latencyMs of the posts that succeeded. */
  onenetLatency: { p50: number; p99: number; max: number };
  merged: { mean: number; max: number };
  uplinks: number;
  uplinksByKind: Record<string, number>;
  maxIn10s: number;
  violations: number;
  maxDelayMs: number;
  valuesSent: number;
  valuesStored: number;
  /** Values stored exactly once, with a time 0…TIME_TOLERANCE_MS ms after the flow sent them. */
  valuesWithTheirTime: number;
  valuesMissing: number;
  valuesDuplicated: number;
  /** stored time − flow send time over the values found: median, min and max (ms). */
  timeOffsetMs: { p50: number; min: number; max: number };
  storedVia: Record<string, number>;
  /** The first values stored without their time (or more than once): which post, which topic, how late. */
  offTime: OffTime[];
  windows: WindowRow[];
  foreignLoadPercent: number;
  elapsedMs: number;
}

export async function runPacedFlood(context: BenchContext): Promise<BenchReport> {
  const seconds = context.quick ? 15 : 60;
  const count = (seconds * 1000) / INTERVAL_MS;
  const devices: Record<SideName, BenchDevice> = {
    paced: benchDevice('flood-paced'),
    unpaced: benchDevice('flood-unpaced'),
  };
  return withCleanup(async (defer) => {
    const emulator = await EmulatorWorker.start(Object.values(devices), {
      uplinkRateLimit: RATE_LIMIT,
      recordUplinks: true,
    });
    defer(() => emulator.stop());
    const nodeRed = await startBenchNodeRed(
      context.cpuProfileDir ? { cpuProfileDir: context.cpuProfileDir } : {},
    );
    defer(() => nodeRed.stop());

    await emulator.mark();
    await nodeRed.deploy(
      flowOf([
        ...floodPart('paced', devices.paced, emulator.port, '1'),
        ...floodPart('unpaced', devices.unpaced, emulator.port, '0'),
      ]),
    );
    await emulator.waitMarked({ connects: 2, subscribes: 2, timeoutMs: 20_000 });
    // Only what Node-RED says during the floods counts (its start-up and first-deploy notices, such
    // as "Encrypted credentials not found", do not).
    const logStart = nodeRed.log.length;

    const results: SideResult[] = [];
    // The paced side first: the baseline leaves the emulator holding a backlog it needs minutes to
    // work through (of the other device, so it would not count against this one, but it keeps the
    // emulator busier while it is measured).
    for (const side of ['paced', 'unpaced'] as const) {
      const device = devices[side];
      const foreign = new ForeignLoad([emulator.pid, nodeRed.pid]);
      const started = Date.now();
      const answer = await nodeRed.get<{ posts: FloodPost[]; settled: number }>(
        `/bench/${side}/flood`,
        { count, intervalMs: INTERVAL_MS, properties: PROPERTIES, settleMs: SETTLE_MS },
        (seconds + 60) * 1000,
      );
      const elapsedMs = Date.now() - started;
      const foreignLoadPercent = foreign.percent();
      const [uplinks, stored, violations] = await Promise.all([
        emulator.uplinkLog(device),
        emulator.propertyHistory(device),
        emulator.rateViolations(device),
      ]);
      const result = analyse(side, answer.posts, count, uplinks, stored, violations, started);
      result.foreignLoadPercent = foreignLoadPercent;
      result.elapsedMs = elapsedMs;
      results.push(result);
      context.progress(
        `  #6 ${side}: ${result.ok}/${count} ok, ${result.failed} failed, settle p50 ${fmtMs(result.settle.p50)} ` +
          `p99 ${fmtMs(result.settle.p99)}; ${result.uplinks} uplinks (max ${result.maxIn10s} in 10 s), ` +
          `${result.violations} over the limit; ${result.valuesWithTheirTime}/${result.valuesSent} values ` +
          `stored with their time; other load ${foreignLoadPercent.toFixed(0)} %`,
      );
    }
    const problems = problemLines(nodeRed.log.slice(logStart));
    return report(seconds, count, results, problems);
  });
}

function analyse(
  side: SideName,
  posts: FloodPost[],
  count: number,
  uplinks: UplinkLogRecord[],
  stored: StoredValue[],
  violations: RateViolation[],
  started: number,
): SideResult {
  const settled = posts.filter((p) => p.settledPerf !== undefined);
  const ok = settled.filter((p) => p.ok);
  const failedBy: Record<string, number> = {};
  for (const p of settled)
    if (!p.ok) failedBy[p.reason ?? 'other'] = (failedBy[p.reason ?? 'other'] ?? 0) + 1;
  const settleOf = (p: FloodPost): number =>
    p.settledPerf === undefined ? Number.POSITIVE_INFINITY : p.settledPerf - p.sentPerf;
  const settleTimes = posts.map(settleOf).sort((a, b) => a - b);
  while (settleTimes.length < count) settleTimes.push(Number.POSITIVE_INFINITY);
  const latencies = ok.map((p) => p.latencyMs ?? Number.NaN).sort((a, b) => a - b);
  const merged = ok.map((p) => p.merged ?? 1);

  // Values: post seq carried p0…p9 = seq; find each exactly once, with its time.
  const byKey = new Map<string, StoredValue[]>();
  for (const value of stored) {
    const key = `${value.identifier}/${String(value.value)}`;
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(value);
  }
  let withTheirTime = 0;
  let missing = 0;
  let duplicated = 0;
  const offsets: number[] = [];
  const offTime: OffTime[] = [];
  const storedVia: Record<string, number> = {};
  for (const value of stored) storedVia[value.via] = (storedVia[value.via] ?? 0) + 1;
  for (const post of posts) {
    for (let i = 0; i < PROPERTIES; i++) {
      const found = byKey.get(`p${i}/${post.seq}`) ?? [];
      if (found.length === 0) {
        missing++;
        continue;
      }
      if (found.length > 1) duplicated++;
      const offset = found[0]!.time - post.sentAt;
      offsets.push(offset);
      if (found.length === 1 && offset >= 0 && offset <= TIME_TOLERANCE_MS) withTheirTime++;
      else if (offTime.length < 20) {
        const mismatch: OffTime = {
          seq: post.seq,
          identifier: `p${i}`,
          via: found[0]!.via,
          timeOffsetMs: offset,
          storedAfterMs: found[0]!.receivedAt - post.sentAt,
          copies: found.length,
        };
        if (post.merged !== undefined) mismatch.merged = post.merged;
        offTime.push(mismatch);
      }
    }
  }
  offsets.sort((a, b) => a - b);
  missing += (count - posts.length) * PROPERTIES;

  const arrivals = uplinks.map((u) => u.receivedAt).sort((a, b) => a - b);
  let maxIn10s = 0;
  for (let i = 0, j = 0; i < arrivals.length; i++) {
    while (arrivals[j]! < arrivals[i]! - WINDOW_MS + 1) j++;
    maxIn10s = Math.max(maxIn10s, i - j + 1);
  }
  const uplinksByKind: Record<string, number> = {};
  for (const u of uplinks) uplinksByKind[u.kind] = (uplinksByKind[u.kind] ?? 0) + 1;

  // Per 10 s of the run: the posts sent in it (flow side), what the emulator handled in it.
  const sentAtOf = new Map(posts.map((p) => [p.seq, p.sentAt]));
  const windows: WindowRow[] = [];
  const lastAt = Math.max(started, ...posts.map((p) => p.sentAt), ...arrivals);
  for (let from = started; from <= lastAt; from += WINDOW_MS) {
    const to = from + WINDOW_MS;
    const sentHere = posts.filter((p) => p.sentAt >= from && p.sentAt < to);
    const settleHere = sentHere.map(settleOf).sort((a, b) => a - b);
    // One age per post (its p0 value), by the time the emulator stored it.
    const ages = stored
      .filter((v) => v.identifier === 'p0' && v.receivedAt >= from && v.receivedAt < to)
      .map((v) => v.receivedAt - (sentAtOf.get(Number(v.value)) ?? Number.NaN))
      .sort((a, b) => a - b);
    const violationsHere = violations.filter((v) => v.at >= from && v.at < to);
    windows.push({
      fromS: Math.round((from - started) / 1000),
      sent: sentHere.length,
      ok: sentHere.filter((p) => p.ok).length,
      failed: sentHere.filter((p) => p.ok === false).length,
      settleP50Ms: percentileOfSorted(settleHere, 50),
      settleP99Ms: percentileOfSorted(settleHere, 99),
      uplinks: arrivals.filter((at) => at >= from && at < to).length,
      storedAgeP50Ms: percentileOfSorted(ages, 50),
      violations: violationsHere.length,
      maxDelayMs: Math.max(0, ...violationsHere.map((v) => v.delayMs ?? 0)),
    });
  }

  return {
    side,
    uplinkRate: side === 'paced' ? '1' : '0',
    posts: count,
    ok: ok.length,
    failed: settled.length - ok.length,
    failedBy,
    unsettled: count - settled.length,
    settle: {
      p50: percentileOfSorted(settleTimes, 50),
      p90: percentileOfSorted(settleTimes, 90),
      p99: percentileOfSorted(settleTimes, 99),
      max: settleTimes[settleTimes.length - 1] ?? Number.NaN,
    },
    onenetLatency: {
      p50: percentileOfSorted(latencies, 50),
      p99: percentileOfSorted(latencies, 99),
      max: latencies[latencies.length - 1] ?? Number.NaN,
    },
    merged: {
      mean: merged.length ? merged.reduce((a, b) => a + b, 0) / merged.length : Number.NaN,
      max: Math.max(0, ...merged),
    },
    uplinks: uplinks.length,
    uplinksByKind,
    maxIn10s,
    violations: violations.length,
    maxDelayMs: Math.max(0, ...violations.map((v) => v.delayMs ?? 0)),
    valuesSent: count * PROPERTIES,
    valuesStored: stored.length,
    valuesWithTheirTime: withTheirTime,
    valuesMissing: missing,
    valuesDuplicated: duplicated,
    timeOffsetMs: {
      p50: percentileOfSorted(offsets, 50),
      min: offsets[0] ?? Number.NaN,
      max: offsets[offsets.length - 1] ?? Number.NaN,
    },
    storedVia,
    offTime,
    windows,
    foreignLoadPercent: 0,
    elapsedMs: 0,
  };
}

function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'never';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

/** The posts whose values were stored without their time, as "post 123 (p0…): property-post, merged 1, +1104 ms". */
function offTimeText(offTime: readonly OffTime[]): string {
  const bySeq = new Map<number, OffTime>();
  for (const value of offTime) if (!bySeq.has(value.seq)) bySeq.set(value.seq, value);
  if (bySeq.size === 0) return '';
  const posts = [...bySeq.values()].map(
    (v) =>
      `post ${v.seq} via ${v.via}, merged ${v.merged ?? '?'}, stored time +${v.timeOffsetMs} ms` +
      (v.copies > 1 ? `, ${v.copies} copies` : ''),
  );
  return `; off: ${posts.join('; ')}`;
}

function kinds(record: Record<string, number>): string {
  const entries = Object.entries(record);
  return entries.length ? entries.map(([kind, n]) => `${kind} ${n}`).join(', ') : '-';
}

function report(seconds: number, count: number, results: SideResult[], problems: string[]): BenchReport {
  const [paced, unpaced] = results as [SideResult, SideResult];
  const summary = formatTable(
    `#6 Paced flood: ${PROPERTIES} properties every ${INTERVAL_MS} ms for ${seconds} s (${count} posts, ` +
      `${count * PROPERTIES} values), reply awaited, 5 s timeout; emulator: ${RATE_LIMIT.perSecond}/s, ` +
      `burst ${RATE_LIMIT.burst}, mode ${RATE_LIMIT.mode}`,
    [
      'side',
      'ok',
      'failed',
      'settle p50',
      'p90',
      'p99',
      'max',
      'uplinks',
      'most in 10 s',
      'over limit',
      'values stored',
      'with their time',
    ],
    results.map((r) => [
      LABELS[r.side],
      r.ok,
      r.failed + r.unsettled,
      fmtMs(r.settle.p50),
      fmtMs(r.settle.p90),
      fmtMs(r.settle.p99),
      fmtMs(r.settle.max),
      r.uplinks,
      r.maxIn10s,
      r.violations,
      `${r.valuesStored} / ${r.valuesSent}`,
      r.valuesWithTheirTime,
    ]),
  );
  const details = formatTable(
    '#6 details',
    [
      'side',
      'msg.onenet.latencyMs p50 / p99',
      'merged mean / max',
      'uplinks by kind',
      'stored via',
      'failed by',
      'stored time − sent ms (p50 / min / max)',
    ],
    results.map((r) => [
      LABELS[r.side],
      `${fmtMs(r.onenetLatency.p50)} / ${fmtMs(r.onenetLatency.p99)}`,
      `${r.merged.mean.toFixed(1)} / ${r.merged.max}`,
      kinds(r.uplinksByKind),
      kinds(r.storedVia),
      kinds(r.failedBy) + (r.unsettled ? `, unsettled ${r.unsettled}` : ''),
      `${r.timeOffsetMs.p50} / ${r.timeOffsetMs.min} / ${r.timeOffsetMs.max}`,
    ]),
  );
  const windowTable = (r: SideResult): string =>
    formatTable(
      `#6 ${LABELS[r.side]}, per 10 s of the run (flow: posts sent in it; emulator: what it handled in it)`,
      [
        'from s',
        'sent',
        'ok',
        'failed',
        'settle p50',
        'settle p99',
        'uplinks',
        'stored age p50',
        'over limit',
        'longest hold',
      ],
      r.windows.map((w) => [
        w.fromS,
        w.sent,
        w.ok,
        w.failed,
        fmtMs(w.settleP50Ms),
        fmtMs(w.settleP99Ms),
        w.uplinks,
        fmtMs(w.storedAgeP50Ms),
        w.violations,
        fmtMs(w.maxDelayMs),
      ]),
    );
  const ages = unpaced.windows.map((w) => w.storedAgeP50Ms).filter(Number.isFinite);
  const grows = ages.length >= 2 && ages.every((age, i) => i === 0 || age > ages[i - 1]!);
  const goals: Goal[] = [
    {
      goal: `#6 paced: uplinks in any 10 s window ≤ 10 + burst (${GOAL_WINDOW_MAX}), none over the emulator's limit`,
      measured: `${paced.maxIn10s} at most (${paced.uplinks} in all), ${paced.violations} over the limit`,
      met: paced.maxIn10s <= GOAL_WINDOW_MAX && paced.violations === 0,
    },
    {
      goal: '#6 paced: every value stored, once, with the time the flow accepted it',
      measured:
        `${paced.valuesWithTheirTime} of ${paced.valuesSent} (${paced.valuesMissing} missing, ` +
        `${paced.valuesDuplicated} stored twice; stored time − sent: ${paced.timeOffsetMs.min}…${paced.timeOffsetMs.max} ms)` +
        offTimeText(paced.offTime),
      met: paced.valuesWithTheirTime === paced.valuesSent,
    },
    {
      goal: `#6 paced: settle latency p99 ≤ ${GOAL_P99_MS / 1000} s, every post settled once and ok`,
      measured:
        `p50 ${fmtMs(paced.settle.p50)}, p99 ${fmtMs(paced.settle.p99)} (msg.onenet.latencyMs p99 ` +
        `${fmtMs(paced.onenetLatency.p99)}); ${paced.ok} of ${paced.posts} ok`,
      met: paced.settle.p99 <= GOAL_P99_MS && paced.ok === paced.posts,
    },
    {
      goal: '#6 baseline (uplinkRate 0 into delay mode): its wait grows without bound (reported)',
      measured:
        `stored age p50 per 10 s: ${ages.map(fmtMs).join(' → ')}; ${unpaced.ok} of ${unpaced.posts} ok, ` +
        `${unpaced.failed + unpaced.unsettled} failed (${kinds(unpaced.failedBy)})`,
      met: grows,
    },
    {
      goal: '#6 no warnings or errors from Node-RED during the floods',
      measured: problems.length === 0 ? 'none' : `${problems.length}: ${problems.slice(0, 3).join(' | ')}`,
      met: problems.length === 0,
    },
  ];
  return {
    name: 'paced-flood',
    title: 'Paced flood: 10 posts a second at uplinkRate 1, beside the unpaced baseline',
    tables: [summary, details, windowTable(paced), windowTable(unpaced)],
    goals,
    data: {
      seconds,
      count,
      intervalMs: INTERVAL_MS,
      properties: PROPERTIES,
      emulatorRateLimit: RATE_LIMIT,
      timeToleranceMs: TIME_TOLERANCE_MS,
      results,
      problems,
    },
  };
}
