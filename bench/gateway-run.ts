import type { EmulatorDevice } from '../src/emulator';
import { DEFAULT_POST_TIMEOUT_MS } from '../src/node-red/post';
import { benchDevice, type BenchDevice } from './devices';
import type { StoredValue } from './emulator-process';
import {
  loginFigures,
  postFigures,
  uplinkFigures,
  type LoginFigures,
  type PostFigures,
  type UplinkFigures,
} from './gateway-analysis';
import {
  gatewayFlow,
  GATEWAY_PROPERTY,
  type GatewayFlowOptions,
  type GatewayPostsAnswer,
  type GatewayStatusAnswer,
} from './gateway-flow';
import { BURST, minimumBindingMs, postingLimits, type PostingLimits } from './gateway-limits';
import { emptyFlow } from './flows';
import { perDevice, settledMemory, type MemorySample, type PerDevice } from './gateway-memory';
import { problemLines, startBenchNodeRed, type BenchNodeRed } from './node-red-harness';
import { cpuTimeMs, ForeignLoad } from './proc-stats';
import { sleep, withCleanup } from './report';
import { EmulatorWorker } from './workers';

/**
 * One run of the gateway benchmark: a fresh emulator (limiting the gateway to `rate` publishes a
 * second with the client's burst, in `delay` mode, which never hides an excess: every publish
 * beyond the allowance is recorded) and a fresh Node-RED; the empty flow's memory, then the flow of
 * gateway-flow.ts deployed, the sub-devices bound and logged in, and the posts made either once all
 * are logged in, from the deploy on, or not at all.
 */

const GATEWAY_PRODUCT = 'BenchGw001';
const SUB_PRODUCT = 'BenchSub01';
const SETTLE_MS = 2000;

export interface GatewayRunSpec {
  key: string;
  rate: number;
  count: number;
  /** Bound in the emulator from the start (as in the console): only sub/login is needed. */
  preBound: boolean;
  /** When the posts start: once every sub-device is logged in, at the deploy, or never. */
  posting: 'after-login' | 'at-deploy' | 'none';
  intervalMs: number;
  perDevice: number;
  /** Measure memory per sub-device (settled, after all are logged in, before any post). */
  memory: boolean;
  /** The post nodes' timeout (ms; absent: the node's default) and the gateway's queue limit (absent: its default). */
  timeoutMs?: number;
  queueLimit?: number;
  /** Run only when named in --only (it takes longer than a full run may). */
  optIn?: boolean;
}

export interface GatewayPosting {
  figures: PostFigures;
  uplinks: UplinkFigures;
  limits: PostingLimits;
  firstErrors: Record<string, string>;
  /** CPU of the Node-RED process while the posts were sent, % of one core. */
  cpuPercent: number;
  foreignLoadPercent: number;
  windowMs: number;
}

export interface GatewayRun {
  spec: GatewayRunSpec;
  /** From the deploy to the emulator seeing the gateway log in (ms). */
  gatewayConnectMs: number;
  login: LoginFigures;
  minimumBindingMs: number;
  /** Per sub-device, both samples settled (gateway-memory.ts). */
  memory?: PerDevice;
  posting?: GatewayPosting;
  problems: string[];
}

export function gatewayDevices(spec: GatewayRunSpec): { gateway: BenchDevice; subs: BenchDevice[] } {
  const gateway = { ...benchDevice(`gw-${spec.key}`), productId: GATEWAY_PRODUCT };
  const subs = Array.from({ length: spec.count }, (_, i) => ({
    ...benchDevice(`gw-${spec.key}-sub-${String(i).padStart(4, '0')}`),
    productId: SUB_PRODUCT,
  }));
  return { gateway, subs };
}

export async function gatewayRun(
  spec: GatewayRunSpec,
  progress: (line: string) => void,
): Promise<GatewayRun> {
  const { gateway, subs } = gatewayDevices(spec);
  const gatewayRef = { productId: gateway.productId, deviceName: gateway.deviceName };
  const emulatorDevices: EmulatorDevice[] = [
    { ...gateway, nodeType: 'gateway' },
    ...subs.map((sub) => (spec.preBound ? { ...sub, gateway: gatewayRef } : sub)),
  ];
  return withCleanup(async (defer) => {
    const emulator = await EmulatorWorker.start(emulatorDevices, {
      uplinkRateLimit: { perSecond: spec.rate, burst: BURST, mode: 'delay' },
      recordUplinks: true,
    });
    defer(() => emulator.stop());
    const nodeRed = await startBenchNodeRed();
    defer(() => nodeRed.stop());
    const logStart = nodeRed.log.length;
    let empty: MemorySample | undefined;
    if (spec.memory) {
      // The baseline is the gateway with one sub-device, logged in: what the first connection of a
      // process costs once (MQTT.js's table of 65,536 two-byte packet-id buffers, about 6 MB of
      // heap, made on the first publish) is then not counted as the other sub-devices' own.
      await nodeRed.deploy(gatewayFlow(gateway, subs.slice(0, 1), emulator.port, flowOptions(spec)));
      await waitForLogins(emulator, gateway, 1, 60_000, progress);
      empty = await settledMemory(nodeRed);
    } else {
      await nodeRed.deploy(emptyFlow());
      await sleep(SETTLE_MS);
    }

    await emulator.mark();
    const deployedAt = Date.now();
    await nodeRed.deploy(gatewayFlow(gateway, subs, emulator.port, flowOptions(spec)));
    const minimumMs = minimumBindingMs(spec.count, spec.preBound, spec.rate);
    const result: Omit<GatewayRun, 'login' | 'gatewayConnectMs'> = {
      spec,
      minimumBindingMs: minimumMs,
      problems: [],
    };

    let posting: Promise<PostTiming> | undefined;
    if (spec.posting === 'at-deploy') posting = post(nodeRed, spec, emulator.pid, spec.count);
    else {
      await waitForLogins(emulator, gateway, spec.count, minimumMs * 2 + 60_000, progress, deployedAt);
      if (empty) result.memory = perDevice(empty, await settledMemory(nodeRed), spec.count - 1);
      else await sleep(SETTLE_MS);
      if (spec.posting === 'after-login') posting = post(nodeRed, spec, emulator.pid, 0);
    }
    const posted = posting ? await posting : undefined;
    const endedAt = Date.now();
    const uplinks = await emulator.uplinkLog(gateway);
    const marked = await emulator.marked();
    if (posted) {
      const answer = await nodeRed.get<GatewayPostsAnswer>('/bench/gw', { action: 'result' });
      const stored = await Promise.all(
        subs.map(async (sub) =>
          (await emulator.propertyHistory(sub)).filter(
            (value: StoredValue) => value.identifier === GATEWAY_PROPERTY,
          ),
        ),
      );
      const violations = await emulator.rateViolations(gateway);
      const uplinkStats = uplinkFigures(uplinks, violations, posted.from, posted.from + posted.windowMs);
      result.posting = {
        figures: postFigures(
          answer.posts,
          spec.count * spec.perDevice,
          stored,
          (uplinkStats.byKind['pack-post'] ?? 0) + (uplinkStats.byKind['history-post'] ?? 0),
        ),
        uplinks: uplinkStats,
        limits: posted.limits,
        firstErrors: answer.firstErrors,
        cpuPercent: posted.cpuPercent,
        foreignLoadPercent: posted.foreignLoadPercent,
        windowMs: posted.windowMs,
      };
    }
    result.problems = problemLines(nodeRed.log.slice(logStart)).slice(0, 5);
    return {
      ...result,
      gatewayConnectMs: marked.lastConnectAt - deployedAt,
      login: loginFigures(uplinks, spec.count, deployedAt, endedAt - deployedAt),
    };
  });
}

function flowOptions(spec: GatewayRunSpec): GatewayFlowOptions {
  return {
    uplinkRate: spec.rate,
    ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
    ...(spec.queueLimit !== undefined ? { queueLimit: spec.queueLimit } : {}),
  };
}

function timeoutOf(spec: GatewayRunSpec): number {
  return spec.timeoutMs ?? DEFAULT_POST_TIMEOUT_MS;
}

/** What post() measured itself; the rest of GatewayPosting comes from the emulator and the driver. */
type PostTiming = Pick<GatewayPosting, 'limits' | 'cpuPercent' | 'foreignLoadPercent' | 'windowMs'> & {
  from: number;
};

/** Starts the posts, waits until all are sent and settled (or their timeout is well past). */
async function post(
  nodeRed: BenchNodeRed,
  spec: GatewayRunSpec,
  emulatorPid: number,
  loginsPending: number,
): Promise<PostTiming> {
  const windowMs = spec.perDevice * spec.intervalMs;
  await driverReady(nodeRed);
  const foreign = new ForeignLoad([emulatorPid, nodeRed.pid]);
  const cpuBefore = cpuTimeMs(nodeRed.pid);
  const from = Date.now();
  await nodeRed.get<GatewayStatusAnswer>('/bench/gw', {
    action: 'start',
    intervalMs: spec.intervalMs,
    perDevice: spec.perDevice,
  });
  await sleep(windowMs);
  const cpuPercent = ((cpuTimeMs(nodeRed.pid) - cpuBefore) / (Date.now() - from)) * 100;
  const foreignLoadPercent = foreign.percent();
  const deadline = Date.now() + timeoutOf(spec) + 3000;
  for (;;) {
    const status = await nodeRed.get<GatewayStatusAnswer>('/bench/gw', { action: 'status' });
    if ((status.sent === status.total && status.settled === status.total) || Date.now() > deadline) break;
    await sleep(250);
  }
  return {
    from,
    windowMs,
    cpuPercent,
    foreignLoadPercent,
    limits: postingLimits({
      count: spec.count,
      perDevice: spec.perDevice,
      intervalMs: spec.intervalMs,
      rate: spec.rate,
      timeoutMs: timeoutOf(spec),
      loginsPending,
    }),
  };
}

/** The deploy request returns before the flow's HTTP endpoint is served: wait for it. */
async function driverReady(nodeRed: BenchNodeRed): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await nodeRed.get<GatewayStatusAnswer>('/bench/gw', { action: 'status' });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

async function waitForLogins(
  emulator: EmulatorWorker,
  gateway: BenchDevice,
  count: number,
  timeoutMs: number,
  progress: (line: string) => void,
  since = 0,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let reported = Date.now();
  for (;;) {
    const logins = (await emulator.uplinkLog(gateway)).filter(
      (u) => u.kind === 'sub-login' && u.receivedAt >= since,
    ).length;
    if (logins >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${logins} of ${count} sub-devices logged in`);
    if (Date.now() - reported >= 30_000) {
      progress(`    ${logins} of ${count} sub-devices logged in`);
      reported = Date.now();
    }
    await sleep(1000);
  }
}
