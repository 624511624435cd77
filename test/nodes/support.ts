import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { defaultPool } from '../../src/connection';
import { nodeRedPackageDir } from '../../src/demo/node-red-process';
import { OneNetEmulator, type DeviceRef } from '../../src/emulator';
import helper, {
  type Credentials,
  type FlowNode,
  type NodeModule,
  type TestNode,
} from 'node-red-node-test-helper';
import commandInNode from '../../src/onenet-command-in';
import commandReplyNode from '../../src/onenet-command-reply';
import deviceNode from '../../src/onenet-device';
import eventPostNode from '../../src/onenet-event-post';
import productNode from '../../src/onenet-product';
import propertyPostNode from '../../src/onenet-property-post';

/**
 * Shared set-up for the Node-RED node tests: node-red-node-test-helper with our six node sets and
 * an emulator on a free port. Every flow node gets z, x and y so the runtime starts it as a flow node.
 */

export type { Credentials, FlowNode, NodeModule };

export { helper };
export type { TestNode };
// The Node-RED under test is chosen in one place (ONENET_NODE_RED), shared with the end-to-end tests.
helper.init(require.resolve(nodeRedPackageDir()));

export const ALL_NODES: NodeModule[] = [
  productNode,
  deviceNode,
  propertyPostNode,
  eventPostNode,
  commandInNode,
  commandReplyNode,
];

export const PRODUCT_ID = 'TestProd01';
export const DEVICE_NAME = 'node-test-1';
export const DEVICE: DeviceRef = { productId: PRODUCT_ID, deviceName: DEVICE_NAME };
export const KEY = randomBytes(32).toString('base64');
export const TAB = 'flow1';

export async function startEmulator(): Promise<OneNetEmulator> {
  return OneNetEmulator.start({ devices: [{ productId: PRODUCT_ID, deviceName: DEVICE_NAME, key: KEY }] });
}

/** An onenet-device config node pointing at the emulator (plain MQTT). */
export function deviceConfig(emulator: OneNetEmulator, overrides: Partial<FlowNode> = {}): FlowNode {
  return {
    id: 'cfg',
    type: 'onenet-device',
    name: 'test device',
    productId: PRODUCT_ID,
    deviceName: DEVICE_NAME,
    host: emulator.host,
    port: String(emulator.port),
    tls: false,
    tlsConfig: '',
    signMethod: 'sha256',
    tokenTtl: '3600',
    keepalive: '60',
    ...overrides,
  };
}

let nextX = 100;
/** A flow node on the test tab. */
export function flowNode(
  id: string,
  type: string,
  props: Record<string, unknown> = {},
  wires: string[][] = [[]],
): FlowNode {
  nextX += 10;
  return { id, type, z: TAB, x: nextX, y: 100, wires, ...props };
}

/** A core Catch node for the whole tab, wired to a helper node `<id>-out`. */
export function catchAll(id = 'catch'): FlowNode[] {
  return [
    flowNode(id, 'catch', { scope: null, uncaught: false }, [[`${id}-out`]]),
    flowNode(`${id}-out`, 'helper'),
  ];
}

export function credentials(key = KEY, ids: string[] = ['cfg']): Credentials {
  return Object.fromEntries(ids.map((id) => [id, { key }]));
}

const TAB_NODE: FlowNode = { id: TAB, type: 'tab', label: 'test' };

export async function load(flow: FlowNode[], creds: Credentials = credentials()): Promise<void> {
  await helper.load(ALL_NODES, [TAB_NODE, ...flow], creds);
}

/** A deploy of `flow` on the test tab after load(): 'nodes' is a partial deploy of changed nodes only. */
export async function redeploy(
  flow: FlowNode[],
  type: 'full' | 'flows' | 'nodes',
  creds: Credentials = credentials(),
): Promise<void> {
  await helper.setFlows([TAB_NODE, ...flow], type, creds);
}

/** The text a Catch node sees in msg.error.message: String(err), which for our errors is the message alone. */
export function errorText(msg: Record<string, unknown>): string {
  return (msg.error as { message: string }).message;
}

export function node(id: string): TestNode {
  const found = helper.getNode(id);
  assert.ok(found, `node ${id} is running`);
  return found;
}

/** Resolves with the next message that reaches helper node `id`. */
export function nextMessage(id: string, timeoutMs = 3000): Promise<Record<string, unknown>> {
  const target = node(id);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no message reached ${id} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    target.on('input', (msg: never) => {
      clearTimeout(timer);
      resolve(msg as Record<string, unknown>);
    });
  });
}

/** Collects every message that reaches helper node `id`. */
export function collect(id: string): Array<Record<string, unknown>> {
  const seen: Array<Record<string, unknown>> = [];
  node(id).on('input', (msg: never) => seen.push(msg as Record<string, unknown>));
  return seen;
}

/** Resolves with the arguments of the next call of `method` (status, warn, error…) on node `id`. */
export function nextCall(
  id: string,
  method: string,
  matching: (args: unknown[]) => boolean = () => true,
  timeoutMs = 3000,
): Promise<unknown[]> {
  const target = node(id);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no matching ${method} call on ${id} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    target.on(`call:${method}`, (call: never) => {
      const args = (call as { args: unknown[] }).args;
      if (!matching(args)) return;
      clearTimeout(timer);
      resolve(args);
    });
  });
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(10);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until the emulator has the test device logged in and subscribed (so replies can reach it). */
export async function waitConnected(emulator: OneNetEmulator, device: DeviceRef = DEVICE): Promise<void> {
  await waitFor(
    () =>
      emulator
        .connections()
        .some((c) => c.productId === device.productId && c.deviceName === device.deviceName) &&
      emulator.subscriptions(device).length > 0,
    `${device.productId}/${device.deviceName} to connect and subscribe`,
  );
}

/** Unloads the flows and checks the pool was left empty; then makes sure of it for the next test. */
export async function unloadAndCheckPool(): Promise<void> {
  try {
    await helper.unload();
    assert.equal(defaultPool.connectionCount(), 0, 'every connection is closed once the flows are gone');
  } finally {
    await defaultPool.closeAll();
  }
}

/** The arguments of every call of `method` (status, warn, error, log) on node `id`, oldest first. */
export function callHistory(id: string, method: 'status' | 'warn' | 'error' | 'log'): unknown[][] {
  const target = node(id);
  // The helper replaces Node.prototype methods with proxied sinon spies; their calls remember `this`.
  const spy = (
    target as unknown as Record<string, { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> }>
  )[method];
  return spy
    .getCalls()
    .filter((call) => call.thisValue === target)
    .map((call) => call.args);
}

/** Every status node `id` has shown so far, oldest first. */
export function statusHistory(id: string): Array<{ fill?: string; shape?: string; text?: string }> {
  return callHistory(id, 'status').map((args) => args[0] as { fill?: string; shape?: string; text?: string });
}

export function lastStatus(id: string): { fill?: string; shape?: string; text?: string } | undefined {
  return statusHistory(id).at(-1);
}

/** Waits until node `id` shows a status whose text is `text` (an i18n key: the helper does not translate). */
export async function waitStatus(id: string, text: string, timeoutMs = 3000): Promise<void> {
  await waitFor(
    () => lastStatus(id)?.text === text,
    `node ${id} to show status "${text}" (now "${lastStatus(id)?.text}")`,
    timeoutMs,
  );
}

export const STATUS = {
  connecting: 'node-red:common.status.connecting',
  connected: 'node-red:common.status.connected',
  disconnected: 'node-red:common.status.disconnected',
  authFailed: '@iot-flows/node-red-onenet/onenet-device:onenet-device.status.auth-failed',
  noDevice: '@iot-flows/node-red-onenet/onenet-device:onenet-device.status.no-device',
  replied: '@iot-flows/node-red-onenet/onenet-device:onenet-device.status.replied',
  kicked: '@iot-flows/node-red-onenet/onenet-device:onenet-device.status.kicked',
  queued: '@iot-flows/node-red-onenet/onenet-device:onenet-device.status.queued',
  deviceConfig: '@iot-flows/node-red-onenet/onenet-device:onenet-device.status.device-config',
  failedReply: '@iot-flows/node-red-onenet/onenet-device:onenet-device.status.failed.reply',
  failedTimeout: '@iot-flows/node-red-onenet/onenet-device:onenet-device.status.failed.timeout',
  failedNoOnenet: '@iot-flows/node-red-onenet/onenet-device:onenet-device.status.failed.no-onenet',
} as const;

export const MESSAGES = {
  noOnenet: '@iot-flows/node-red-onenet/onenet-device:onenet-device.errors.no-onenet',
  noDevice: '@iot-flows/node-red-onenet/onenet-device:onenet-device.errors.no-device',
  noEvent: '@iot-flows/node-red-onenet/onenet-device:onenet-device.errors.no-event',
  duplicateReply: '@iot-flows/node-red-onenet/onenet-device:onenet-device.warn.duplicate-reply',
  lateReply: '@iot-flows/node-red-onenet/onenet-device:onenet-device.warn.late-reply',
  duplicateIdentity: '@iot-flows/node-red-onenet/onenet-device:onenet-device.warn.duplicate-identity',
  invalidAction: 'node-red:mqtt.errors.invalid-action-action',
} as const;

/**
 * The usual hooks of a node test suite: one emulator for the suite, and after each test the flows
 * unloaded and the pool checked empty. Returns the emulator through a getter (it starts in before()).
 */
export function useEmulator(afterEachTest: (emulator: OneNetEmulator) => void = () => undefined): {
  readonly emulator: OneNetEmulator;
} {
  let emulator: OneNetEmulator | undefined;
  before(async () => {
    emulator = await startEmulator();
  });
  after(async () => {
    await emulator?.close();
  });
  afterEach(async () => {
    if (emulator) afterEachTest(emulator);
    await unloadAndCheckPool();
  });
  return {
    get emulator(): OneNetEmulator {
      if (!emulator) throw new Error('the emulator starts in before()');
      return emulator;
    },
  };
}
