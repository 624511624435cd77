import { performance } from 'node:perf_hooks';
import { OneNetEmulator, type EmulatorDevice, type UplinkRateLimitOptions } from '../src/emulator';
import { receiveInit, serveCommands } from './ipc';
import { summariseLatencies, type LatencySummary } from './stats';

/**
 * The OneNET emulator in a process of its own, so broker CPU never shares an event loop with what a
 * benchmark measures. Started by startEmulatorProcess() (emulator-worker.ts); answers:
 * - uplinks {deviceName}: accepted publishes from one device, split by QoS;
 * - mark / waitMarked: counts logins, subscriptions and disconnects from a mark on, with the wall
 *   clock time of the last one (connect storms, redeploys);
 * - roundTrips: property set requests to one device, one at a time, with per-request latency;
 * - uplinkLog / propertyHistory / rateViolations {deviceName}: when started with recordUplinks, the
 *   arrival time and kind of every accepted publish; the property values stored with their times;
 *   the publishes beyond the uplink rate limit (the paced-flood benchmark).
 */

export interface EmulatorInit {
  /** Bench devices, or gateways and their sub-devices (nodeType, gateway) for the gateway benchmark. */
  devices: EmulatorDevice[];
  /** The emulator's uplinkRateLimit option (off when absent). */
  uplinkRateLimit?: UplinkRateLimitOptions;
  /** Keep every accepted publish's arrival time and kind (uplinkLog); only for low-rate benchmarks. */
  recordUplinks?: boolean;
}

export interface UplinkLogRecord {
  kind: string;
  receivedAt: number;
  qos: number;
}

export interface StoredValue {
  identifier: string;
  value: unknown;
  time: number;
  via: string;
  receivedAt: number;
}

export interface RateViolation {
  at: number;
  action: string;
  delayMs?: number;
}

export interface EmulatorInfo {
  port: number;
}

export interface UplinkCount {
  total: number;
  qos0: number;
  qos1: number;
}

export interface MarkedCounts {
  connects: number;
  subscribes: number;
  disconnects: number;
  /** Sessions closed because the same device logged in again (§1.3). */
  kicks: number;
  /** CONNECTs refused (bad token, protocol rules). */
  refusals: number;
  /** Date.now() of the last event of each kind since the mark (0: none). */
  lastConnectAt: number;
  lastSubscribeAt: number;
  lastDisconnectAt: number;
  /** Sessions open now. */
  connections: number;
}

export interface WaitMarkedArgs {
  connects?: number;
  subscribes?: number;
  disconnects?: number;
  timeoutMs: number;
}

export interface RoundTripArgs {
  deviceName: string;
  count: number;
  /** Requests sent before measuring, so connection set-up and JIT warm-up are not counted. */
  warmup: number;
}

export interface RoundTripResult {
  latency: LatencySummary;
  failures: number;
  firstFailure?: string;
  elapsedMs: number;
}

async function main(): Promise<void> {
  const { devices, uplinkRateLimit, recordUplinks } = await receiveInit<EmulatorInit>();
  // The uplink log keeps parsed payloads; the benchmarks count through the events instead.
  const emulator = await OneNetEmulator.start({
    devices,
    uplinkLogLimit: 100,
    eventLogLimit: 10,
    ...(uplinkRateLimit ? { uplinkRateLimit } : {}),
  });
  const productOf = new Map(devices.map((device) => [device.deviceName, device.productId]));
  const refOf = (deviceName: string): { productId: string; deviceName: string } => {
    const productId = productOf.get(deviceName);
    if (!productId) throw new Error(`unknown device ${deviceName}`);
    return { productId, deviceName };
  };

  const uplinks = new Map<string, UplinkCount>();
  const uplinkLog = new Map<string, UplinkLogRecord[]>();
  emulator.on('uplink', (record) => {
    let count = uplinks.get(record.deviceName);
    if (!count) uplinks.set(record.deviceName, (count = { total: 0, qos0: 0, qos1: 0 }));
    count.total++;
    if (record.qos === 0) count.qos0++;
    else count.qos1++;
    if (recordUplinks) {
      let log = uplinkLog.get(record.deviceName);
      if (!log) uplinkLog.set(record.deviceName, (log = []));
      log.push({ kind: record.kind, receivedAt: record.receivedAt, qos: record.qos });
    }
  });

  let marked = freshMark(emulator);
  emulator.on('client-connected', () => {
    marked.connects++;
    marked.lastConnectAt = Date.now();
  });
  emulator.on('subscribed', () => {
    marked.subscribes++;
    marked.lastSubscribeAt = Date.now();
  });
  emulator.on('client-disconnected', () => {
    marked.disconnects++;
    marked.lastDisconnectAt = Date.now();
  });
  emulator.on('kicked', () => void marked.kicks++);
  emulator.on('client-refused', () => void marked.refusals++);

  const snapshot = (): MarkedCounts => ({ ...marked, connections: emulator.connections().length });

  serveCommands(
    { port: emulator.port } satisfies EmulatorInfo,
    {
      uplinks: ({ deviceName }: { deviceName: string }): UplinkCount => ({
        ...(uplinks.get(deviceName) ?? { total: 0, qos0: 0, qos1: 0 }),
      }),
      uplinkLog: ({ deviceName }: { deviceName: string }): UplinkLogRecord[] =>
        uplinkLog.get(deviceName) ?? [],
      propertyHistory: ({ deviceName }: { deviceName: string }): StoredValue[] =>
        emulator.propertyHistory(refOf(deviceName)).map(({ identifier, value, time, via, receivedAt }) => ({
          identifier,
          value,
          time,
          via,
          receivedAt,
        })),
      rateViolations: ({ deviceName }: { deviceName: string }): RateViolation[] =>
        emulator.rateViolations(refOf(deviceName)).map(({ at, action, delayMs }) => {
          const violation: RateViolation = { at, action };
          if (delayMs !== undefined) violation.delayMs = delayMs;
          return violation;
        }),
      connections: (): number => emulator.connections().length,
      marked: (): MarkedCounts => snapshot(),
      mark: (): MarkedCounts => {
        marked = freshMark(emulator);
        return snapshot();
      },
      waitMarked: async (args: WaitMarkedArgs): Promise<MarkedCounts> => {
        const deadline = Date.now() + args.timeoutMs;
        const reached = (): boolean =>
          marked.connects >= (args.connects ?? 0) &&
          marked.subscribes >= (args.subscribes ?? 0) &&
          marked.disconnects >= (args.disconnects ?? 0);
        while (!reached()) {
          if (Date.now() > deadline)
            throw new Error(`not reached in ${args.timeoutMs} ms: ${JSON.stringify(snapshot())}`);
          await sleep(5);
        }
        return snapshot();
      },
      roundTrips: async (args: RoundTripArgs): Promise<RoundTripResult> => {
        const productId = productOf.get(args.deviceName);
        if (!productId) throw new Error(`unknown device ${args.deviceName}`);
        const ref = { productId, deviceName: args.deviceName };
        for (let i = 0; i < args.warmup; i++) await emulator.setProperty(ref, { setpoint: i });
        const latencies: number[] = [];
        let failures = 0;
        let firstFailure: string | undefined;
        const started = performance.now();
        for (let i = 0; i < args.count; i++) {
          const sentAt = performance.now();
          try {
            const reply = await emulator.setProperty(ref, { setpoint: i % 1000 });
            if (reply.code !== 200) throw new Error(`reply code ${reply.code}`);
            latencies.push(performance.now() - sentAt);
          } catch (error) {
            failures++;
            firstFailure ??= (error as Error).message;
          }
        }
        const result: RoundTripResult = {
          latency: summariseLatencies(latencies),
          failures,
          elapsedMs: performance.now() - started,
        };
        if (firstFailure !== undefined) result.firstFailure = firstFailure;
        return result;
      },
    },
    () => emulator.close(),
  );
}

function freshMark(emulator: OneNetEmulator): MarkedCounts {
  return {
    connects: 0,
    subscribes: 0,
    disconnects: 0,
    kicks: 0,
    refusals: 0,
    lastConnectAt: 0,
    lastSubscribeAt: 0,
    lastDisconnectAt: 0,
    connections: emulator.connections().length,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((error: Error) => {
  console.error(`emulator process: ${error.message}`);
  process.exit(1);
});
