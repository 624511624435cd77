import { benchDevices } from './devices';
import { scaleFlow } from './flows';
import { startBenchNodeRed, type BenchNodeRed } from './node-red-harness';
import { rssBytes } from './proc-stats';
import { sleep, withCleanup } from './report';
import type { EmulatorWorker } from './workers';

/**
 * Memory samples that wait for the process to settle. A fresh Node-RED's RSS stays about 20 MB
 * above its later level for the first few seconds (start-up allocations V8 and malloc give back
 * soon after: 115 MB two seconds after the empty deploy, 94 MB from seven seconds on, on the
 * machine of BENCHMARKS.md, while its heap stays flat). #4 samples the empty flow two seconds after
 * start-up and the full flow a few seconds later, so that drop falls between its two samples; the
 * gateway's full sample comes 100 s after its empty one. Both sides of the gateway comparison are
 * therefore sampled here once RSS has settled.
 */

export interface MemorySample {
  rss: number;
  heapUsed: number;
  /** The kernel's RSS (/proc), as a cross-check of process.memoryUsage(). */
  procRss: number;
}

const STEP_MS = 2000;
const STABLE_BYTES = 512 * 1024;
const MIN_MS = 8000;
const MAX_MS = 40_000;

/** Samples (after forced collections) every 2 s until two in a row agree within 0.5 MB of RSS. */
export async function settledMemory(nodeRed: BenchNodeRed): Promise<MemorySample> {
  const started = Date.now();
  // Also gives a deploy that just returned time to serve the flow's HTTP endpoints.
  await sleep(STEP_MS);
  let last = await sample(nodeRed);
  for (;;) {
    await sleep(STEP_MS);
    const next = await sample(nodeRed);
    const elapsed = Date.now() - started;
    if ((elapsed >= MIN_MS && Math.abs(next.rss - last.rss) < STABLE_BYTES) || elapsed >= MAX_MS) return next;
    last = next;
  }
}

async function sample(nodeRed: BenchNodeRed): Promise<MemorySample> {
  const usage = await nodeRed.get<{ rss: number; heapUsed: number }>('/bench/memory');
  return { rss: usage.rss, heapUsed: usage.heapUsed, procRss: rssBytes(nodeRed.pid) };
}

export interface PerDevice {
  rss: number;
  heap: number;
  procRss: number;
}

export function perDevice(empty: MemorySample, full: MemorySample, count: number): PerDevice {
  return {
    rss: (full.rss - empty.rss) / count,
    heap: (full.heapUsed - empty.heapUsed) / count,
    procRss: (full.procRss - empty.procRss) / count,
  };
}

/**
 * #4's flow (scaleFlow: `count` onenet-device config nodes with one property post each, no posts)
 * in a fresh Node-RED, measured with settledMemory against the same flow with one device.
 */
export async function directSettledMemory(emulator: EmulatorWorker, count: number): Promise<PerDevice> {
  const devices = benchDevices('gw-direct', count);
  return withCleanup(async (defer) => {
    const nodeRed = await startBenchNodeRed();
    defer(() => nodeRed.stop());
    // The baseline is one device, connected, for the same reason as the gateway's (gateway-run.ts):
    // what the process's first connection costs once is not any one device's.
    await emulator.mark();
    await nodeRed.deploy(scaleFlow('ours', devices.slice(0, 1), emulator.port));
    await emulator.waitMarked({ connects: 1, subscribes: 1, timeoutMs: 30_000 });
    const one = await settledMemory(nodeRed);
    await emulator.mark();
    await nodeRed.deploy(scaleFlow('ours', devices, emulator.port));
    await emulator.waitMarked({ connects: count, subscribes: count, timeoutMs: 120_000 });
    return perDevice(one, await settledMemory(nodeRed), count - 1);
  });
}
