/**
 * Issue 16's outage figure: 10 devices with offlinePolicy 'store', 5 properties each every 10 s, a
 * 2-hour outage simulated with clock-driven timestamps (the values carry the times they would have
 * had; nothing waits real hours), then reconnect: stored, delivered, lost, duplicated, the backfill's
 * duration beside the minimum OneNET's limits allow at uplinkRate 1, and how long live posts made
 * during the backfill waited. Run: node .build/bench/bench-8-outage.js
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DeviceConnection } from '../src/connection';
import { OneNetEmulator } from '../src/emulator';
import { BATCH_LIMITS } from '../src/protocol';

const DEVICES = 10;
const PROPERTIES = 5;
const PERIOD_MS = 10_000;
const OUTAGE_MS = 2 * 3600 * 1000;
const POSTS = OUTAGE_MS / PERIOD_MS;

async function main(): Promise<void> {
  const key = randomBytes(32).toString('base64');
  const devices = Array.from({ length: DEVICES }, (_, i) => ({
    productId: 'BenchProd1',
    deviceName: `out-${i}`,
    key,
  }));
  const emulator = await OneNetEmulator.start({
    devices,
    propertyHistoryLimit: POSTS * PROPERTIES * 2,
  });
  const userDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'onenet-outage-'));
  await emulator.stopListening();
  const connections = devices.map(
    (device) =>
      new DeviceConnection(
        {
          host: emulator.host,
          port: emulator.port,
          productId: device.productId,
          deviceName: device.deviceName,
        },
        {
          key,
          tls: false,
          offlinePolicy: 'store',
          store: { dir: path.join(userDir, device.deviceName) },
          reconnect: { initialDelayMs: 200, maxDelayMs: 500 },
        },
      ),
  );
  for (const connection of connections) connection.connect();
  const start = Date.now() - OUTAGE_MS;
  const storeStarted = Date.now();
  let stored = 0;
  await Promise.all(
    connections.map(async (connection) => {
      const posts: Promise<unknown>[] = [];
      for (let i = 0; i < POSTS; i++) {
        const params: Record<string, number> = {};
        for (let p = 0; p < PROPERTIES; p++) params[`p${p}`] = i * 10 + p;
        posts.push(
          connection.request('property-post', params, { time: start + i * PERIOD_MS }).then((o) => {
            if (o.stored) stored += PROPERTIES;
          }),
        );
      }
      await Promise.all(posts);
    }),
  );
  const storeMs = Date.now() - storeStarted;
  await emulator.startListening();
  const backfillStarted = Date.now();
  const liveDelays: number[] = [];
  /** When each device's store was empty again (ms after the emulator came back). */
  const finishedMs: Array<number | undefined> = devices.map(() => undefined);
  /** Live posts device 0 made before its own backfill ended: they took slots of its budget. */
  let liveBeforeFirstDone = 0;
  let backfilling = true;
  const live = (async () => {
    let n = 0;
    while (backfilling) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (connections[0]!.status().state !== 'connected') continue;
      const outcome = await connections[0]!.request('property-post', { live: n++ }).catch(() => undefined);
      if (outcome && !outcome.stored) {
        liveDelays.push(outcome.latencyMs);
        if (finishedMs[0] === undefined) liveBeforeFirstDone++;
      }
    }
  })();
  const expected = POSTS * PROPERTIES;
  for (;;) {
    connections.forEach((connection, index) => {
      const status = connection.status();
      const empty =
        status.backfilling === undefined && status.stored === undefined && status.state === 'connected';
      if (empty && finishedMs[index] === undefined) finishedMs[index] = Date.now() - backfillStarted;
    });
    if (finishedMs.every((ms) => ms !== undefined)) break;
    if (Date.now() - backfillStarted > 300_000) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const backfillMs = Date.now() - backfillStarted;
  backfilling = false;
  await live;
  let delivered = 0;
  let duplicated = 0;
  let wrongTime = 0;
  for (const device of devices) {
    const seen = new Set<string>();
    for (let p = 0; p < PROPERTIES; p++) {
      for (const record of emulator.propertyHistory(device, `p${p}`)) {
        const i = (Number(record.value) - p) / 10;
        if (record.time !== start + i * PERIOD_MS) wrongTime++;
        const id = `${p}:${i}`;
        if (seen.has(id)) duplicated++;
        else delivered++;
        seen.add(id);
      }
    }
  }
  // One history post per device carries up to 100 values of each of its 5 properties. Each device
  // has its own budget (a burst of 3, then 1 a second), so the devices drain side by side; device 0
  // also sends the live posts, and each of those takes one of its slots.
  const messagesPerDevice = Math.ceil(POSTS / BATCH_LIMITS.valuesPerPoint);
  const minimumOf = (index: number): number =>
    Math.max(0, messagesPerDevice + (index === 0 ? liveBeforeFirstDone : 0) - 3) * 1000;
  const minimumMs = minimumOf(1);
  const ratios = finishedMs.map((ms, index) => (ms ?? Number.NaN) / Math.max(1000, minimumOf(index)));
  const result = {
    devices: DEVICES,
    valuesPerDevice: expected,
    stored,
    delivered,
    lost: DEVICES * expected - delivered,
    duplicated,
    wrongTime,
    storeSeconds: storeMs / 1000,
    backfillSeconds: backfillMs / 1000,
    minimumBackfillSeconds: minimumMs / 1000,
    devicesDoneSeconds: finishedMs.map((ms) => (ms ?? Number.NaN) / 1000),
    device0LivePostsDuringItsBackfill: liveBeforeFirstDone,
    device0MinimumSeconds: minimumOf(0) / 1000,
    worstRatioToMinimum: Math.max(...ratios),
    livePosts: liveDelays.length,
    liveMaxDelayMs: Math.max(0, ...liveDelays),
  };
  console.log(JSON.stringify(result, null, 2));
  await Promise.all(connections.map((connection) => connection.close()));
  await emulator.close();
  await fsp.rm(userDir, { recursive: true, force: true });
}

void main();
