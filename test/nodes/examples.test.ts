import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import injectNode from '@node-red/nodes/core/common/20-inject.js';
import debugNode from '@node-red/nodes/core/common/21-debug.js';
import commentNode from '@node-red/nodes/core/common/90-comment.js';
import functionNode from '@node-red/nodes/core/function/10-function.js';
import { demoGatewayDevices } from '../../src/demo/demo-device';
import { OneNetEmulator, type DeviceRef } from '../../src/emulator';
import { translatingRuntime } from '../support/translating-runtime';
import {
  ALL_NODES,
  KEY,
  type FlowNode,
  delay,
  errorText,
  helper,
  nextMessage,
  node,
  unloadAndCheckPool,
  waitFor,
} from './support';

/**
 * The shipped example flows (examples/*.json), deployed as a user would import them, pointed at the
 * emulator the way the demo launcher does (host/port rewritten, key credential added).
 */

const EXAMPLES_DIR = join(process.cwd(), 'examples');
const DEMO_DEVICE = { productId: 'demoProduct', deviceName: 'demo-device-1' };
const DEMO_GATEWAY = { productId: 'demoGateway', deviceName: 'demo-gateway-1' };
/** The example of a gateway and its sub-devices: its devices are of other products (see demo-device.ts). */
const GATEWAY_EXAMPLE = '07 - Gateway with three field devices.json';
/** Config nodes every example carries, the same in each, so a user can import any one of them alone. */
const SHARED_CONFIG = ['onenet-device', 'onenet-product'];
const CORE_NODES = [injectNode, debugNode, commentNode, functionNode];
const FLOW_NODE_TYPES = [
  'onenet-property-post',
  'onenet-event-post',
  'onenet-command-in',
  'onenet-command-reply',
];

function exampleFiles(): string[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort();
}

function readExample(file: string): FlowNode[] {
  return JSON.parse(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as FlowNode[];
}

describe('example flows', function () {
  this.timeout(15000);
  let emulator: OneNetEmulator;

  before(async () => {
    emulator = await OneNetEmulator.start({
      devices: [{ ...DEMO_DEVICE, key: KEY }, ...demoGatewayDevices(KEY)],
    });
  });
  after(async () => {
    await emulator.close();
  });
  afterEach(async () => {
    await unloadAndCheckPool();
  });

  async function deploy(file: string): Promise<void> {
    const flow = readExample(file).map((n) =>
      n.type === 'onenet-device' ? { ...n, host: emulator.host, port: String(emulator.port) } : n,
    );
    const devices = flow.filter((n) => n.type === 'onenet-device').map((n) => n.id);
    await helper.load(
      // Failures in English, as a user reads them in the Debug sidebar (not message keys).
      [...ALL_NODES, ...CORE_NODES, translatingRuntime('en-US')],
      flow,
      Object.fromEntries(devices.map((id) => [id, { key: KEY }])),
    );
    const direct: DeviceRef = file === GATEWAY_EXAMPLE ? DEMO_GATEWAY : DEMO_DEVICE;
    await waitFor(
      () => emulator.connections().length === 1 && emulator.subscriptions(direct).length > 0,
      `${file} to connect`,
    );
  }

  describe('as files', () => {
    it('has the seven examples the README lists, with readable names', () => {
      assert.deepEqual(exampleFiles(), [
        '01 - Post a sensor reading every 5 s.json',
        '02 - Post an alarm event.json',
        '03 - Receive a property set and apply it.json',
        '04 - Answer a service invoke.json',
        '05 - Answer a property get.json',
        '06 - Check values against the thing model.json',
        GATEWAY_EXAMPLE,
      ]);
    });

    it('together use every flow node type (node-red-dev N02)', () => {
      const used = new Set(exampleFiles().flatMap((file) => readExample(file).map((n) => n.type)));
      for (const type of FLOW_NODE_TYPES) assert.ok(used.has(type), `${type} appears in an example`);
    });

    it(`${GATEWAY_EXAMPLE}: a gateway and three field devices naming it, no key, flow nodes placed on the tab`, () => {
      const flow = readExample(GATEWAY_EXAMPLE);
      const devices = flow.filter((n) => n.type === 'onenet-device');
      const gateway = devices.find((n) => n.id === 'onenet-demo-gateway');
      assert.ok(gateway, 'the demo gateway');
      assert.deepEqual(
        [gateway.productId, gateway.deviceName, gateway.host, gateway.port, gateway.tls, gateway.gateway],
        [DEMO_GATEWAY.productId, DEMO_GATEWAY.deviceName, '127.0.0.1', '1883', false, ''],
      );
      const fields = devices.filter((n) => n !== gateway);
      assert.deepEqual(
        fields.map((n) => [n.productId, n.deviceName, n.gateway]),
        [1, 2, 3].map((i) => ['demoFieldDevice', `field-device-${i}`, 'onenet-demo-gateway']),
      );
      assert.ok(!JSON.stringify(flow).includes('"credentials"'), 'no credentials in a shipped flow');
      assert.equal(new Set(flow.map((n) => n.id)).size, flow.length, 'ids are unique');
      const tab = flow.find((n) => n.type === 'tab');
      assert.ok(tab);
      for (const n of flow.filter((n) => !['tab', 'onenet-device'].includes(n.type))) {
        assert.equal(n.z, tab.id, `${n.id} is on the tab`);
        assert.equal(typeof n.x, 'number');
      }
      for (const n of flow.filter((n) => FLOW_NODE_TYPES.includes(n.type)))
        assert.ok(
          fields.some((field) => field.id === n.device),
          `${n.id} uses a field device`,
        );
    });

    for (const file of exampleFiles().filter((name) => name !== GATEWAY_EXAMPLE)) {
      it(`${file}: one demo device of the demo product, no key, unique ids, flow nodes placed on the tab`, () => {
        const flow = readExample(file);
        const devices = flow.filter((n) => n.type === 'onenet-device');
        assert.equal(devices.length, 1);
        const products = flow.filter((n) => n.type === 'onenet-product');
        assert.deepEqual(
          products.map((n) => [n.id, n.productId, n.modelCheck]),
          [['onenet-demo-product', DEMO_DEVICE.productId, 'reject']],
        );
        assert.equal(devices[0].product, 'onenet-demo-product');
        assert.deepEqual(
          {
            id: devices[0].id,
            productId: devices[0].productId,
            deviceName: devices[0].deviceName,
            host: devices[0].host,
            port: devices[0].port,
            tls: devices[0].tls,
          },
          { id: 'onenet-demo-device', ...DEMO_DEVICE, host: '127.0.0.1', port: '1883', tls: false },
        );
        assert.ok(!JSON.stringify(flow).includes('"credentials"'), 'no credentials in a shipped flow');
        assert.equal(new Set(flow.map((n) => n.id)).size, flow.length, 'ids are unique');
        const tab = flow.find((n) => n.type === 'tab');
        assert.ok(tab, 'the example opens in its own tab');
        for (const n of flow.filter((n) => !['tab', ...SHARED_CONFIG].includes(n.type))) {
          assert.equal(n.z, tab.id, `${n.id} is on the tab`);
          assert.equal(typeof n.x, 'number');
          assert.equal(typeof n.y, 'number');
        }
        for (const n of flow.filter(
          (n) => FLOW_NODE_TYPES.includes(n.type) && n.type !== 'onenet-command-reply',
        )) {
          assert.equal(n.device, 'onenet-demo-device', `${n.id} uses the demo device`);
        }
      });
    }

    it('give every example node a distinct id across files, so they can be deployed together', () => {
      const ids = exampleFiles().flatMap((file) =>
        readExample(file)
          .filter((n) => !SHARED_CONFIG.includes(n.type))
          .map((n) => n.id),
      );
      assert.equal(new Set(ids).size, ids.length);
    });
  });

  describe('against the emulator', () => {
    it('07 binds and logs in the three field devices and posts their readings through the gateway', async () => {
      await deploy(GATEWAY_EXAMPLE);
      await waitFor(
        () => emulator.loggedInSubDevices(DEMO_GATEWAY).length === 3,
        'the three field devices to be logged in',
        8000,
      );
      node('ex07-poll').receive({});
      const fields = [1, 2, 3].map((i) => ({
        productId: 'demoFieldDevice',
        deviceName: `field-device-${i}`,
      }));
      await waitFor(
        () => fields.every((field) => emulator.propertyHistory(field, 'level').length > 0),
        'a reading of every field device',
        8000,
      );
      for (const field of fields)
        assert.equal(typeof emulator.latestProperties(field).level?.value, 'number');
      const set = nextMessage('ex07-set', 5000);
      const reply = await emulator.setSubProperty(DEMO_GATEWAY, fields[0]!, { level: 10 });
      assert.equal(reply.code, 200);
      assert.deepEqual((await set).payload, { level: 10 });
    });

    it('01 posts a sensor reading soon after deploy', async () => {
      await deploy('01 - Post a sensor reading every 5 s.json');
      await waitFor(
        () => emulator.latestProperties(DEMO_DEVICE).humidity !== undefined,
        'the first reading',
        4000,
      );
      const latest = emulator.latestProperties(DEMO_DEVICE);
      assert.equal(typeof latest.temperature?.value, 'number');
      assert.equal(typeof latest.humidity?.value, 'number');
    });

    it('02 posts the alarm event after deploy, and again when its inject node fires', async () => {
      await deploy('02 - Post an alarm event.json');
      await waitFor(() => emulator.eventLog(DEMO_DEVICE).length === 1, 'the alarm event after deploy', 4000);
      node('ex02-inject').receive({});
      await waitFor(() => emulator.eventLog(DEMO_DEVICE).length === 2, 'the alarm event on click');
      for (const event of emulator.eventLog(DEMO_DEVICE)) {
        assert.equal(event.identifier, 'alarm');
        assert.deepEqual(event.value, { level: 2, temperature: 85.5 });
      }
    });

    it('03 accepts a property set and applies it', async () => {
      await deploy('03 - Receive a property set and apply it.json');
      const reply = await emulator.setProperty(DEMO_DEVICE, { targetTemperature: 23 });
      assert.equal(reply.code, 200);
    });

    it('04 answers the reboot service, and refuses bad input with 302', async () => {
      await deploy('04 - Answer a service invoke.json');
      const ok = await emulator.invokeService(DEMO_DEVICE, 'reboot', { delaySeconds: 1 });
      assert.equal(ok.code, 200);
      assert.equal((ok.data as { accepted: boolean }).accepted, true);
      const refused = await emulator.invokeService(DEMO_DEVICE, 'reboot', { delaySeconds: -1 });
      assert.equal(refused.code, 302);
    });

    it('05 answers a property get, and unknown identifiers with 309', async () => {
      await deploy('05 - Answer a property get.json');
      const ok = await emulator.getProperty(DEMO_DEVICE, ['temperature', 'targetTemperature']);
      assert.equal(ok.code, 200);
      assert.deepEqual(Object.keys(ok.data as object).sort(), ['targetTemperature', 'temperature']);
      const unknown = await emulator.getProperty(DEMO_DEVICE, ['nope']);
      assert.equal(unknown.code, 309);
    });

    it('06 posts a reading the thing model allows, and refuses humidity 150 before sending it', async () => {
      await deploy('06 - Check values against the thing model.json');
      const accepted = nextMessage('ex06-done', 5000);
      node('ex06-good').receive({});
      assert.equal(((await accepted).onenet as { code: number }).code, 200);
      assert.equal(emulator.latestProperties(DEMO_DEVICE).humidity?.value, 45);
      const postsBefore = emulator.uplinks(DEMO_DEVICE).length;
      const refused = nextMessage('ex06-failed', 5000);
      node('ex06-bad').receive({});
      const text = errorText(await refused);
      assert.match(text, /humidity/);
      assert.match(text, /150/);
      assert.match(text, /100/, 'names the maximum the model allows');
      assert.equal(emulator.uplinks(DEMO_DEVICE).length, postsBefore, 'nothing was published');
      assert.equal(emulator.latestProperties(DEMO_DEVICE).humidity?.value, 45);
    });

    it('all seven deployed together: one connection for the demo device, one for the gateway, all work', async () => {
      const merged = new Map<string, FlowNode>();
      for (const file of exampleFiles()) for (const n of readExample(file)) merged.set(n.id, n);
      const flow = [...merged.values()].map((n) =>
        n.type === 'onenet-device' ? { ...n, host: emulator.host, port: String(emulator.port) } : n,
      );
      // The helper registers the core Catch node once per catch node in load()'s flow, and the merged
      // flow has four: load a flow with one, then deploy the merged flow as the editor would.
      await helper.load(
        [...ALL_NODES, ...CORE_NODES],
        [
          { id: 'start', type: 'tab' },
          { id: 'c', type: 'catch', z: 'start', x: 1, y: 1, wires: [] },
        ],
      );
      const devices = flow.filter((n) => n.type === 'onenet-device').map((n) => n.id);
      await helper.setFlows(flow, 'full', Object.fromEntries(devices.map((id) => [id, { key: KEY }])));
      await waitFor(() => emulator.subscriptions(DEMO_DEVICE).length > 0, 'the demo device to connect');
      assert.equal((await emulator.setProperty(DEMO_DEVICE, { targetTemperature: 25 })).code, 200);
      const got = await emulator.getProperty(DEMO_DEVICE, ['targetTemperature']);
      assert.deepEqual(got.data, { targetTemperature: 25 }, 'example 05 reports what example 03 applied');
      assert.equal((await emulator.invokeService(DEMO_DEVICE, 'reboot', {})).code, 200);
      await waitFor(() => emulator.loggedInSubDevices(DEMO_GATEWAY).length === 3, 'the field devices', 8000);
      await delay(50);
      assert.equal(emulator.connections().length, 2, "the sub-devices use their gateway's connection");
    });
  });
});
