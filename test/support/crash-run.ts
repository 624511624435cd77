import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deployFlows,
  prepareUserDir,
  startNodeRed,
  type NodeRedProcess,
} from '../../src/demo/node-red-process';
import { OneNetEmulator } from '../../src/emulator';
import { freePort, REPO_ROOT } from './packed-install';
import { crashFlow, parseCrashLine, TICKS_PER_RUN, type LivePace } from './crash-flow';

/**
 * Issue 16's crash test: a real `node-red` process with a device on offlinePolicy 'store' is killed
 * with SIGKILL at random points, alternately while it stores (the emulator not listening) and while
 * it backfills (listening, with replies held back so that a kill often lands between OneNET keeping
 * a value and the store hearing so), and restarted each time. At the end it runs until the store is
 * empty. Every value the flow was told was stored or sent must have reached the emulator, with one
 * time however often it arrived. Shared by the short run in `npm test` and the long one in bench/.
 */

export interface CrashRunOptions {
  kills: number;
  /** Random kill time after the run's first stored post, while storing. */
  storingKillMs: [number, number];
  /** Random kill time after the device connected, while backfilling. */
  backfillKillMs: [number, number];
  /** The emulator's reply delay while backfilling. */
  replyDelayMs: number;
  /** How long the final run may take to empty the store. */
  drainTimeoutMs: number;
  seed: number;
  /** SIGKILL for the crash test; SIGINT (Node-RED's own orderly stop) as the benchmark's baseline. */
  signal?: 'SIGKILL' | 'SIGINT';
  log?: (line: string) => void;
}

export interface KillRecord {
  phase: 'storing' | 'backfilling';
  /** Values reported stored or sent and not yet seen by the emulator when the process was killed. */
  undelivered: number;
  /**
   * Values OneNET (the emulator) had from a history post whose reply it still held back when the
   * process died: the store still counts them, so they arrive again after the restart.
   */
  unanswered: number;
  afterMs: number;
}

export interface CrashRunResult {
  kills: KillRecord[];
  /** Posts the flow made (their function node logged them before the post node had them). */
  generated: number;
  /** Reported stored (`msg.onenet.stored`) or sent (answered 200) to the flow. */
  reportedStored: number;
  reportedSent: number;
  /** Reported values that never reached the emulator: must be empty. */
  lost: number[];
  /** Distinct values the emulator accepted, and the extra copies among its arrivals. */
  delivered: number;
  duplicates: number;
  /** Values that arrived more than once with different times (must be 0: a repeat is identical). */
  timeChanged: number;
  /** Arrivals that are no value the flow made (garbage replayed from a torn record; must be 0). */
  unknown: number;
  /** Delivered though never reported (accepted just before a kill): allowed, counted. */
  deliveredUnreported: number;
  /** "torn end skipped" warnings in the Node-RED log. */
  tornSkipped: number;
  /** Arrivals by history post (the backfill) and by live post. */
  viaHistory: number;
  /** Values whose time lies outside the life of the process that made them (must be 0). */
  timeOutsideRun: number;
  durationMs: number;
  startupMs: number[];
}

const PRODUCT_ID = 'crashProd01';
const DEVICE_NAME = 'crash-device';

/** A small seeded generator (mulberry32), so that a failing run can be repeated with its seed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runCrashTest(options: CrashRunOptions): Promise<CrashRunResult> {
  const random = seeded(options.seed);
  const between = ([low, high]: [number, number]) => low + random() * (high - low);
  const log = options.log ?? (() => undefined);
  const key = randomBytes(32).toString('base64');
  const device = { productId: PRODUCT_ID, deviceName: DEVICE_NAME, key };
  const port = await freePort();
  const emulator = await OneNetEmulator.start({ devices: [device], port, propertyHistoryLimit: 1_000_000 });
  const workDir = await fsp.mkdtemp(join(tmpdir(), 'onenet-crash-'));
  const userDir = join(workDir, 'user');
  prepareUserDir(userDir, REPO_ROOT);

  const generated = new Map<number, { run: number }>();
  const reported = new Map<number, 'stored' | 'sent'>();
  const runSpans = new Map<number, { from: number; to: number }>();
  let tornSkipped = 0;
  const startupMs: number[] = [];
  const kills: KillRecord[] = [];
  const started = Date.now();
  let listening = true;
  let current: NodeRedProcess | undefined;

  const deliveredNow = () => new Set(emulator.propertyHistory(device, 'tick').map((r) => Number(r.value)));
  const undelivered = () => {
    const seen = deliveredNow();
    return [...reported.keys()].filter((tick) => !seen.has(tick));
  };

  async function start(run: number, pace: LivePace): Promise<NodeRedProcess> {
    const began = Date.now();
    runSpans.set(run, { from: began, to: Number.POSITIVE_INFINITY });
    const nodeRed = await startNodeRed(
      userDir,
      await freePort(),
      (line) => {
        const parsed = parseCrashLine(line);
        if (parsed?.type === 'gen') generated.set(parsed.tick, { run });
        else if (parsed?.type === 'stored' || parsed?.type === 'sent') reported.set(parsed.tick, parsed.type);
        else if (/store file .* was skipped|末尾 .* 字节无法读取/.test(line)) tornSkipped++;
        if (/\[(error|warn)\]/.test(line) && !parsed) log(`node-red: ${line}`);
      },
      { env: { ...process.env, CRASH_RUN: String(run), CRASH_PACE: pace } },
    );
    startupMs.push(Date.now() - began);
    return nodeRed;
  }

  async function kill(nodeRed: NodeRedProcess, run: number): Promise<void> {
    const exited = new Promise((resolve) => nodeRed.child.once('exit', resolve));
    nodeRed.child.kill(options.signal ?? 'SIGKILL');
    await exited;
    runSpans.get(run)!.to = Date.now();
  }

  async function until(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!probe()) {
      if (Date.now() > deadline) throw new Error(`crash test: timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function setListening(on: boolean): Promise<void> {
    if (on === listening) return;
    if (on) await emulator.startListening();
    else await emulator.stopListening();
    listening = on;
  }

  const connected = () => emulator.connections().some((c) => c.deviceName === DEVICE_NAME);
  const reportedIn = (run: number) =>
    [...reported.keys()].some((tick) => Math.floor(tick / TICKS_PER_RUN) === run);

  try {
    for (let k = 0; k < options.kills; k++) {
      const run = k + 1;
      const phase: KillRecord['phase'] = k % 2 === 0 ? 'storing' : 'backfilling';
      await setListening(phase === 'backfilling');
      emulator.setReplyDelay(phase === 'backfilling' ? options.replyDelayMs : 0);
      current = await start(run, phase === 'storing' ? 'fast' : 'slow');
      if (k === 0) await deployFlows(current.url, crashFlow(device, port));
      let afterMs: number;
      if (phase === 'storing') {
        await until(`a stored post in run ${run}`, () => reportedIn(run), 30_000);
        afterMs = between(options.storingKillMs);
      } else {
        await until(`the device connected in run ${run}`, connected, 30_000);
        afterMs = between(options.backfillKillMs);
      }
      await new Promise((resolve) => setTimeout(resolve, afterMs));
      const waiting = undelivered().length;
      await kill(current, run);
      const killedAt = Date.now();
      current = undefined;
      const unanswered = emulator
        .propertyHistory(device, 'tick')
        .filter((r) => r.via === 'history-post' && r.receivedAt > killedAt - options.replyDelayMs).length;
      kills.push({ phase, undelivered: waiting, unanswered, afterMs: Math.round(afterMs) });
      log(
        `kill ${run} (${phase}, after ${Math.round(afterMs)} ms): ${waiting} reported value(s) not yet` +
          ` delivered, ${unanswered} delivered and not yet answered`,
      );
    }
    const finalRun = options.kills + 1;
    await setListening(true);
    emulator.setReplyDelay(0);
    current = await start(finalRun, 'off');
    await until(
      'every reported value at the emulator',
      () => undelivered().length === 0,
      options.drainTimeoutMs,
    ).catch((err: Error) => log(err.message));
    await current.stop();
    runSpans.get(finalRun)!.to = Date.now();
    current = undefined;

    const history = emulator.propertyHistory(device, 'tick');
    const timesOf = new Map<number, Set<number>>();
    let viaHistory = 0;
    for (const record of history) {
      const tick = Number(record.value);
      if (!timesOf.has(tick)) timesOf.set(tick, new Set());
      timesOf.get(tick)!.add(record.time);
      if (record.via === 'history-post') viaHistory++;
    }
    let timeOutsideRun = 0;
    for (const [tick, times] of timesOf) {
      const span = runSpans.get(Math.floor(tick / TICKS_PER_RUN));
      for (const time of times) if (!span || time < span.from || time > span.to) timeOutsideRun++;
    }
    return {
      kills,
      generated: generated.size,
      reportedStored: [...reported.values()].filter((how) => how === 'stored').length,
      reportedSent: [...reported.values()].filter((how) => how === 'sent').length,
      lost: undelivered(),
      delivered: timesOf.size,
      duplicates: history.length - timesOf.size,
      timeChanged: [...timesOf.values()].filter((times) => times.size > 1).length,
      unknown: [...timesOf.keys()].filter((tick) => !generated.has(tick)).length,
      deliveredUnreported: [...timesOf.keys()].filter((tick) => generated.has(tick) && !reported.has(tick))
        .length,
      tornSkipped,
      viaHistory,
      timeOutsideRun,
      durationMs: Date.now() - started,
      startupMs,
    };
  } finally {
    if (current) await current.stop();
    await emulator.close();
    await fsp.rm(workDir, { recursive: true, force: true });
  }
}
