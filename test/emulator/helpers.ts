import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { OneNetEmulator, type EmulatorDevice, type EmulatorOptions } from '../../src/emulator';
import { deviceResource, signToken, type SignMethod } from '../../src/protocol';

/** Shared test plumbing: emulators and MQTT.js clients that are always closed after each test. */

export const PRODUCT = 'Ck2AF9QD2K';

export function newKey(): string {
  return randomBytes(32).toString('base64');
}

export function newDevice(deviceName = 'dev1', productId = PRODUCT): EmulatorDevice {
  return { productId, deviceName, key: newKey() };
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export interface TokenOverrides {
  key?: string;
  res?: string;
  et?: number;
  method?: SignMethod;
  version?: string;
}

export function tokenFor(device: EmulatorDevice, overrides: TokenOverrides = {}): string {
  return signToken({
    key: overrides.key ?? device.key,
    res: overrides.res ?? deviceResource(device.productId, device.deviceName),
    et: overrides.et ?? nowSeconds() + 3600,
    method: overrides.method ?? 'sha256',
    ...(overrides.version ? { version: overrides.version } : {}),
  });
}

export function topicOf(device: EmulatorDevice, suffix: string): string {
  return `$sys/${device.productId}/${device.deviceName}/${suffix}`;
}

const openClients = new Set<MqttClient>();
const openEmulators = new Set<OneNetEmulator>();

export async function startEmulator(options: EmulatorOptions = {}): Promise<OneNetEmulator> {
  const emulator = await OneNetEmulator.start(options);
  openEmulators.add(emulator);
  return emulator;
}

/** Call from afterEach: closes every client and emulator the test opened. */
export async function closeAll(): Promise<void> {
  await Promise.all([...openClients].map((client) => client.endAsync(true).catch(() => undefined)));
  openClients.clear();
  await Promise.all([...openEmulators].map((emulator) => emulator.close()));
  openEmulators.clear();
}

export type ConnectOutcome =
  | { kind: 'connected'; client: MqttClient }
  | { kind: 'refused'; code: number | undefined; client: MqttClient }
  | { kind: 'closed'; client: MqttClient };

/**
 * Connects like a OneNET device (client id = device name, username = product id, password =
 * token) and reports how the attempt ended. Never reconnects on its own.
 */
export function connectDevice(
  port: number,
  device: EmulatorDevice,
  options: IClientOptions & { token?: string } = {},
): Promise<ConnectOutcome> {
  const { token, ...rest } = options;
  const client = mqtt.connect({
    host: '127.0.0.1',
    port,
    protocol: 'mqtt',
    protocolVersion: 4,
    clientId: device.deviceName,
    username: device.productId,
    password: token ?? tokenFor(device),
    keepalive: 60,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...rest,
  });
  openClients.add(client);
  return new Promise((resolve) => {
    const finish = (outcome: ConnectOutcome): void => {
      client.removeListener('connect', onConnect);
      client.removeListener('error', onError);
      client.removeListener('close', onClose);
      resolve(outcome);
    };
    const onConnect = (): void => finish({ kind: 'connected', client });
    const onError = (error: Error & { code?: number | string }): void =>
      finish({ kind: 'refused', code: typeof error.code === 'number' ? error.code : undefined, client });
    const onClose = (): void => finish({ kind: 'closed', client });
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('close', onClose);
  });
}

export async function connected(
  port: number,
  device: EmulatorDevice,
  options: IClientOptions & { token?: string } = {},
): Promise<MqttClient> {
  const outcome = await connectDevice(port, device, options);
  if (outcome.kind !== 'connected') throw new Error(`expected a connection, got ${outcome.kind}`);
  return outcome.client;
}

/** Resolves with the next `event` emitted, or rejects after `timeoutMs`. */
export function nextEvent<T = unknown>(emitter: EventEmitter, event: string, timeoutMs = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, onEvent);
      reject(new Error(`no "${event}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const onEvent = (value: T): void => {
      clearTimeout(timer);
      resolve(value);
    };
    emitter.once(event, onEvent);
  });
}

/** Resolves once the client's connection is closed (by the server), or rejects after `timeoutMs`. */
export function closedWithin(client: MqttClient, timeoutMs = 3000): Promise<void> {
  if (!client.connected && client.disconnected) return Promise.resolve();
  return nextEvent(client as unknown as EventEmitter, 'close', timeoutMs).then(() => undefined);
}

export interface Received {
  topic: string;
  payload: Record<string, unknown>;
  qos: number;
}

/** The next message on `topic`, parsed as JSON. */
export function nextMessage(client: MqttClient, topic: string, timeoutMs = 3000): Promise<Received> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.removeListener('message', onMessage);
      reject(new Error(`no message on ${topic} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (received: string, payload: Buffer, packet: { qos: number }): void => {
      if (received !== topic) return;
      clearTimeout(timer);
      client.removeListener('message', onMessage);
      resolve({
        topic: received,
        payload: JSON.parse(payload.toString('utf8')) as Record<string, unknown>,
        qos: packet.qos,
      });
    };
    client.on('message', onMessage);
  });
}

/** Every message the client receives from now on, in order. */
export function collectMessages(client: MqttClient): Received[] {
  const received: Received[] = [];
  client.on('message', (topic, payload, packet) => {
    received.push({
      topic,
      payload: JSON.parse(payload.toString('utf8')) as Record<string, unknown>,
      qos: packet.qos,
    });
  });
  return received;
}

export function request(id: string, params: unknown): string {
  return JSON.stringify({ id, version: '1.0', params });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
