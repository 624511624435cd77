import { benchDevice } from './devices';
import { coreBrokerNode, deviceConfigNode, flowOf, publisherPart, type Side } from './flows';
import { startBenchNodeRed } from './node-red-harness';
import { cpuTimeMs, ForeignLoad } from './proc-stats';
import { withCleanup, type BenchContext, type BenchReport, type Goal } from './report';
import { formatTable, median, ratio } from './stats';
import type { WindowedResult } from './windowed';
import { EmulatorWorker } from './workers';

/**
 * #2 Property post without waiting for replies, QoS 0 and QoS 1: onenet-property-post (Reply off,
 * msg.qos) vs the core `mqtt out` node publishing the same OneJSON requests on the same broker, both
 * in one Node-RED process, fed by the same source node with the same window. A message counts as
 * done when its node calls done(): for ours once the publish is handed over (written for QoS 0,
 * PUBACKed for QoS 1), for mqtt out when MQTT.js calls back. The broker's count is checked after
 * every run (per QoS), so nothing counted as done went missing.
 */

const WINDOW = 256;
const RUNS = 5;
const QOS_LEVELS = [0, 1] as const;

/** ours-output: ours again, but done when its output fires (see PublisherPart.completion). */
type SideName = Side | 'ours-output';
const SIDES: readonly SideName[] = ['core', 'ours', 'ours-output'];

interface Run extends WindowedResult {
  side: SideName;
  qos: 0 | 1;
  run: number;
  /** Publishes of this QoS the emulator accepted from the side's device during the run. */
  brokerCounted: number;
  cpuUsPerPost: number;
  /** CPU other processes on the machine used meanwhile, in % of one core. */
  foreignLoadPercent: number;
}

export async function runNoReply(context: BenchContext): Promise<BenchReport> {
  const total = context.quick ? 5000 : 50_000;
  const warmup = context.quick ? 5000 : 60_000;
  const devices = { ours: benchDevice('nr-ours'), core: benchDevice('nr-core') };
  return withCleanup(async (defer) => {
    const emulator = await EmulatorWorker.start([devices.ours, devices.core]);
    defer(() => emulator.stop());
    const nodeRed = await startBenchNodeRed(
      context.cpuProfileDir ? { cpuProfileDir: context.cpuProfileDir } : {},
    );
    defer(() => nodeRed.stop());

    await emulator.mark();
    await nodeRed.deploy(
      flowOf([
        deviceConfigNode('bench.ours-device', devices.ours, emulator.port),
        coreBrokerNode('bench.core-broker', devices.core, emulator.port),
        ...QOS_LEVELS.flatMap((qos) => [
          ...publisherPart({
            key: `ours-q${qos}`,
            side: 'ours',
            configId: 'bench.ours-device',
            device: devices.ours,
            waitReply: false,
            qos,
            driver: 'source',
          }),
          ...publisherPart({
            key: `ours-output-q${qos}`,
            side: 'ours',
            configId: 'bench.ours-device',
            device: devices.ours,
            waitReply: false,
            qos,
            driver: 'source',
            completion: 'output',
          }),
          ...publisherPart({
            key: `core-q${qos}`,
            side: 'core',
            configId: 'bench.core-broker',
            device: devices.core,
            waitReply: false,
            qos,
            driver: 'source',
          }),
        ]),
      ]),
    );
    // ours subscribes once logged in; mqtt out has nothing to subscribe to.
    await emulator.waitMarked({ connects: 2, subscribes: 1, timeoutMs: 20_000 });

    const runOnce = (side: SideName, qos: 0 | 1, count: number): Promise<WindowedResult> =>
      nodeRed.get<WindowedResult>(`/bench/${side}-q${qos}/run`, { total: count, window: WINDOW, qos });
    const deviceOf = (side: SideName) => (side === 'core' ? devices.core : devices.ours);

    for (const qos of QOS_LEVELS) for (const side of SIDES) await runOnce(side, qos, warmup);
    const runs: Run[] = [];
    for (let run = 1; run <= RUNS; run++) {
      for (const qos of QOS_LEVELS) {
        for (const side of SIDES) {
          const before = await emulator.uplinks(deviceOf(side));
          const cpuBefore = cpuTimeMs(nodeRed.pid);
          const foreign = new ForeignLoad([emulator.pid, nodeRed.pid]);
          const result = await runOnce(side, qos, total);
          const foreignLoadPercent = foreign.percent();
          const cpuUsPerPost = ((cpuTimeMs(nodeRed.pid) - cpuBefore) * 1000) / total;
          // QoS 0 "done" means written to the socket: give the broker a moment to read the rest.
          const after = await settledCount(emulator, deviceOf(side), before, qos, total);
          context.progress(
            `  #2 run ${run} QoS ${qos} ${side}: ${Math.round(result.perSecond)} msg/s, ` +
              `${cpuUsPerPost.toFixed(1)} µs CPU/post, ${result.failed} failed, broker counted ${after}, ` +
              `other load ${foreignLoadPercent.toFixed(0)} %`,
          );
          runs.push({ side, qos, run, ...result, brokerCounted: after, cpuUsPerPost, foreignLoadPercent });
        }
      }
    }

    const pick = (side: SideName, qos: 0 | 1, of: (r: Run) => number): number =>
      median(runs.filter((r) => r.side === side && r.qos === qos).map(of));
    // Each run is compared with the core run of the same round and QoS (seconds apart); the median
    // of those ratios is reported, so a burst of foreign load slows a pair, not one side's median.
    const ratioToCore = (side: SideName, qos: 0 | 1): number =>
      pick(side, qos, (r) =>
        ratio(
          r.perSecond,
          runs.find((b) => b.side === 'core' && b.qos === qos && b.run === r.run)!.perSecond,
        ),
      );
    const rows: (string | number)[][] = [];
    const goals: Goal[] = [];
    const medians: Record<string, number> = {};
    for (const qos of QOS_LEVELS) {
      const core = pick('core', qos, (r) => r.perSecond);
      const ours = pick('ours', qos, (r) => r.perSecond);
      const oursOutput = pick('ours-output', qos, (r) => r.perSecond);
      medians[`coreQos${qos}`] = core;
      medians[`oursQos${qos}`] = ours;
      medians[`oursOutputQos${qos}`] = oursOutput;
      for (const [label, side, rate] of [
        [`QoS ${qos}: core mqtt out → Complete (baseline)`, 'core', core],
        [`QoS ${qos}: property post, Reply off → Complete`, 'ours', ours],
        [`QoS ${qos}: property post, Reply off → output`, 'ours-output', oursOutput],
      ] as const) {
        rows.push([
          label,
          rate,
          ratioToCore(side, qos),
          pick(side, qos, (r) => r.cpuUsPerPost),
          runs
            .filter((r) => r.side === side && r.qos === qos)
            .map((r) => Math.round(r.perSecond))
            .join(' / '),
        ]);
      }
      // Both ways of continuing after our node are judged: the Complete node (the same mechanism as
      // for mqtt out) and the node's own output (what a flow after it uses).
      goals.push({
        goal: `#2 QoS ${qos} without replies: ours ≥ core mqtt out (both → Complete node)`,
        measured: `${ratioToCore('ours', qos).toFixed(2)} (${Math.round(ours)} vs ${Math.round(core)} msg/s)`,
        met: ratioToCore('ours', qos) >= 1,
      });
      goals.push({
        goal: `#2 QoS ${qos} without replies: ours → output ≥ core mqtt out → Complete node`,
        measured: `${ratioToCore('ours-output', qos).toFixed(2)} (${Math.round(oursOutput)} vs ${Math.round(core)} msg/s)`,
        met: ratioToCore('ours-output', qos) >= 1,
      });
    }
    const miscounted = runs.filter((r) => r.failed > 0 || r.brokerCounted !== total);
    goals.push({
      goal: '#2 every publish reported done reached the broker, at the QoS asked for',
      measured:
        miscounted.length === 0 ? 'yes' : `${miscounted.length} runs with failures or a count mismatch`,
      met: miscounted.length === 0,
    });
    const table = formatTable(
      `#2 Property post without waiting for replies, ${WINDOW} in flight, ${total.toLocaleString('en-US')} posts per run ` +
        `(median of ${RUNS}; other load on the machine: median ${median(runs.map((r) => r.foreignLoadPercent)).toFixed(0)} % of a core)`,
      ['side', 'msg/s', 'ratio', 'CPU µs/post', 'runs (msg/s)'],
      rows,
    );
    return {
      name: 'no-reply',
      title: 'Property post without waiting for replies (QoS 0 and 1) vs core mqtt out',
      tables: [table],
      goals,
      data: {
        total,
        window: WINDOW,
        warmup,
        runs,
        medians,
        foreignLoadPercent: median(runs.map((r) => r.foreignLoadPercent)),
      },
    };
  });
}

/** The device's accepted publishes of `qos` since `before`, once `expected` arrived or 5 s passed. */
async function settledCount(
  emulator: EmulatorWorker,
  device: Parameters<EmulatorWorker['uplinks']>[0],
  before: { qos0: number; qos1: number },
  qos: 0 | 1,
  expected: number,
): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const now = await emulator.uplinks(device);
    const counted = qos === 0 ? now.qos0 - before.qos0 : now.qos1 - before.qos1;
    if (counted >= expected || Date.now() > deadline) return counted;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
