import { benchDevice } from './devices';
import { cpuTimeMs, ForeignLoad } from './proc-stats';
import { deviceConfigNode, flowOf, publisherPart, type FlowNode } from './flows';
import { exportWith100Points } from './model-fixture';
import { startBenchNodeRed, type BenchNodeRed } from './node-red-harness';
import { withCleanup, type BenchContext, type BenchReport } from './report';
import { formatTable, median, ratio, verdict } from './stats';
import type { WindowedResult } from './windowed';
import { EmulatorWorker } from './workers';
import { WINDOW } from './bench-1-throughput';

/**
 * #7 What the thing-model check costs per post, through Node-RED (issue 14: "a benchmark posts
 * through a 100-point model vs no model; goal: CPU per post ≤ 1.1 × without"). Two devices in one
 * Node-RED, one plain and one whose onenet-product holds a 100-point model with modelCheck
 * `reject`; each gets the same posts of ten properties (one of every data type, all valid) from a
 * bench-source node, as #1 sends them (QoS 1, replies awaited, 256 in flight). The Node-RED
 * process's CPU time per post is compared, run by run, side by side.
 */

const RUNS = 5;
const GOAL = 1.1;

type SideName = 'plain' | 'model';
const SIDES: readonly SideName[] = ['plain', 'model'];

interface Run extends WindowedResult {
  side: SideName;
  run: number;
  cpuUsPerPost: number;
  foreignLoadPercent: number;
}

/** The product config node with the 100-point model, as the editor saves it. */
function productNode(id: string, productId: string): FlowNode {
  return {
    id,
    type: 'onenet-product',
    name: 'bench product',
    productId,
    thingModel: JSON.stringify(exportWith100Points()),
    modelCheck: 'reject',
    credentials: {},
  };
}

export async function runModelCheck(context: BenchContext): Promise<BenchReport> {
  const total = context.quick ? 5000 : 30_000;
  const warmup = context.quick ? 5000 : 50_000;
  const devices = { plain: benchDevice('mc-plain'), model: benchDevice('mc-model') };
  return withCleanup(async (defer) => {
    const emulator = await EmulatorWorker.start([devices.plain, devices.model]);
    defer(() => emulator.stop());
    const nodeRed = await startBenchNodeRed(
      context.cpuProfileDir ? { cpuProfileDir: context.cpuProfileDir } : {},
    );
    defer(() => nodeRed.stop());

    await emulator.mark();
    const modelled = deviceConfigNode('bench.device.model', devices.model, emulator.port);
    await nodeRed.deploy(
      flowOf([
        productNode('bench.product', devices.model.productId),
        deviceConfigNode('bench.device.plain', devices.plain, emulator.port),
        { ...modelled, product: 'bench.product' },
        ...SIDES.flatMap((side) =>
          publisherPart({
            key: side,
            side: 'ours',
            configId: `bench.device.${side}`,
            device: devices[side],
            waitReply: true,
            qos: 1,
            driver: 'source',
          }),
        ),
      ]),
    );
    await emulator.waitMarked({ subscribes: 2, timeoutMs: 20_000 });

    const measure = async (side: SideName, run: number): Promise<Run> => {
      const cpuBefore = cpuTimeMs(nodeRed.pid);
      const foreign = new ForeignLoad([emulator.pid, nodeRed.pid]);
      const result = await tenPropertyRun(nodeRed, side, total);
      const foreignLoadPercent = foreign.percent();
      const cpuUsPerPost = ((cpuTimeMs(nodeRed.pid) - cpuBefore) * 1000) / total;
      context.progress(
        `  #7 run ${run} ${side}: ${Math.round(result.perSecond)} msg/s, ${cpuUsPerPost.toFixed(1)} µs CPU/post, ` +
          `${result.failed} failed${result.firstError ? ` (${result.firstError})` : ''}, other load ${foreignLoadPercent.toFixed(0)} %`,
      );
      return { side, run, ...result, cpuUsPerPost, foreignLoadPercent };
    };

    for (const side of SIDES) await tenPropertyRun(nodeRed, side, warmup);
    const runs: Run[] = [];
    for (let run = 1; run <= RUNS; run++) {
      // Alternating which side goes first, so a drift in load does not always favour one.
      const order = run % 2 === 1 ? SIDES : [...SIDES].reverse();
      for (const side of order) runs.push(await measure(side, run));
    }

    const of = (side: SideName, value: (r: Run) => number): number =>
      median(runs.filter((r) => r.side === side).map(value));
    // Each modelled run against the plain run of the same round, the median of those ratios.
    const cpuRatio = median(
      runs
        .filter((r) => r.side === 'model')
        .map((r) =>
          ratio(r.cpuUsPerPost, runs.find((b) => b.side === 'plain' && b.run === r.run)!.cpuUsPerPost),
        ),
    );
    const failed = runs.reduce((sum, r) => sum + r.failed, 0);
    const row = (label: string, side: SideName): (string | number)[] => [
      label,
      of(side, (r) => r.perSecond),
      of(side, (r) => r.cpuUsPerPost),
      side === 'plain' ? 1 : cpuRatio,
      runs
        .filter((r) => r.side === side)
        .map((r) => r.cpuUsPerPost.toFixed(1))
        .join(' / '),
    ];
    const foreignLoad = median(runs.map((r) => r.foreignLoadPercent));
    const table = formatTable(
      `#7 Property post of 10 properties (one per data type), QoS 1, replies awaited, ${WINDOW} in flight, ` +
        `${total.toLocaleString('en-US')} posts per run (median of ${RUNS}; other load: median ${foreignLoad.toFixed(0)} % of a core)`,
      ['side', 'msg/s', 'CPU µs/post', 'CPU ratio', 'runs (CPU µs/post)'],
      [row('no thing model (baseline)', 'plain'), row('100-point thing model, modelCheck reject', 'model')],
    );
    return {
      name: 'model-check',
      title: 'Thing-model check: CPU per post with a 100-point model vs without',
      tables: [table],
      goals: [
        {
          goal: `#7 CPU per post with a 100-point model ≤ ${GOAL} × without`,
          measured:
            `${cpuRatio.toFixed(2)} × (${of('model', (r) => r.cpuUsPerPost).toFixed(1)} vs ` +
            `${of('plain', (r) => r.cpuUsPerPost).toFixed(1)} µs)`,
          met: cpuRatio <= GOAL,
        },
        {
          goal: '#7 every post accepted by the model and replied to',
          measured: failed === 0 ? 'yes' : `${failed} failed`,
          met: failed === 0,
        },
      ],
      data: {
        total,
        warmup,
        window: WINDOW,
        runs,
        cpuRatio,
        foreignLoadPercent: foreignLoad,
        verdict: verdict(cpuRatio <= GOAL),
      },
    };
  });
}

function tenPropertyRun(nodeRed: BenchNodeRed, side: SideName, total: number): Promise<WindowedResult> {
  return nodeRed.get<WindowedResult>(`/bench/${side}/run`, { total, window: WINDOW, qos: 1, shape: 'ten' });
}
