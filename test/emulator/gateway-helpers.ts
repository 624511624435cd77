/** Shared plumbing of the gateway tests: a gateway client logged in, its sub-devices, its requests. */
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import {
  PlatformRequestError,
  type EmulatorDevice,
  type EmulatorOptions,
  type OneNetEmulator,
} from '../../src/emulator';
import { buildSubLoginRequest, buildTopoAddRequest, signSubDeviceToken } from '../../src/protocol';
import { connected, newDevice, newKey, nextMessage, nowSeconds, startEmulator, topicOf } from './helpers';

export const GW_PRODUCT = 'GwProd0001';
export const SUB_PRODUCT = 'SubProd001';
export const T = 1_700_000_000_000;

export interface Setup {
  emulator: OneNetEmulator;
  gateway: EmulatorDevice;
  subs: EmulatorDevice[];
  productKey: string;
  client: MqttClient;
  logs: string[];
}

export async function setup(options: EmulatorOptions = {}, subCount = 3): Promise<Setup> {
  const gateway: EmulatorDevice = { ...newDevice('gw-01', GW_PRODUCT), nodeType: 'gateway' };
  const subs = Array.from({ length: subCount }, (_, i) => newDevice(`field-${i}`, SUB_PRODUCT));
  const productKey = newKey();
  const logs: string[] = [];
  const emulator = await startEmulator({
    devices: [gateway, ...subs],
    products: [{ productId: SUB_PRODUCT, accessKey: productKey }],
    log: (line) => logs.push(line),
    ...options,
  });
  const client = await connected(emulator.port, gateway);
  await client.subscribeAsync(topicOf(gateway, 'thing/#'));
  return { emulator, gateway, subs, productKey, client, logs };
}

let nextId = 100;

/** Publishes a gateway request on thing/{suffix} and resolves with its reply. */
export async function call(
  s: Setup,
  suffix: string,
  payload: string,
  client = s.client,
): Promise<Record<string, unknown>> {
  const reply = nextMessage(client, topicOf(s.gateway, `thing/${suffix}/reply`));
  await client.publishAsync(topicOf(s.gateway, `thing/${suffix}`), payload, { qos: 1 });
  return (await reply).payload;
}

export function sasToken(sub: EmulatorDevice, key = sub.key, deviceName = sub.deviceName): string {
  return signSubDeviceToken({ productID: sub.productId, deviceName, key, et: nowSeconds() + 3600 });
}

export function addRequest(sub: EmulatorDevice, token = sasToken(sub)): string {
  return JSON.stringify(
    buildTopoAddRequest(String(nextId++), {
      deviceName: sub.deviceName,
      productID: sub.productId,
      sasToken: token,
    }),
  );
}

export function loginRequest(sub: EmulatorDevice): string {
  return JSON.stringify(
    buildSubLoginRequest(String(nextId++), { productID: sub.productId, deviceName: sub.deviceName }),
  );
}

export async function bind(s: Setup, sub: EmulatorDevice): Promise<void> {
  assert.equal((await call(s, 'sub/topo/add', addRequest(sub))).code, 200);
}

export function ref(device: EmulatorDevice): { productId: string; deviceName: string } {
  return { productId: device.productId, deviceName: device.deviceName };
}

export function identity(device: EmulatorDevice): { productID: string; deviceName: string } {
  return { productID: device.productId, deviceName: device.deviceName };
}

/** Answers the next platform request on thing/{suffix} with what `answer` returns. */
export function answer(
  s: Setup,
  suffix: string,
  answer: (request: Record<string, unknown>) => unknown,
): Promise<Record<string, unknown>> {
  return nextMessage(s.client, topicOf(s.gateway, `thing/${suffix}`)).then(async ({ payload }) => {
    await s.client.publishAsync(topicOf(s.gateway, `thing/${suffix}_reply`), JSON.stringify(answer(payload)));
    return payload;
  });
}

export async function rejection(promise: Promise<unknown>): Promise<PlatformRequestError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PlatformRequestError, String(error));
    return error;
  }
  assert.fail('expected a rejection');
}
