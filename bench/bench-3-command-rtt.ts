import { benchDevice } from './devices';
import { commandFlow } from './flows';
import { startBenchNodeRed } from './node-red-harness';
import type { RoundTripResult } from './emulator-process';
import { withCleanup, type BenchContext, type BenchReport } from './report';
import { formatTable, median, ratio } from './stats';
import { ClientWorker, EmulatorWorker } from './workers';

/**
 * #3 Command round trip: the emulator (the platform side) sends a property set and waits for the
 * device's set_reply, one request at a time, timing each with performance.now() in its own process.
 * Ours: onenet-command-in → onenet-command-reply in Node-RED. Baseline: a hand-rolled MQTT.js
 * device answering the same requests (in another process).
 */

const RUNS = 3;
const GOAL_P99_MS = 50;

type SideName = 'raw' | 'node-red';

interface Run extends RoundTripResult {
  side: SideName;
  run: number;
}

export async function runCommandRoundTrip(context: BenchContext): Promise<BenchReport> {
  const count = context.quick ? 1000 : 10_000;
  const warmup = context.quick ? 200 : 2000;
  const devices = { raw: benchDevice('rtt-raw'), 'node-red': benchDevice('rtt-node-red') };
  return withCleanup(async (defer) => {
    const emulator = await EmulatorWorker.start(Object.values(devices));
    defer(() => emulator.stop());
    const clients = await ClientWorker.start(emulator.port);
    defer(() => clients.stop());
    const nodeRed = await startBenchNodeRed(
      context.cpuProfileDir ? { cpuProfileDir: context.cpuProfileDir } : {},
    );
    defer(() => nodeRed.stop());

    await emulator.mark();
    await nodeRed.deploy(commandFlow(devices['node-red'], emulator.port));
    await emulator.waitMarked({ subscribes: 1, timeoutMs: 20_000 });
    await clients.connectSingle('raw', devices.raw);
    await clients.answerCommands();

    const roundTrips = (side: SideName, n: number, warm: number): Promise<RoundTripResult> =>
      emulator.roundTrips({ deviceName: devices[side].deviceName, count: n, warmup: warm });
    const runs: Run[] = [];
    for (let run = 1; run <= RUNS; run++) {
      for (const side of ['raw', 'node-red'] as const) {
        const result = await roundTrips(side, count, run === 1 ? warmup : 0);
        const { latency } = result;
        context.progress(
          `  #3 run ${run} ${side}: p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms, ` +
            `max ${latency.max.toFixed(1)} ms, ${result.failures} failed`,
        );
        runs.push({ side, run, ...result });
      }
    }

    const pick = (side: SideName, of: (r: Run) => number): number =>
      median(runs.filter((r) => r.side === side).map(of));
    const summary = (side: SideName) => ({
      p50: pick(side, (r) => r.latency.p50),
      p90: pick(side, (r) => r.latency.p90),
      p99: pick(side, (r) => r.latency.p99),
      max: Math.max(...runs.filter((r) => r.side === side).map((r) => r.latency.max)),
      perSecond: pick(side, (r) => (r.latency.count / r.elapsedMs) * 1000),
    });
    const raw = summary('raw');
    const ours = summary('node-red');
    const failures = runs.reduce((sum, r) => sum + r.failures, 0);
    const row = (label: string, side: SideName, s: typeof raw): (string | number)[] => [
      label,
      s.p50,
      s.p90,
      s.p99,
      s.max,
      ratio(s.p99, raw.p99),
      runs
        .filter((r) => r.side === side)
        .map((r) => r.latency.p99.toFixed(2))
        .join(' / '),
    ];
    const table = formatTable(
      `#3 Command round trip: property set → reply, one at a time, ${count.toLocaleString('en-US')} per run (median of ${RUNS}; max over all runs)`,
      ['side', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'p99 ratio', 'runs (p99 ms)'],
      [row('raw MQTT.js device (baseline)', 'raw', raw), row('command-in → command-reply', 'node-red', ours)],
    );
    return {
      name: 'command-round-trip',
      title: 'Command round trip (property set → set_reply)',
      tables: [table],
      goals: [
        {
          goal: `#3 command round trip p99 well under ${GOAL_P99_MS} ms`,
          measured: `p50 ${ours.p50.toFixed(2)} ms, p99 ${ours.p99.toFixed(2)} ms (raw MQTT.js p99 ${raw.p99.toFixed(2)} ms)`,
          met: ours.p99 < GOAL_P99_MS / 2,
        },
        {
          goal: '#3 every command answered',
          measured: failures === 0 ? 'yes' : `${failures} failed`,
          met: failures === 0,
        },
      ],
      data: { count, warmup, runs, raw, nodeRed: ours },
    };
  });
}
