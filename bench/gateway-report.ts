import type { NodeRedRun } from './bench-4-scale';
import type { PerDevice } from './gateway-memory';
import { TIME_TOLERANCE_MS } from './gateway-analysis';
import { bindingMessages, BURST, TOPOLOGY_SYNC_MESSAGES } from './gateway-limits';
import type { GatewayRun, GatewayRunSpec } from './gateway-run';
import type { Goal } from './report';
import { formatTable, ratio, type Cell } from './stats';

/** The gateway benchmark's tables and goal verdicts, from the runs of one invocation. */

export interface GatewayPlan {
  quick: boolean;
  count: number;
  seconds: number;
  /** #4's CPU window for the direct devices. */
  directCpuWindowMs: number;
  runs: GatewayRunSpec[];
}

/** #4's run of the direct devices, and the same flow's memory sampled as the gateway's is. */
export interface DirectRun {
  run: NodeRedRun;
  settled: PerDevice;
}

const KB = 1024;
/** Issue 15: "memory per sub-device ≤ 0.25 × the memory per direct device (#4)". */
const MEMORY_GOAL = 0.25;
/** Issue 15: lag "within 2 s of what the rate physically allows". */
const LAG_MARGIN_MS = 2000;

function seconds(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '-';
}

function milliseconds(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

function kinds(record: Record<string, number>): string {
  const entries = Object.entries(record);
  return entries.length ? entries.map(([kind, n]) => `${kind} ${n}`).join(', ') : 'none';
}

function label(run: GatewayRun): string {
  const { spec } = run;
  const what =
    spec.posting === 'at-deploy'
      ? 'posting from the deploy'
      : spec.posting === 'none'
        ? 'binding only'
        : spec.key === 'rate1-scaled'
          ? `each posting every ${spec.intervalMs} ms`
          : 'posting once logged in';
  const waits = spec.timeoutMs !== undefined ? `, posts waiting up to ${seconds(spec.timeoutMs)}` : '';
  return `gateway, uplinkRate ${spec.rate}: ${spec.count} sub-devices, ${what}${waits}`;
}

export function gatewayReport(
  plan: GatewayPlan,
  direct: DirectRun | undefined,
  runs: readonly GatewayRun[],
): { tables: string[]; goals: Goal[] } {
  const tables: string[] = [];
  const goals: Goal[] = [];
  const byKey = new Map(runs.map((run) => [run.spec.key, run]));
  const main = byKey.get('rate10');

  // 1. Beside the direct devices: logins, memory, CPU.
  const scaleRows: Cell[][] = [];
  const base = direct?.settled;
  if (direct)
    scaleRows.push([
      `${plan.count} direct devices (#4, baseline)`,
      seconds(direct.run.connectMs),
      direct.settled.rss / KB,
      1,
      direct.settled.heap / KB,
      1,
      direct.run.rssPerDevice / KB,
      direct.run.cpuPercent,
      `${direct.run.posts.ok} / ${direct.run.posts.sent}`,
    ]);
  for (const run of runs.filter((r) => r.spec.count === plan.count)) {
    const { memory, posting } = run;
    scaleRows.push([
      label(run),
      seconds(run.login.allLoggedInMs),
      memory ? memory.rss / KB : '-',
      memory && base ? ratio(memory.rss, base.rss) : '-',
      memory ? memory.heap / KB : '-',
      memory && base ? ratio(memory.heap, base.heap) : '-',
      '-',
      posting ? posting.cpuPercent : '-',
      posting ? `${posting.figures.ok} / ${posting.figures.posts}` : '-',
    ]);
  }
  tables.push(
    formatTable(
      `#10 Gateway: ${plan.count} sub-devices behind one gateway beside ${plan.count} direct devices, one Node-RED each, same run. ` +
        `Memory: settled samples (gateway-memory.ts); "#4 RSS" is #4's own sample of the same direct run. CPU: direct in #4's ` +
        `${plan.directCpuWindowMs / 1000} s window (a post every 10 s per device, uplinkRate 0), gateway over its posting window`,
      [
        'side',
        'all logged in',
        'RSS KB/device',
        'RSS ratio',
        'heap KB/device',
        'heap ratio',
        '#4 RSS KB',
        'CPU %',
        'posts ok / made',
      ],
      scaleRows,
    ),
  );

  // 2. Posting: values, failures, uplinks, lag, each beside the physical bound.
  const postingRuns = runs.filter((run) => run.posting);
  tables.push(
    formatTable(
      '#10 posting: values (lost = a post that succeeded, or never settled, whose value the emulator does not have) ' +
        'and failed posts, beside what the rate allows',
      [
        'run',
        'offered values/s',
        'pack capacity/s',
        'visit cycle',
        'delivered',
        'most possible',
        'lost',
        'dup / off time',
        'failed',
        'least failed',
        'failed by reason',
      ],
      postingRuns.map((run) => {
        const { figures, limits } = run.posting!;
        return [
          label(run),
          limits.offeredPerSecond,
          limits.packCapacityPerSecond,
          limits.cycleMs === undefined ? '-' : seconds(limits.cycleMs),
          `${figures.valuesDelivered} / ${figures.posts}`,
          limits.mostDelivered,
          figures.valuesLost,
          `${figures.valuesDuplicated} / ${figures.valuesOffTime}`,
          figures.failed + figures.unsettled,
          limits.leastFailed,
          kinds(figures.failedBy) + (figures.unsettled ? `, unsettled ${figures.unsettled}` : ''),
        ];
      }),
    ),
  );
  tables.push(
    formatTable(
      '#10 posting: uplinks as the emulator saw them (posting window) and end-to-end lag (emulator stored it − flow sent it)',
      [
        'run',
        'uplinks/s',
        'rate',
        'most in 10 s',
        'over limit',
        'values/message',
        'lag p50',
        'p99',
        'max',
        'least p50 / p99',
        'settle p99',
        'CPU %',
        'other load %',
      ],
      postingRuns.map((run) => {
        const { figures, limits, uplinks } = run.posting!;
        return [
          label(run),
          uplinks.perSecond,
          run.spec.rate,
          uplinks.maxIn10s,
          uplinks.violations,
          figures.valuesPerMessage,
          milliseconds(figures.lag.p50),
          milliseconds(figures.lag.p99),
          milliseconds(figures.lag.max),
          limits.lagP99Ms === undefined
            ? '-'
            : `${milliseconds(limits.lagP50Ms!)} / ${milliseconds(limits.lagP99Ms)}`,
          milliseconds(figures.settle.p99),
          run.posting!.cpuPercent,
          run.posting!.foreignLoadPercent,
        ];
      }),
    ),
  );

  // 3. Binding and login.
  tables.push(
    formatTable(
      `#10 binding and login: time from the deploy until the emulator received the last sub/login, beside the least the rate ` +
        `allows (messages − burst ${BURST}) / rate; messages = ${TOPOLOGY_SYNC_MESSAGES} (topo/get, topo/get/result) + 1 sub/login ` +
        `per sub-device + 1 topo/add per sub-device not bound`,
      [
        'run',
        'sub-devices',
        'bound before',
        'messages',
        'all logged in',
        'least',
        'ratio',
        'topo/adds',
        'sub/logins',
        'gateway login',
      ],
      runs.map((run) => {
        const { spec, login } = run;
        return [
          label(run),
          spec.count,
          spec.preBound ? 'yes' : 'no',
          bindingMessages(spec.count, spec.preBound),
          Number.isFinite(login.allLoggedInMs)
            ? seconds(login.allLoggedInMs)
            : `${login.loginsInWindow} in ${seconds(runEndMs(run))}`,
          seconds(run.minimumBindingMs),
          Number.isFinite(login.allLoggedInMs) ? ratio(login.allLoggedInMs, run.minimumBindingMs) : '-',
          login.topoAdds,
          login.logins,
          milliseconds(run.gatewayConnectMs),
        ];
      }),
    ),
  );

  // Goals.
  for (const run of postingRuns) {
    const { figures, uplinks, limits } = run.posting!;
    goals.push({
      goal: `${label(run)}: values lost 0, each stored once with its original time (0…${TIME_TOLERANCE_MS} ms after the post)`,
      measured:
        `${figures.valuesLost} lost, ${figures.valuesDuplicated} stored twice, ${figures.valuesOffTime} off time ` +
        `(stored − sent ${figures.timeOffset.min}…${figures.timeOffset.max} ms); ${figures.valuesDelivered} delivered; ` +
        `${figures.failed + figures.unsettled} posts failed (${kinds(figures.failedBy)}; at least ${limits.leastFailed} must), ` +
        `${figures.storedThoughFailed} of them stored anyway`,
      met:
        figures.valuesLost === 0 &&
        figures.valuesDuplicated === 0 &&
        figures.valuesOffTime === 0 &&
        figures.unsettled === 0,
    });
    // The budget allows rate × W + burst in any W seconds (token-bucket.ts): the burst on top.
    const windowMax = 10 * run.spec.rate + BURST;
    const allowed = Math.floor((run.spec.rate * run.posting!.windowMs) / 1000) + BURST;
    goals.push({
      goal:
        `${label(run)}: uplinks a second ≤ ${run.spec.rate} (at most ${allowed} in the ${seconds(run.posting!.windowMs)} ` +
        `of posts, ${windowMax} in any 10 s), none over the emulator's limit`,
      measured:
        `${uplinks.inWindow} (${uplinks.perSecond.toFixed(2)} a second), ${uplinks.maxIn10s} at most in 10 s, ` +
        `${uplinks.violations} over the limit`,
      met: uplinks.inWindow <= allowed && uplinks.maxIn10s <= windowMax && uplinks.violations === 0,
    });
    if (limits.lagP99Ms === undefined) {
      // Sub-devices still logging in while the flow posts: more is offered than any client can
      // carry, and the lag of what arrives depends on which values a client gives up.
      goals.push({
        goal: `${label(run)}: lag (reported: sub-devices still log in during the posts, at least ${limits.leastFailed} posts must fail)`,
        measured:
          figures.lag.count === 0
            ? 'no value delivered'
            : `p50 ${milliseconds(figures.lag.p50)}, p99 ${milliseconds(figures.lag.p99)} over ${figures.lag.count} values`,
        met: true,
        reported: true,
      });
      continue;
    }
    const lagGoal = limits.lagP99Ms + LAG_MARGIN_MS;
    const why =
      limits.cycleMs === undefined
        ? 'the wait for the next slot'
        : `a visit to every sub-device each ${seconds(limits.cycleMs)}: a pack/post and a history/post per 10`;
    goals.push({
      goal: `${label(run)}: lag p99 ≤ ${milliseconds(lagGoal)} (least the rate allows ${milliseconds(limits.lagP99Ms)}, ${why}; + 2 s)`,
      measured:
        figures.lag.count === 0
          ? 'no value delivered'
          : `p50 ${milliseconds(figures.lag.p50)}, p99 ${milliseconds(figures.lag.p99)} over ${figures.lag.count} values`,
      met: figures.lag.count > 0 && figures.lag.p99 <= lagGoal,
    });
  }
  if (main?.memory && base) {
    const memoryRatio = ratio(main.memory.rss, base.rss);
    goals.push({
      goal: `memory per sub-device ≤ ${MEMORY_GOAL} × per direct device (#4's flow, same run, both settled)`,
      measured:
        `${memoryRatio.toFixed(2)} × RSS (${(main.memory.rss / KB).toFixed(1)} vs ${(base.rss / KB).toFixed(1)} KB); ` +
        `heap ${ratio(main.memory.heap, base.heap).toFixed(2)} × (${(main.memory.heap / KB).toFixed(1)} vs ` +
        `${(base.heap / KB).toFixed(1)} KB); #4's own RSS sample ${(direct!.run.rssPerDevice / KB).toFixed(1)} KB`,
      met: memoryRatio <= MEMORY_GOAL,
    });
  }
  for (const run of runs) {
    const done = Number.isFinite(run.login.allLoggedInMs);
    goals.push({
      goal: `${label(run)}: all bound and logged in (reported beside the least the rate allows)`,
      measured: done
        ? `${seconds(run.login.allLoggedInMs)} (least ${seconds(run.minimumBindingMs)}, ${ratio(run.login.allLoggedInMs, run.minimumBindingMs).toFixed(2)} ×)`
        : `${run.login.loginsInWindow} of ${run.spec.count} in ${seconds(runEndMs(run))} (all need at least ${seconds(run.minimumBindingMs)})`,
      met: done,
    });
  }
  const problems = runs.flatMap((run) => run.problems.map((line) => `${run.spec.key}: ${line}`));
  goals.push({
    goal: 'no warnings or errors from Node-RED',
    measured: problems.length === 0 ? 'none' : problems.slice(0, 3).join(' | '),
    met: problems.length === 0,
  });
  return { tables, goals };
}

/** How long a run that did not log every sub-device in watched (its posting window and settling). */
function runEndMs(run: GatewayRun): number {
  return run.login.windowMs;
}
