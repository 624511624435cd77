import { performance } from 'node:perf_hooks';
import { DeviceConnection } from '../src/connection';
import { sampleProperties, type BenchDevice } from './devices';
import { receiveInit, serveCommands } from './ipc';
import { RawDevice } from './raw-device';
import { runWindowed, type WindowedResult } from './windowed';

/**
 * Device clients outside Node-RED, in a process of their own (started with --expose-gc):
 * - one "single" client, either the hand-rolled MQTT.js baseline (RawDevice) or this package's
 *   DeviceConnection used from plain Node.js, for throughput and command round trips;
 * - many raw MQTT.js clients at once, for the scale baseline (connect time, memory, CPU).
 */

export interface ClientInit {
  port: number;
}

export type SingleKind = 'raw' | 'connection';

export interface ThroughputArgs {
  total: number;
  window: number;
  qos: 0 | 1;
  waitReply: boolean;
}

export interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
}

export interface ConnectManyResult {
  connectMs: number;
  failed: number;
}

export interface PostEveryResult {
  windowMs: number;
  cpuMs: number;
  posts: number;
  failed: number;
}

type Single = { kind: 'raw'; device: RawDevice } | { kind: 'connection'; connection: DeviceConnection };

async function main(): Promise<void> {
  const { port } = await receiveInit<ClientInit>();
  let single: Single | undefined;
  let many: RawDevice[] = [];

  const closeSingle = async (): Promise<void> => {
    const current = single;
    single = undefined;
    if (current?.kind === 'raw') await current.device.close();
    if (current?.kind === 'connection') await current.connection.close();
  };
  const closeMany = async (): Promise<void> => {
    const clients = many;
    many = [];
    await Promise.all(clients.map((client) => client.close()));
  };

  serveCommands(
    { pid: process.pid },
    {
      connectSingle: async ({ kind, device }: { kind: SingleKind; device: BenchDevice }): Promise<void> => {
        await closeSingle();
        if (kind === 'raw') {
          const raw = new RawDevice(device, port);
          await raw.connect();
          single = { kind, device: raw };
        } else {
          const connection = new DeviceConnection(
            { host: '127.0.0.1', port, productId: device.productId, deviceName: device.deviceName },
            // uplinkRate 0: the throughput benchmarks measure the connection unpaced.
            { key: device.key, tls: false, requestTimeoutMs: 60_000, uplinkRate: 0 },
          );
          connection.connect();
          await untilConnected(connection);
          single = { kind, connection };
        }
      },
      answerCommands: (): void => {
        if (single?.kind !== 'raw') throw new Error('answerCommands needs a raw single client');
        single.device.answerPropertySets();
      },
      throughput: (args: ThroughputArgs): Promise<WindowedResult> => {
        const current = single;
        if (!current) throw new Error('no single client connected');
        const sendOne =
          current.kind === 'raw'
            ? (sequence: number) => current.device.post(sequence, args.qos, args.waitReply)
            : (sequence: number) =>
                current.connection.request('property-post', sampleProperties(sequence), {
                  qos: args.qos,
                  waitReply: args.waitReply,
                });
        return runWindowed(args.total, args.window, sendOne);
      },
      closeSingle,
      memory: (): MemorySample => sampleMemory(),
      connectMany: async ({ devices }: { devices: BenchDevice[] }): Promise<ConnectManyResult> => {
        await closeMany();
        const started = performance.now();
        const clients = devices.map((device) => new RawDevice(device, port));
        const outcomes = await Promise.allSettled(clients.map((client) => client.connect()));
        const connectMs = performance.now() - started;
        many = clients;
        return { connectMs, failed: outcomes.filter((outcome) => outcome.status === 'rejected').length };
      },
      postEvery: ({ intervalMs, durationMs }: { intervalMs: number; durationMs: number }) =>
        postEvery(many, intervalMs, durationMs),
      closeMany,
    },
    async () => {
      await closeSingle();
      await closeMany();
    },
  );
}

/**
 * Each client posts (QoS 1, reply awaited) once per `intervalMs`, the clients spread evenly over the
 * interval, for `durationMs`; returns the CPU time the process used meanwhile.
 */
async function postEvery(
  clients: RawDevice[],
  intervalMs: number,
  durationMs: number,
): Promise<PostEveryResult> {
  if (clients.length === 0) throw new Error('no clients connected');
  const tickMs = intervalMs / clients.length;
  let posts = 0;
  let failed = 0;
  let next = 0;
  let sequence = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const pending: Promise<void>[] = [];
  await new Promise<void>((resolve) => {
    // One timer for all clients: due posts are sent in each tick (timer drift is caught up, not lost).
    const timer = setInterval(
      () => {
        const due = Math.floor((performance.now() - started) / tickMs);
        while (next < due) {
          const client = clients[next % clients.length]!;
          next++;
          posts++;
          pending.push(client.post(sequence++, 1, true).catch(() => void failed++));
        }
        if (performance.now() - started >= durationMs) {
          clearInterval(timer);
          resolve();
        }
      },
      Math.max(1, Math.floor(tickMs)),
    );
  });
  await Promise.all(pending);
  const windowMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { windowMs, cpuMs: (cpu.user + cpu.system) / 1000, posts, failed };
}

function untilConnected(connection: DeviceConnection): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the connection did not come up in 15 s')), 15_000);
    const check = (): void => {
      if (connection.status().state !== 'connected') return;
      clearTimeout(timer);
      connection.off('status', check);
      resolve();
    };
    connection.on('status', check);
    check();
  });
}

function sampleMemory(): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external };
}

main().catch((error: Error) => {
  console.error(`client process: ${error.message}`);
  process.exit(1);
});
