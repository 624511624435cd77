import { join } from 'node:path';
import type { EmulatorDevice } from '../src/emulator';
import type {
  ClientInit,
  ConnectManyResult,
  MemorySample,
  SingleKind,
  ThroughputArgs,
} from './client-process';
import type { BenchDevice } from './devices';
import type {
  EmulatorInfo,
  EmulatorInit,
  MarkedCounts,
  RateViolation,
  RoundTripArgs,
  RoundTripResult,
  StoredValue,
  UplinkCount,
  UplinkLogRecord,
  WaitMarkedArgs,
} from './emulator-process';
import { startWorker, type Worker } from './ipc';
import type { WindowedResult } from './windowed';

/** Typed handles on the benchmark's child processes (emulator-process.ts, client-process.ts). */

export class EmulatorWorker {
  private constructor(private readonly worker: Worker<EmulatorInfo>) {}

  static async start(
    devices: EmulatorDevice[],
    options: Omit<EmulatorInit, 'devices'> = {},
  ): Promise<EmulatorWorker> {
    const init: EmulatorInit = { devices, ...options };
    return new EmulatorWorker(await startWorker<EmulatorInfo>(join(__dirname, 'emulator-process.js'), init));
  }

  get port(): number {
    return this.worker.info.port;
  }

  get pid(): number {
    return this.worker.pid;
  }

  uplinks(device: BenchDevice): Promise<UplinkCount> {
    return this.worker.call('uplinks', { deviceName: device.deviceName });
  }

  /** Every accepted publish's arrival (needs recordUplinks). */
  uplinkLog(device: BenchDevice): Promise<UplinkLogRecord[]> {
    return this.worker.call('uplinkLog', { deviceName: device.deviceName });
  }

  propertyHistory(device: BenchDevice): Promise<StoredValue[]> {
    return this.worker.call('propertyHistory', { deviceName: device.deviceName });
  }

  rateViolations(device: BenchDevice): Promise<RateViolation[]> {
    return this.worker.call('rateViolations', { deviceName: device.deviceName });
  }

  connections(): Promise<number> {
    return this.worker.call('connections');
  }

  mark(): Promise<MarkedCounts> {
    return this.worker.call('mark');
  }

  /** The counts since the last mark, without resetting them. */
  marked(): Promise<MarkedCounts> {
    return this.worker.call('marked');
  }

  waitMarked(args: WaitMarkedArgs): Promise<MarkedCounts> {
    return this.worker.call('waitMarked', args, args.timeoutMs + 5000);
  }

  roundTrips(args: RoundTripArgs): Promise<RoundTripResult> {
    return this.worker.call('roundTrips', args, 600_000);
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }
}

export class ClientWorker {
  private constructor(private readonly worker: Worker<{ pid: number }>) {}

  static async start(port: number): Promise<ClientWorker> {
    const init: ClientInit = { port };
    return new ClientWorker(
      await startWorker<{ pid: number }>(join(__dirname, 'client-process.js'), init, ['--expose-gc']),
    );
  }

  get pid(): number {
    return this.worker.pid;
  }

  connectSingle(kind: SingleKind, device: BenchDevice): Promise<void> {
    return this.worker.call('connectSingle', { kind, device });
  }

  answerCommands(): Promise<void> {
    return this.worker.call('answerCommands');
  }

  throughput(args: ThroughputArgs): Promise<WindowedResult> {
    return this.worker.call('throughput', args, 600_000);
  }

  closeSingle(): Promise<void> {
    return this.worker.call('closeSingle');
  }

  memory(): Promise<MemorySample> {
    return this.worker.call('memory');
  }

  connectMany(devices: BenchDevice[]): Promise<ConnectManyResult> {
    return this.worker.call('connectMany', { devices }, 120_000);
  }

  postEvery(intervalMs: number, durationMs: number): Promise<{ posts: number; failed: number }> {
    return this.worker.call('postEvery', { intervalMs, durationMs }, durationMs + 60_000);
  }

  closeMany(): Promise<void> {
    return this.worker.call('closeMany', undefined, 60_000);
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }
}
