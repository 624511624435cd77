import { benchDevices, type BenchDevice } from './devices';
import { emptyFlow, scaleFlow, type Side } from './flows';
import { problemLines, startBenchNodeRed, type BenchNodeRed } from './node-red-harness';
import { cpuTimeMs, rssBytes } from './proc-stats';
import { sleep, withCleanup, type BenchContext, type BenchReport } from './report';
import { formatTable, median, ratio } from './stats';
import { ClientWorker, EmulatorWorker } from './workers';

/**
 * #4 Scale and #5 redeploy, with one Node-RED process per run:
 * - an empty flow first (the memory baseline), then N onenet-device config nodes each with one
 *   onenet-property-post node, deployed at once: time until the emulator saw every device log in
 *   and subscribe; RSS and heap per device (after forced GC) against the empty flow;
 * - CPU of the Node-RED process while each device posts once every 10 s (reply awaited);
 * - #5: a full deploy of the same flow: time until every old session closed and every device is
 *   back (logged in and subscribed).
 * Baselines: N raw MQTT.js clients in a process of their own (connect time, memory, CPU), and the
 * same flows built from Node-RED's core mqtt-broker + mqtt out nodes (every figure, including #5).
 */

/** Runs per side; the smoke mode (--quick) makes one, as it judges no figure. */
const RUNS = 3;
const QUICK_RUNS = 1;
const POST_INTERVAL_MS = 10_000;
const SETTLE_MS = 2000;

export interface NodeRedRun {
  side: Side;
  run: number;
  deployMs: number;
  connectMs: number;
  /** What the emulator saw from the deploy until the measurement was over (logins, refusals, kicks). */
  storm: { connects: number; refusals: number; kicks: number };
  rssPerDevice: number;
  heapPerDevice: number;
  /** RSS read by the kernel (/proc), as a cross-check of process.memoryUsage(). */
  procRssPerDevice: number;
  cpuPercent: number;
  posts: { sent: number; ok: number; failed: number; firstError: string | null };
  redeploy: {
    deployMs: number;
    closedMs: number;
    reconnectedMs: number;
    connects: number;
    refusals: number;
    kicks: number;
  };
  problems: string[];
}

interface RawRun {
  run: number;
  connectMs: number;
  failed: number;
  rssPerDevice: number;
  heapPerDevice: number;
  cpuPercent: number;
  posts: number;
  postsFailed: number;
}

interface Memory {
  rss: number;
  heapUsed: number;
}

export async function runScale(context: BenchContext): Promise<BenchReport[]> {
  const count = context.quick ? 100 : 1000;
  const cpuWindowMs = context.quick ? 4000 : 20_000;
  const devices: Record<Side | 'raw', BenchDevice[]> = {
    ours: benchDevices('scale-ours', count),
    core: benchDevices('scale-core', count),
    raw: benchDevices('scale-raw', count),
  };
  return withCleanup(async (defer) => {
    const emulator = await EmulatorWorker.start([...devices.ours, ...devices.core, ...devices.raw]);
    defer(() => emulator.stop());

    const nodeRedRuns: NodeRedRun[] = [];
    const rawRuns: RawRun[] = [];
    const runs = context.quick ? QUICK_RUNS : RUNS;
    for (let run = 1; run <= runs; run++) {
      for (const side of ['ours', 'core'] as const) {
        const result = await nodeRedRun(context, emulator, side, devices[side], run, cpuWindowMs);
        nodeRedRuns.push(result);
        context.progress(
          `  #4 run ${run} ${side}: connected in ${result.connectMs} ms, ${(result.rssPerDevice / 1024).toFixed(1)} KB RSS/device, ` +
            `CPU ${result.cpuPercent.toFixed(2)} %, posts ${result.posts.ok}/${result.posts.sent}; ` +
            `#5 redeploy: closed ${result.redeploy.closedMs} ms, back ${result.redeploy.reconnectedMs} ms`,
        );
      }
      const raw = await rawRun(emulator, devices.raw, run, cpuWindowMs);
      rawRuns.push(raw);
      context.progress(
        `  #4 run ${run} raw: connected in ${raw.connectMs.toFixed(0)} ms, ${(raw.rssPerDevice / 1024).toFixed(1)} KB RSS/client, ` +
          `CPU ${raw.cpuPercent.toFixed(2)} %, posts ${raw.posts - raw.postsFailed}/${raw.posts}`,
      );
    }
    return [scaleReport(count, cpuWindowMs, nodeRedRuns, rawRuns), redeployReport(count, nodeRedRuns)];
  });
}

export async function nodeRedRun(
  context: BenchContext,
  emulator: EmulatorWorker,
  side: Side,
  devices: BenchDevice[],
  run: number,
  cpuWindowMs: number,
): Promise<NodeRedRun> {
  return withCleanup(async (defer) => {
    const nodeRed = await startBenchNodeRed(
      context.cpuProfileDir ? { cpuProfileDir: context.cpuProfileDir } : {},
    );
    defer(() => nodeRed.stop());
    const count = devices.length;
    await nodeRed.deploy(emptyFlow());
    // Only what Node-RED says from here on counts as a problem (its start-up notices do not).
    const logStart = nodeRed.log.length;
    await sleep(SETTLE_MS);
    const empty = await memoryOf(nodeRed);
    const procEmpty = rssBytes(nodeRed.pid);

    // Connect storm: every device's connection starts at deploy.
    const flow = scaleFlow(side, devices, emulator.port);
    const connected = (): { connects: number; subscribes?: number } =>
      side === 'ours' ? { connects: count, subscribes: count } : { connects: count };
    await emulator.mark();
    const deployStarted = Date.now();
    await nodeRed.deploy(flow);
    const deployMs = Date.now() - deployStarted;
    const up = await emulator.waitMarked({ ...connected(), timeoutMs: 120_000 });
    const connectMs = Math.max(up.lastConnectAt, up.lastSubscribeAt) - deployStarted;
    await sleep(SETTLE_MS);
    const full = await memoryOf(nodeRed);
    const procFull = rssBytes(nodeRed.pid);
    const afterStorm = await emulator.marked();

    // Each device posts once per interval, spread evenly; CPU counted after the first interval's ramp.
    await nodeRed.get('/bench/tick', { action: 'start', intervalMs: POST_INTERVAL_MS });
    await sleep(1000);
    const cpuBefore = cpuTimeMs(nodeRed.pid);
    const windowStarted = Date.now();
    await sleep(cpuWindowMs);
    const cpuPercent = ((cpuTimeMs(nodeRed.pid) - cpuBefore) / (Date.now() - windowStarted)) * 100;
    await nodeRed.get('/bench/tick', { action: 'stop' });
    await sleep(1000); // replies to the last posts
    const posts = await nodeRed.get<NodeRedRun['posts']>('/bench/tick', { action: 'stop' });

    // #5: a full redeploy of the same flow closes every node and starts them again.
    await emulator.mark();
    const redeployStarted = Date.now();
    await nodeRed.deploy(flow);
    const redeployMs = Date.now() - redeployStarted;
    const back = await emulator.waitMarked({ ...connected(), disconnects: count, timeoutMs: 120_000 });
    await sleep(SETTLE_MS);
    const afterRedeploy = await emulator.marked();

    return {
      side,
      run,
      deployMs,
      connectMs,
      storm: { connects: afterStorm.connects, refusals: afterStorm.refusals, kicks: afterStorm.kicks },
      rssPerDevice: (full.rss - empty.rss) / count,
      heapPerDevice: (full.heapUsed - empty.heapUsed) / count,
      procRssPerDevice: (procFull - procEmpty) / count,
      cpuPercent,
      posts,
      redeploy: {
        deployMs: redeployMs,
        closedMs: back.lastDisconnectAt - redeployStarted,
        reconnectedMs: Math.max(back.lastConnectAt, back.lastSubscribeAt) - redeployStarted,
        connects: afterRedeploy.connects,
        refusals: afterRedeploy.refusals,
        kicks: afterRedeploy.kicks,
      },
      problems: problemLines(nodeRed.log.slice(logStart)).slice(0, 5),
    };
  });
}

async function rawRun(
  emulator: EmulatorWorker,
  devices: BenchDevice[],
  run: number,
  cpuWindowMs: number,
): Promise<RawRun> {
  return withCleanup(async (defer) => {
    const clients = await ClientWorker.start(emulator.port);
    defer(() => clients.stop());
    const count = devices.length;
    await sleep(SETTLE_MS);
    const empty = await clients.memory();
    const connected = await clients.connectMany(devices);
    await sleep(SETTLE_MS);
    const full = await clients.memory();
    const cpuBefore = cpuTimeMs(clients.pid);
    const started = Date.now();
    const posting = await clients.postEvery(POST_INTERVAL_MS, cpuWindowMs);
    const cpuPercent = ((cpuTimeMs(clients.pid) - cpuBefore) / (Date.now() - started)) * 100;
    await clients.closeMany();
    return {
      run,
      connectMs: connected.connectMs,
      failed: connected.failed,
      rssPerDevice: (full.rss - empty.rss) / count,
      heapPerDevice: (full.heapUsed - empty.heapUsed) / count,
      cpuPercent,
      posts: posting.posts,
      postsFailed: posting.failed,
    };
  });
}

/** "every run: 1000 logins, 0 refused, 0 kicked", or each run's figures when they differ. */
function loginSummary(
  runs: NodeRedRun[],
  of: (run: NodeRedRun) => { connects: number; refusals: number; kicks: number },
): string {
  const texts = runs.map((r) => {
    const { connects, refusals, kicks } = of(r);
    return `${connects} logins, ${refusals} refused, ${kicks} kicked`;
  });
  if (texts.every((text) => text === texts[0])) return `every run: ${texts[0]}`;
  return runs.map((r, i) => `${r.side} run ${r.run}: ${texts[i]}`).join('; ');
}

function memoryOf(nodeRed: BenchNodeRed): Promise<Memory> {
  return nodeRed.get<Memory>('/bench/memory');
}

const KB = 1024;

function scaleReport(count: number, cpuWindowMs: number, runs: NodeRedRun[], rawRuns: RawRun[]): BenchReport {
  const of = (side: Side, pick: (r: NodeRedRun) => number): number =>
    median(runs.filter((r) => r.side === side).map(pick));
  const rawOf = (pick: (r: RawRun) => number): number => median(rawRuns.map(pick));
  const raw = {
    connectMs: rawOf((r) => r.connectMs),
    rss: rawOf((r) => r.rssPerDevice),
    heap: rawOf((r) => r.heapPerDevice),
    cpu: rawOf((r) => r.cpuPercent),
  };
  const sideSummary = (side: Side) => ({
    connectMs: of(side, (r) => r.connectMs),
    rss: of(side, (r) => r.rssPerDevice),
    procRss: of(side, (r) => r.procRssPerDevice),
    heap: of(side, (r) => r.heapPerDevice),
    cpu: of(side, (r) => r.cpuPercent),
  });
  const ours = sideSummary('ours');
  const core = sideSummary('core');
  const table = formatTable(
    `#4 Scale: ${count.toLocaleString('en-US')} devices, one post node each; CPU while each posts every ${POST_INTERVAL_MS / 1000} s ` +
      `(reply awaited), over ${cpuWindowMs / 1000} s (median of ${rawRuns.length})`,
    ['side', 'all connected ms', 'RSS KB/device', 'RSS ratio', 'heap KB/device', 'CPU %'],
    [
      ['raw MQTT.js clients (baseline)', raw.connectMs, raw.rss / KB, 1, raw.heap / KB, raw.cpu],
      [
        'Node-RED: onenet-device + property post',
        ours.connectMs,
        ours.rss / KB,
        ratio(ours.rss, raw.rss),
        ours.heap / KB,
        ours.cpu,
      ],
      [
        'Node-RED: core mqtt-broker + mqtt out',
        core.connectMs,
        core.rss / KB,
        ratio(core.rss, raw.rss),
        core.heap / KB,
        core.cpu,
      ],
    ],
  );
  const failedPosts = runs.filter((r) => r.side === 'ours').reduce((sum, r) => sum + r.posts.failed, 0);
  const memoryRatio = ratio(ours.rss, raw.rss);
  return {
    name: 'scale',
    title: `Scale: ${count} devices in one Node-RED`,
    tables: [table],
    goals: [
      {
        goal: `#4 all ${count} devices connected ≤ 10 s`,
        measured: `${(ours.connectMs / 1000).toFixed(2)} s (raw MQTT.js ${(raw.connectMs / 1000).toFixed(2)} s)`,
        met: ours.connectMs <= 10_000,
      },
      {
        goal: '#4 memory per device ≤ 1.25 × raw MQTT.js',
        measured: `${memoryRatio.toFixed(2)} × (${(ours.rss / KB).toFixed(1)} vs ${(raw.rss / KB).toFixed(1)} KB RSS per device)`,
        met: memoryRatio <= 1.25,
      },
      {
        goal: `#4 connect storm: exactly one login per device, none refused or kicked`,
        measured: loginSummary(runs, (r) => r.storm),
        met: runs.every((r) => r.storm.connects === count && r.storm.refusals === 0 && r.storm.kicks === 0),
      },
      {
        goal: '#4 every periodic post answered',
        measured: failedPosts === 0 ? 'yes' : `${failedPosts} failed`,
        met: failedPosts === 0,
      },
    ],
    data: {
      count,
      postIntervalMs: POST_INTERVAL_MS,
      cpuWindowMs,
      runs,
      rawRuns,
      medians: { raw, ours, core },
    },
  };
}

function redeployReport(count: number, runs: NodeRedRun[]): BenchReport {
  const of = (side: Side, pick: (r: NodeRedRun) => number): number =>
    median(runs.filter((r) => r.side === side).map(pick));
  const summary = (side: Side) => ({
    deployMs: of(side, (r) => r.redeploy.deployMs),
    closedMs: of(side, (r) => r.redeploy.closedMs),
    reconnectedMs: of(side, (r) => r.redeploy.reconnectedMs),
  });
  const ours = summary('ours');
  const core = summary('core');
  const runsOf = (side: Side): string =>
    runs
      .filter((r) => r.side === side)
      .map((r) => r.redeploy.reconnectedMs)
      .join(' / ');
  const table = formatTable(
    `#5 Full redeploy of the ${count.toLocaleString('en-US')}-device flow (median of ${runs.length / 2})`,
    ['side', 'deploy API ms', 'all closed ms', 'all back ms', 'ratio', 'runs (all back ms)'],
    [
      [
        'core mqtt-broker + mqtt out (baseline)',
        core.deployMs,
        core.closedMs,
        core.reconnectedMs,
        1,
        runsOf('core'),
      ],
      [
        'onenet-device + property post',
        ours.deployMs,
        ours.closedMs,
        ours.reconnectedMs,
        ratio(ours.reconnectedMs, core.reconnectedMs),
        runsOf('ours'),
      ],
    ],
  );
  const problems = runs.flatMap((r) => r.problems.map((line) => `${r.side} run ${r.run}: ${line}`));
  return {
    name: 'redeploy',
    title: `Full redeploy of ${count} devices`,
    tables: [table],
    goals: [
      {
        goal: `#5 full redeploy: every device closed and back (reported, no fixed goal)`,
        measured: `closed in ${(ours.closedMs / 1000).toFixed(2)} s, back in ${(ours.reconnectedMs / 1000).toFixed(2)} s (core: ${(core.reconnectedMs / 1000).toFixed(2)} s)`,
        met: true,
      },
      {
        goal: '#5 redeploy: every old session closed before its new login (no kick), one login each, none refused',
        measured: loginSummary(runs, (r) => r.redeploy),
        met: runs.every(
          (r) => r.redeploy.connects === count && r.redeploy.kicks === 0 && r.redeploy.refusals === 0,
        ),
      },
      {
        goal: '#5 no warnings or errors from Node-RED during deploys',
        measured: problems.length === 0 ? 'none' : problems.slice(0, 3).join(' | '),
        met: problems.length === 0,
      },
    ],
    data: {
      count,
      runs: runs.map((r) => ({ side: r.side, run: r.run, ...r.redeploy })),
      medians: { ours, core },
      problems,
    },
  };
}
