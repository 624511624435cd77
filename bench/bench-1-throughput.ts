import { benchDevice, type BenchDevice } from './devices';
import { cpuTimeMs, ForeignLoad } from './proc-stats';
import { deviceConfigNode, flowOf, publisherPart } from './flows';
import { startBenchNodeRed, type BenchNodeRed } from './node-red-harness';
import { withCleanup, type BenchContext, type BenchReport } from './report';
import { formatTable, median, ratio, verdict } from './stats';
import type { WindowedResult } from './windowed';
import { ClientWorker, EmulatorWorker } from './workers';

/**
 * #1 Property post throughput, QoS 1, every reply awaited, pipelined with the same window on every
 * side: Node-RED (a source node → onenet-property-post → back to the source) vs a hand-rolled MQTT.js
 * device publishing the same requests and matching the replies itself. Also shown, for the
 * breakdown: this package's DeviceConnection from plain Node.js (no Node-RED), and Node-RED fed by a
 * function node instead of a source node (what a function node's sandbox costs per message), and
 * Node-RED with the same source node feeding the least node that waits for replies
 * (bench-minimal-node.ts: MQTT.js, JSON.stringify, a Map of waiting ids, nothing else): what any
 * Node-RED node posting this way costs, whoever writes it.
 */

/** Requests in flight per side: the connection hands at most 256 publishes to MQTT.js at once. */
export const WINDOW = 256;
const RUNS = 5;

type SideName = 'raw' | 'connection' | 'node-red' | 'node-red-function' | 'node-red-minimal';
const SIDES: readonly SideName[] = ['raw', 'connection', 'node-red', 'node-red-function', 'node-red-minimal'];

interface Run extends WindowedResult {
  side: SideName;
  run: number;
  /** Accepted publishes the emulator counted from this side's device during the run. */
  brokerCounted: number;
  /** CPU time (user + system) per post of the process the side runs in, and of the emulator. */
  cpuUsPerPost: number;
  emulatorCpuUsPerPost: number;
  /** CPU other processes on the machine used meanwhile, in % of one core. */
  foreignLoadPercent: number;
}

export async function runThroughput(context: BenchContext): Promise<BenchReport> {
  const total = context.quick ? 5000 : 50_000;
  const warmup = context.quick ? 5000 : 100_000;
  const nodeRedDevice = benchDevice('tp-node-red');
  const devices: Record<SideName, BenchDevice> = {
    raw: benchDevice('tp-raw'),
    connection: benchDevice('tp-connection'),
    // Both Node-RED drivers post through one device config node, so through one shared connection.
    'node-red': nodeRedDevice,
    'node-red-function': nodeRedDevice,
    'node-red-minimal': benchDevice('tp-minimal'),
  };
  return withCleanup(async (defer) => {
    const emulator = await EmulatorWorker.start([
      devices.raw,
      devices.connection,
      nodeRedDevice,
      devices['node-red-minimal'],
    ]);
    defer(() => emulator.stop());
    const clients = await ClientWorker.start(emulator.port);
    defer(() => clients.stop());
    const nodeRed = await startBenchNodeRed(
      context.cpuProfileDir ? { cpuProfileDir: context.cpuProfileDir } : {},
    );
    defer(() => nodeRed.stop());

    await emulator.mark();
    await nodeRed.deploy(
      flowOf([
        deviceConfigNode('bench.device', nodeRedDevice, emulator.port),
        ...(['source', 'function'] as const).flatMap((driver) =>
          publisherPart({
            key: driver,
            side: 'ours',
            configId: 'bench.device',
            device: nodeRedDevice,
            waitReply: true,
            qos: 1,
            driver,
          }),
        ),
        ...publisherPart({
          key: 'minimal',
          side: 'ours',
          configId: '',
          device: devices['node-red-minimal'],
          waitReply: true,
          qos: 1,
          driver: 'source',
          minimalOnPort: emulator.port,
        }),
      ]),
    );
    await emulator.waitMarked({ subscribes: 2, timeoutMs: 20_000 });

    const inClientProcess = (side: SideName): side is 'raw' | 'connection' =>
      side === 'raw' || side === 'connection';
    const runSide = async (side: SideName, count: number): Promise<WindowedResult> => {
      if (side === 'node-red') return nodeRedRun(nodeRed, 'source', count);
      if (side === 'node-red-function') return nodeRedRun(nodeRed, 'function', count);
      if (side === 'node-red-minimal') return nodeRedRun(nodeRed, 'minimal', count);
      return clients.throughput({ total: count, window: WINDOW, qos: 1, waitReply: true });
    };
    const measure = async (side: SideName, run: number): Promise<Run> => {
      const before = await emulator.uplinks(devices[side]);
      const sidePid = inClientProcess(side) ? clients.pid : nodeRed.pid;
      const cpuBefore = [cpuTimeMs(sidePid), cpuTimeMs(emulator.pid)];
      const foreign = new ForeignLoad([emulator.pid, clients.pid, nodeRed.pid]);
      const result = await runSide(side, total);
      const foreignLoadPercent = foreign.percent();
      const cpuUsPerPost = ((cpuTimeMs(sidePid) - cpuBefore[0]!) * 1000) / total;
      const emulatorCpuUsPerPost = ((cpuTimeMs(emulator.pid) - cpuBefore[1]!) * 1000) / total;
      const after = await emulator.uplinks(devices[side]);
      context.progress(
        `  #1 run ${run} ${side}: ${Math.round(result.perSecond)} msg/s, ${cpuUsPerPost.toFixed(1)} µs CPU/post ` +
          `(emulator ${emulatorCpuUsPerPost.toFixed(1)}), ${result.failed} failed, other load ${foreignLoadPercent.toFixed(0)} %`,
      );
      return {
        side,
        run,
        ...result,
        brokerCounted: after.total - before.total,
        cpuUsPerPost,
        emulatorCpuUsPerPost,
        foreignLoadPercent,
      };
    };

    const runs: Run[] = [];
    for (const side of SIDES) {
      if (inClientProcess(side)) await clients.connectSingle(side, devices[side]);
      await runSide(side, warmup); // JIT, connection and socket buffers warmed, not counted
      if (inClientProcess(side)) await clients.closeSingle();
    }
    for (let run = 1; run <= RUNS; run++) {
      // Interleaved, so drift (thermal, other load) hits every side alike.
      for (const side of SIDES) {
        if (inClientProcess(side)) await clients.connectSingle(side, devices[side]);
        runs.push(await measure(side, run));
        if (inClientProcess(side)) await clients.closeSingle();
      }
    }

    const medianOf = (side: SideName, of: (run: Run) => number = (r) => r.perSecond): number =>
      median(runs.filter((r) => r.side === side).map(of));
    const cpuOf = (side: SideName): number => medianOf(side, (r) => r.cpuUsPerPost);
    const raw = medianOf('raw');
    const connection = medianOf('connection');
    const nodeRedRate = medianOf('node-red');
    const functionRate = medianOf('node-red-function');
    const minimalRate = medianOf('node-red-minimal');
    const runsOf = (side: SideName): string =>
      runs
        .filter((r) => r.side === side)
        .map((r) => Math.round(r.perSecond))
        .join(' / ');
    const lost = runs.filter((r) => r.failed > 0 || r.brokerCounted !== total);
    // Each side is compared with the raw run of the same round (seconds apart), and the median of
    // those ratios taken: a burst of foreign load then slows a pair, not one side's median.
    const ratioToRaw = (side: SideName): number =>
      median(
        runs
          .filter((r) => r.side === side)
          .map((r) => ratio(r.perSecond, runs.find((b) => b.side === 'raw' && b.run === r.run)!.perSecond)),
      );
    const goalRatio = ratioToRaw('node-red');
    const floorRatio = ratioToRaw('node-red-minimal');
    // Ours against the floor, round by round as against raw.
    const toFloor = median(
      runs
        .filter((r) => r.side === 'node-red')
        .map((r) =>
          ratio(r.perSecond, runs.find((b) => b.side === 'node-red-minimal' && b.run === r.run)!.perSecond),
        ),
    );
    const row = (label: string, side: SideName, rate: number): (string | number)[] => [
      label,
      rate,
      ratioToRaw(side),
      cpuOf(side),
      ratio(cpuOf('raw'), cpuOf(side)),
      runsOf(side),
    ];
    const foreignLoad = median(runs.map((r) => r.foreignLoadPercent));
    const rows = [
      row('raw MQTT.js (baseline)', 'raw', raw),
      row('DeviceConnection, plain Node.js', 'connection', connection),
      row('Node-RED: source node → property post', 'node-red', nodeRedRate),
      row('Node-RED: function node → property post', 'node-red-function', functionRate),
      row('Node-RED: source node → least node awaiting replies (floor)', 'node-red-minimal', minimalRate),
    ];
    const table = formatTable(
      `#1 Property post, QoS 1, replies awaited, ${WINDOW} in flight, ${total.toLocaleString('en-US')} posts per run ` +
        `(median of ${RUNS}; other load on the machine: median ${foreignLoad.toFixed(0)} % of a core)`,
      ['side', 'msg/s', 'ratio', 'CPU µs/post', 'CPU ratio', 'runs (msg/s)'],
      rows,
    );
    return {
      name: 'throughput',
      title: 'Property post throughput (QoS 1, replies awaited)',
      tables: [table],
      goals: [
        {
          goal: '#1 Node-RED / raw MQTT.js ≥ 0.9',
          measured:
            `${goalRatio.toFixed(2)} (${Math.round(nodeRedRate)} vs ${Math.round(raw)} msg/s; ` +
            `CPU per post ${cpuOf('node-red').toFixed(1)} vs ${cpuOf('raw').toFixed(1)} µs)`,
          met: goalRatio >= 0.9,
        },
        {
          goal: '#1 the floor: the least Node-RED node awaiting replies / raw MQTT.js (reported)',
          measured:
            `${floorRatio.toFixed(2)} (${Math.round(minimalRate)} msg/s; CPU per post ` +
            `${cpuOf('node-red-minimal').toFixed(1)} µs); the property post node reaches ${toFloor.toFixed(2)} × the floor`,
          met: true,
          reported: true,
        },
        {
          goal: '#1 every post replied to and counted once at the broker',
          measured: lost.length === 0 ? 'yes' : `${lost.length} runs with failures or a count mismatch`,
          met: lost.length === 0,
        },
      ],
      data: {
        total,
        window: WINDOW,
        warmup,
        runs,
        medians: {
          raw,
          connection,
          nodeRed: nodeRedRate,
          nodeRedFunctionDriver: functionRate,
          nodeRedMinimal: minimalRate,
        },
        floorRatio,
        toFloor,
        cpuUsPerPost: Object.fromEntries(SIDES.map((side) => [side, cpuOf(side)])),
        ratio: goalRatio,
        foreignLoadPercent: foreignLoad,
        verdict: verdict(goalRatio >= 0.9),
      },
    };
  });
}

function nodeRedRun(
  nodeRed: BenchNodeRed,
  driver: 'source' | 'function' | 'minimal',
  total: number,
): Promise<WindowedResult> {
  return nodeRed.get<WindowedResult>(`/bench/${driver}/run`, { total, window: WINDOW, qos: 1 });
}
