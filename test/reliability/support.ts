import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import helper, { type Credentials, type FlowNode, type TestNode } from 'node-red-node-test-helper';
import { defaultPool, type DeviceConnection } from '../../src/connection';
import { nodeRedPackageDir } from '../../src/demo/node-red-process';
import { OneNetEmulator, type DeviceRef, type EmulatorOptions } from '../../src/emulator';
import commandInNode from '../../src/onenet-command-in';
import commandReplyNode from '../../src/onenet-command-reply';
import deviceNode from '../../src/onenet-device';
import eventPostNode from '../../src/onenet-event-post';
import propertyPostNode from '../../src/onenet-property-post';
import { translatingRuntime } from '../support/translating-runtime';
import { secretLedger, transcript } from './ledger';

/**
 * Plumbing for the reliability scenarios: Node-RED (node-red-node-test-helper) with our five node
 * sets against emulators on free loopback ports, flow builders for several devices, and the probes
 * the scenarios count with (pool internals, MQTT.js listeners, process resources).
 */

export { helper };
export type { FlowNode, TestNode };

// The same Node-RED the node tests run (the choice is made in one place for every suite).
helper.init(require.resolve(nodeRedPackageDir()));

const ALL_NODES = [deviceNode, propertyPostNode, eventPostNode, commandInNode, commandReplyNode];

export const PRODUCT = 'RelProd01';
export const TAB = 'reliability';

export const STATUS = {
  connecting: 'node-red:common.status.connecting',
  connected: 'node-red:common.status.connected',
  disconnected: 'node-red:common.status.disconnected',
  authFailed: '@iot-flows/node-red-onenet/onenet-device:onenet-device.status.auth-failed',
  kicked: '@iot-flows/node-red-onenet/onenet-device:onenet-device.status.kicked',
} as const;

export interface TestDevice {
  ref: DeviceRef;
  key: string;
  /** Id of its onenet-device config node. */
  configId: string;
}

export function newKey(): string {
  const key = randomBytes(32).toString('base64');
  secretLedger.keys.add(key);
  return key;
}

/** `count` devices named `<prefix>-<n>`, each with its own key (registered in the secret ledger). */
export function makeDevices(prefix: string, count: number): TestDevice[] {
  return Array.from({ length: count }, (_, i) => ({
    ref: { productId: PRODUCT, deviceName: `${prefix}-${i + 1}` },
    key: newKey(),
    configId: `cfg-${prefix}-${i + 1}`,
  }));
}

/** An emulator that knows `devices`, whose tokens and log lines go to the ledger and transcript. */
export async function startEmulator(
  devices: TestDevice[],
  options: EmulatorOptions = {},
): Promise<OneNetEmulator> {
  const emulator = await OneNetEmulator.start({
    ...options,
    devices: devices.map((device) => ({ ...device.ref, key: device.key })),
    log: (line) => transcript.add('emulator log', line),
  });
  emulator.on('client-connected', (event) => secretLedger.tokens.add(event.token));
  return emulator;
}

/** An onenet-device config node for `device` at the emulator (plain MQTT). */
export function deviceConfig(
  emulator: OneNetEmulator,
  device: TestDevice,
  overrides: Record<string, unknown> = {},
): FlowNode {
  return {
    id: device.configId,
    type: 'onenet-device',
    name: `device ${device.ref.deviceName}`,
    productId: device.ref.productId,
    deviceName: device.ref.deviceName,
    host: emulator.host,
    port: String(emulator.port),
    tls: false,
    tlsConfig: '',
    signMethod: 'sha256',
    tokenTtl: '3600',
    keepalive: '60',
    offlinePolicy: 'fail',
    // These runs load the connection far beyond OneNET's 1 uplink/s on purpose, to find lost or
    // doubled posts; pacing and merging are tested on their own (uplink scheduler tests).
    uplinkRate: '0',
    ...overrides,
  };
}

let nextY = 40;
/** A flow node on the test tab (z, x and y make the runtime start it as a flow node). */
export function flowNode(
  id: string,
  type: string,
  props: Record<string, unknown> = {},
  wires: string[][] = [[]],
): FlowNode {
  nextY = nextY > 2000 ? 40 : nextY + 20;
  return { id, type, z: TAB, x: 200, y: nextY, wires, ...props };
}

/** A Catch node for the whole tab wired to helper node `<id>-out`. */
export function catchAll(id = 'catch'): FlowNode[] {
  return [
    flowNode(id, 'catch', { scope: null, uncaught: false }, [[`${id}-out`]]),
    flowNode(`${id}-out`, 'helper'),
  ];
}

export function credentialsOf(devices: TestDevice[]): Credentials {
  return Object.fromEntries(devices.map((device) => [device.configId, { key: device.key }]));
}

const TAB_NODE: FlowNode = { id: TAB, type: 'tab', label: 'reliability' };

/**
 * Loads with a RED._ that fills in the en-US catalogue texts (the helper's own returns bare keys), so
 * the warnings and errors checked and scanned here are the ones a user reads.
 */
export async function load(flow: FlowNode[], credentials: Credentials): Promise<void> {
  await helper.load([...ALL_NODES, translatingRuntime('en-US')] as never, [TAB_NODE, ...flow], credentials);
}

export async function redeploy(
  flow: FlowNode[],
  type: 'full' | 'flows' | 'nodes',
  credentials: Credentials,
): Promise<void> {
  await helper.setFlows([TAB_NODE, ...flow], type, credentials);
}

/**
 * Records what a user could see of this runtime (log, every node's status/warn/error/log calls,
 * the flows as exported) into the transcript, then unloads and checks that no connection is left.
 */
export async function captureAndUnload(): Promise<void> {
  try {
    captureNodeRed();
    await helper.unload();
    assert.equal(defaultPool.connectionCount(), 0, 'every pooled connection closed with the flows');
  } finally {
    await defaultPool.closeAll();
  }
}

/** The helper's spies on Node.prototype (status, warn, ...) record every node's calls. */
interface SpiedPrototype {
  [method: string]: { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> } | undefined;
}

export function captureNodeRed(): void {
  const proto = (helper as unknown as { _NodePrototype: SpiedPrototype })._NodePrototype;
  for (const method of ['status', 'warn', 'error', 'log', 'debug', 'trace']) {
    for (const call of proto[method]?.getCalls?.() ?? []) transcript.add(`node.${method}`, call.args);
  }
  // What Catch nodes passed on: the error and msg.onenet of every failed message.
  for (const call of proto.send?.getCalls?.() ?? []) {
    if ((call.thisValue as { type?: string } | undefined)?.type !== 'catch') continue;
    for (const msg of [call.args[0]].flat(2) as Array<Record<string, unknown> | null>) {
      if (msg) transcript.add('Catch message', { error: msg.error, onenet: msg.onenet });
    }
  }
  for (const call of helper.log().getCalls()) transcript.add('Node-RED log', call.args);
  transcript.add('exported flows', helper._redNodes.getFlows());
}

export function node(id: string): TestNode {
  const found = helper.getNode(id);
  assert.ok(found, `node ${id} is running`);
  return found;
}

/** Every message reaching helper node `id` from now on. */
export function collect(id: string): Array<Record<string, unknown>> {
  const seen: Array<Record<string, unknown>> = [];
  node(id).on('input', (msg: never) => seen.push(msg as Record<string, unknown>));
  return seen;
}

/** Every status node `id` has shown since the flows were loaded, oldest first. */
export function statusHistory(id: string): Array<{ fill?: string; shape?: string; text?: string }> {
  const target = node(id);
  const proto = (helper as unknown as { _NodePrototype: SpiedPrototype })._NodePrototype;
  return (proto.status?.getCalls() ?? [])
    .filter((call) => call.thisValue === target)
    .map((call) => call.args[0] as { fill?: string; shape?: string; text?: string });
}

export function lastStatusText(id: string): string | undefined {
  return statusHistory(id).at(-1)?.text;
}

/** The calls of `method` ('warn', 'error', ...) made by node `id`, oldest first. */
export function callsOf(id: string, method: string): unknown[][] {
  const target = node(id);
  const proto = (helper as unknown as { _NodePrototype: SpiedPrototype })._NodePrototype;
  return (proto[method]?.getCalls() ?? []).filter((call) => call.thisValue === target).map((c) => c.args);
}

/** Polls `condition` every `pollMs` (1 ms where a scenario waits for thousands of single messages). */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
  pollMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(pollMs);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Whether the emulator has `device` logged in with the four subscriptions of every login (the three
 * post replies join on the session's first post that waits for a reply).
 */
export function isOnline(emulator: OneNetEmulator, device: TestDevice): boolean {
  return (
    emulator.connections().some((c) => c.deviceName === device.ref.deviceName) &&
    emulator.subscriptions(device.ref).length >= 4
  );
}

export async function waitOnline(
  emulator: OneNetEmulator,
  devices: TestDevice[],
  timeoutMs = 5000,
): Promise<void> {
  await waitFor(
    () => devices.every((device) => isOnline(emulator, device)),
    `${devices.length} devices to log in and subscribe`,
    timeoutMs,
  );
}

// ---------------------------------------------------------------------------------------------
// Probes into the pool and MQTT.js. The pool and DeviceConnection keep these private; the tests
// read them to count what a user cannot see (listeners, clients), without changing anything.

interface PoolInternals {
  entries: Map<string, { connection: DeviceConnection; users: Map<string, string> }>;
}
interface ConnectionInternals {
  attempt?: {
    client: NodeJS.EventEmitter & { stream?: NodeJS.EventEmitter; connected: boolean };
  };
  downlinks: { handlerCount: number };
}

export function pooledConnections(): DeviceConnection[] {
  return [...(defaultPool as unknown as PoolInternals).entries.values()].map((entry) => entry.connection);
}

export function poolUsers(connection: DeviceConnection): number {
  const entry = (defaultPool as unknown as PoolInternals).entries.get(connection.key);
  return entry ? entry.users.size : 0;
}

export function downlinkHandlers(connection: DeviceConnection): number {
  return (connection as unknown as ConnectionInternals).downlinks.handlerCount;
}

/** Listeners on the connection's live MQTT.js client and its socket, by event, or undefined offline. */
export function mqttListeners(connection: DeviceConnection): Record<string, number> | undefined {
  const client = (connection as unknown as ConnectionInternals).attempt?.client;
  if (!client) return undefined;
  const counts: Record<string, number> = {};
  for (const event of client.eventNames()) counts[`client.${String(event)}`] = client.listenerCount(event);
  const stream = client.stream;
  if (stream) {
    for (const event of stream.eventNames()) counts[`socket.${String(event)}`] = stream.listenerCount(event);
  }
  return counts;
}

/** process.getActiveResourcesInfo() as counts per resource type. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}
