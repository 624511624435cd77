import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import {
  ConnectionPool,
  DeviceConnection,
  type ConnectionStatus,
  type DeviceConnectionOptions,
  type DeviceIdentity,
} from '../../src/connection';
import { OneNetEmulator, type DeviceRef, type EmulatorOptions } from '../../src/emulator';

/** Shared plumbing for the connection tests: every emulator, connection and pool is closed in afterEach. */

export const PRODUCT = 'Ck2AF9QD2K';

/** Small delays so reconnect tests take milliseconds, not seconds. */
// Drops right after login look like kicks; tests that drop on purpose must not wait the 30 s default.
export const FAST_RECONNECT = { initialDelayMs: 50, maxDelayMs: 200, kickedDelayMs: 200 };

export function newKey(): string {
  return randomBytes(32).toString('base64');
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface TestDevice {
  identity: DeviceIdentity;
  ref: DeviceRef;
  key: string;
}

export class Harness {
  private readonly connections = new Set<DeviceConnection>();
  private readonly pools = new Set<ConnectionPool>();
  private deviceCount = 0;

  private constructor(readonly emulator: OneNetEmulator) {}

  static async start(options: EmulatorOptions = {}): Promise<Harness> {
    return new Harness(await OneNetEmulator.start(options));
  }

  /** Registers a new device with the emulator. */
  device(deviceName = `dev${++this.deviceCount}`, port = this.emulator.port): TestDevice {
    const key = newKey();
    this.emulator.addDevice({ productId: PRODUCT, deviceName, key });
    return {
      identity: { host: '127.0.0.1', port, productId: PRODUCT, deviceName },
      ref: { productId: PRODUCT, deviceName },
      key,
    };
  }

  /**
   * A connection with plain MQTT, fast reconnects and no uplink rate limit unless told otherwise
   * (these tests drive pipelining and reconnects at full speed; the uplink scheduler has its own);
   * closed after the test.
   */
  connection(device: TestDevice, options: Partial<DeviceConnectionOptions> = {}): DeviceConnection {
    const connection = new DeviceConnection(device.identity, {
      key: device.key,
      tls: false,
      uplinkRate: 0,
      ...options,
      reconnect: { ...FAST_RECONNECT, ...options.reconnect },
    });
    this.connections.add(connection);
    return connection;
  }

  /** Connects and waits until requests can be sent. */
  async connected(
    device: TestDevice,
    options: Partial<DeviceConnectionOptions> = {},
  ): Promise<DeviceConnection> {
    const connection = this.connection(device, options);
    connection.connect();
    await waitForStatus(connection, (status) => status.state === 'connected');
    return connection;
  }

  pool(): ConnectionPool {
    const pool = new ConnectionPool();
    this.pools.add(pool);
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.connections].map((connection) => connection.close()));
    await Promise.all([...this.pools].map((pool) => pool.closeAll()));
    this.connections.clear();
    this.pools.clear();
    await this.emulator.close();
  }
}

/** Resolves with the first status (current or later) that matches; rejects after `timeoutMs`. */
export function waitForStatus(
  connection: DeviceConnection,
  predicate: (status: ConnectionStatus) => boolean,
  timeoutMs = 5000,
): Promise<ConnectionStatus> {
  const current = connection.status();
  if (predicate(current)) return Promise.resolve(current);
  return waitForEvent<ConnectionStatus>(connection, 'status', predicate, timeoutMs, () =>
    JSON.stringify(connection.status()),
  );
}

export function waitForEvent<T>(
  emitter: EventEmitter,
  event: string,
  predicate: (value: T) => boolean = () => true,
  timeoutMs = 5000,
  describe: () => string = () => '',
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, listener);
      reject(new Error(`no matching '${event}' event within ${timeoutMs} ms ${describe()}`));
    }, timeoutMs);
    function listener(value: T): void {
      if (!predicate(value)) return;
      clearTimeout(timer);
      emitter.removeListener(event, listener);
      resolve(value);
    }
    emitter.on(event, listener);
  });
}

/** Records every value of `event` until stopped. */
export function record<T>(emitter: EventEmitter, event: string): { values: T[]; stop: () => void } {
  const values: T[] = [];
  const listener = (value: T): void => {
    values.push(value);
  };
  emitter.on(event, listener);
  return { values, stop: () => emitter.removeListener(event, listener) };
}

/** Open TCP and TLS sockets in this process (client and in-process broker sides alike). */
export function openSockets(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap' || name === 'TLSWrap')
    .length;
}

/** Polls until `check` holds; rejects after `timeoutMs` with `what`. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}
