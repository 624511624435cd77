import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import {
  PlatformRequestError,
  parseDevicesFile,
  type EmulatorDevice,
  type EmulatorOptions,
  type OneNetEmulator,
  type SubDeviceEvent,
} from '../../src/emulator';
import {
  buildSubLoginRequest,
  buildTopoAddRequest,
  buildTopoChangeReply,
  buildTopoGetResult,
  signSubDeviceToken,
} from '../../src/protocol';
import {
  closeAll,
  connected,
  newDevice,
  newKey,
  nextEvent,
  nextMessage,
  nowSeconds,
  request,
  startEmulator,
  topicOf,
} from './helpers';

const GW_PRODUCT = 'GwProd0001';
const SUB_PRODUCT = 'SubProd001';
const T = 1_700_000_000_000;

interface Setup {
  emulator: OneNetEmulator;
  gateway: EmulatorDevice;
  subs: EmulatorDevice[];
  productKey: string;
  client: MqttClient;
  logs: string[];
}

async function setup(options: EmulatorOptions = {}, subCount = 3): Promise<Setup> {
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
async function call(
  s: Setup,
  suffix: string,
  payload: string,
  client = s.client,
): Promise<Record<string, unknown>> {
  const reply = nextMessage(client, topicOf(s.gateway, `thing/${suffix}/reply`));
  await client.publishAsync(topicOf(s.gateway, `thing/${suffix}`), payload, { qos: 1 });
  return (await reply).payload;
}

function sasToken(sub: EmulatorDevice, key = sub.key, deviceName = sub.deviceName): string {
  return signSubDeviceToken({ productID: sub.productId, deviceName, key, et: nowSeconds() + 3600 });
}

function addRequest(sub: EmulatorDevice, token = sasToken(sub)): string {
  return JSON.stringify(
    buildTopoAddRequest(String(nextId++), {
      deviceName: sub.deviceName,
      productID: sub.productId,
      sasToken: token,
    }),
  );
}

function loginRequest(sub: EmulatorDevice): string {
  return JSON.stringify(
    buildSubLoginRequest(String(nextId++), { productID: sub.productId, deviceName: sub.deviceName }),
  );
}

async function bind(s: Setup, sub: EmulatorDevice): Promise<void> {
  assert.equal((await call(s, 'sub/topo/add', addRequest(sub))).code, 200);
}

function ref(device: EmulatorDevice): { productId: string; deviceName: string } {
  return { productId: device.productId, deviceName: device.deviceName };
}

function identity(device: EmulatorDevice): { productID: string; deviceName: string } {
  return { productID: device.productId, deviceName: device.deviceName };
}

/** Answers the next platform request on thing/{suffix} with what `answer` returns. */
function answer(
  s: Setup,
  suffix: string,
  answer: (request: Record<string, unknown>) => unknown,
): Promise<Record<string, unknown>> {
  return nextMessage(s.client, topicOf(s.gateway, `thing/${suffix}`)).then(async ({ payload }) => {
    await s.client.publishAsync(topicOf(s.gateway, `thing/${suffix}_reply`), JSON.stringify(answer(payload)));
    return payload;
  });
}

async function rejection(promise: Promise<unknown>): Promise<PlatformRequestError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PlatformRequestError, String(error));
    return error;
  }
  assert.fail('expected a rejection');
}

describe('emulator gateways and sub-devices (onenet-next.md §Q2)', () => {
  afterEach(closeAll);

  describe('topology', () => {
    it('binds a sub-device whose sasToken its own key signed, once however often it is added', async () => {
      const s = await setup();
      const bound = nextEvent<SubDeviceEvent>(s.emulator as unknown as EventEmitter, 'sub-device');
      const reply = await call(s, 'sub/topo/add', addRequest(s.subs[0]!));
      assert.deepEqual(Object.keys(reply), ['id', 'code', 'msg']);
      assert.equal(reply.code, 200);
      assert.deepEqual(await bound, {
        gateway: ref(s.gateway),
        subDevice: ref(s.subs[0]!),
        change: 'bound',
        cause: 'sub/topo/add',
      });
      await bind(s, s.subs[0]!);
      assert.deepEqual(s.emulator.subDevices(s.gateway), [ref(s.subs[0]!)]);
    });

    it("accepts a sasToken signed with the sub-device's product key", async () => {
      const s = await setup();
      assert.equal(
        (await call(s, 'sub/topo/add', addRequest(s.subs[1]!, sasToken(s.subs[1]!, s.productKey)))).code,
        200,
      );
      assert.deepEqual(s.emulator.subDevices(s.gateway), [ref(s.subs[1]!)]);
    });

    it("refuses a bad sasToken, another device's token and an unknown device with 307, printing no token", async () => {
      const s = await setup();
      const sub = s.subs[0]!;
      const ghost = newDevice('ghost', SUB_PRODUCT);
      for (const payload of [
        addRequest(sub, sasToken(sub, newKey())),
        addRequest(sub, sasToken(s.subs[1]!, s.subs[1]!.key)),
        addRequest(ghost),
      ]) {
        const reply = await call(s, 'sub/topo/add', payload);
        assert.equal(reply.code, 307);
      }
      assert.deepEqual(s.emulator.subDevices(s.gateway), []);
      const text = s.logs.join('\n');
      assert.match(text, /sign does not match/);
      assert.match(text, /"sasToken":"\(hidden\)"/);
      assert.doesNotMatch(text, /sign=|et=\d/);
      for (const device of s.subs) assert.ok(!text.includes(device.key));
    });

    it('refuses topo/add from a device that is not a gateway with 313', async () => {
      const s = await setup();
      const direct = newDevice('direct-1', GW_PRODUCT);
      s.emulator.addDevice(direct);
      const client = await connected(s.emulator.port, direct);
      await client.subscribeAsync(topicOf(direct, 'thing/#'));
      const reply = nextMessage(client, topicOf(direct, 'thing/sub/topo/add/reply'));
      await client.publishAsync(topicOf(direct, 'thing/sub/topo/add'), addRequest(s.subs[0]!), { qos: 1 });
      assert.equal((await reply).payload.code, 313);
    });

    it("answers topo/get with the bound list in OneNET's shape and keeps the topo/get/result", async () => {
      const s = await setup();
      await bind(s, s.subs[0]!);
      await bind(s, s.subs[2]!);
      const reply = await call(s, 'sub/topo/get', '{"id":"123","version":"1.0"}');
      assert.deepEqual(reply, {
        id: '123',
        code: 200,
        msg: 'success',
        data: [
          { deviceName: 'field-0', productID: SUB_PRODUCT },
          { deviceName: 'field-2', productID: SUB_PRODUCT },
        ],
      });
      const uplink = nextEvent(s.emulator as unknown as EventEmitter, 'uplink');
      await s.client.publishAsync(
        topicOf(s.gateway, 'thing/sub/topo/get/result'),
        JSON.stringify(buildTopoGetResult('123')),
      );
      await uplink;
      assert.deepEqual(
        { ...s.emulator.topologySyncResult(s.gateway), at: 0 },
        { id: '123', code: 200, msg: 'success', at: 0 },
      );
    });

    it('unbinds on topo/delete (sasToken checked), which also logs the sub-device out', async () => {
      const s = await setup();
      const sub = s.subs[0]!;
      await bind(s, sub);
      assert.equal((await call(s, 'sub/login', loginRequest(sub))).code, 200);
      assert.equal((await call(s, 'sub/topo/delete', addRequest(sub, sasToken(sub, newKey())))).code, 307);
      assert.deepEqual(s.emulator.subDevices(s.gateway), [ref(sub)]);
      assert.equal((await call(s, 'sub/topo/delete', addRequest(sub))).code, 200);
      assert.deepEqual(s.emulator.subDevices(s.gateway), []);
      assert.deepEqual(s.emulator.loggedInSubDevices(s.gateway), []);
    });

    it('holds a gateway to 1,500 sub-devices', async () => {
      const s = await setup({}, 1501);
      for (const sub of s.subs.slice(0, 1499)) s.emulator.bindSubDevice(s.gateway, sub);
      await bind(s, s.subs[1499]!);
      assert.equal(s.emulator.subDevices(s.gateway).length, 1500);
      assert.equal((await call(s, 'sub/topo/add', addRequest(s.subs[1500]!))).code, 301);
      await bind(s, s.subs[0]!); // bound already: still fine
      assert.throws(() => s.emulator.bindSubDevice(s.gateway, s.subs[1500]!), /1500/);
    });

    it('pushes a topology change, takes the full list and waits for change_reply', async () => {
      const s = await setup();
      await bind(s, s.subs[0]!);
      await call(s, 'sub/login', loginRequest(s.subs[0]!));
      const events: SubDeviceEvent[] = [];
      s.emulator.on('sub-device', (event) => events.push(event));
      const pushed = answer(s, 'sub/topo/change', (request) => buildTopoChangeReply(request.id as string));
      const reply = await s.emulator.changeTopology(s.gateway, [ref(s.subs[1]!), ref(s.subs[2]!)]);
      assert.equal(reply.code, 200);
      const { id, ...rest } = await pushed;
      assert.match(id as string, /^\d+$/);
      assert.deepEqual(rest, {
        version: '1.0',
        params: {
          subList: [
            { deviceName: 'field-1', productID: SUB_PRODUCT },
            { deviceName: 'field-2', productID: SUB_PRODUCT },
          ],
        },
      });
      assert.deepEqual(s.emulator.subDevices(s.gateway), [ref(s.subs[1]!), ref(s.subs[2]!)]);
      assert.deepEqual(
        events.map((event) => `${event.subDevice.deviceName} ${event.change}`),
        ['field-0 logged-out', 'field-0 unbound', 'field-1 bound', 'field-2 bound'],
      );
    });
  });

  describe('sessions', () => {
    it('logs in only bound sub-devices', async () => {
      const s = await setup();
      const sub = s.subs[0]!;
      assert.equal((await call(s, 'sub/login', loginRequest(sub))).code, 307);
      await bind(s, sub);
      const loggedIn = nextEvent<SubDeviceEvent>(s.emulator as unknown as EventEmitter, 'sub-device');
      assert.equal((await call(s, 'sub/login', loginRequest(sub))).code, 200);
      assert.equal((await loggedIn).change, 'logged-in');
      assert.deepEqual(s.emulator.loggedInSubDevices(s.gateway), [ref(sub)]);
      assert.equal((await call(s, 'sub/logout', loginRequest(sub))).code, 200);
      assert.deepEqual(s.emulator.loggedInSubDevices(s.gateway), []);
    });

    it('logs the sub-devices out when the gateway disconnects; they stay bound for the next login', async () => {
      const s = await setup();
      await bind(s, s.subs[0]!);
      await call(s, 'sub/login', loginRequest(s.subs[0]!));
      const loggedOut = nextEvent<SubDeviceEvent>(s.emulator as unknown as EventEmitter, 'sub-device');
      assert.ok(s.emulator.dropDevice(s.gateway));
      assert.deepEqual(await loggedOut, {
        gateway: ref(s.gateway),
        subDevice: ref(s.subs[0]!),
        change: 'logged-out',
        cause: 'gateway disconnected',
      });
      assert.deepEqual(s.emulator.loggedInSubDevices(s.gateway), []);
      const again = await connected(s.emulator.port, s.gateway);
      await again.subscribeAsync(topicOf(s.gateway, 'thing/#'));
      assert.equal((await call(s, 'sub/login', loginRequest(s.subs[0]!), again)).code, 200);
      assert.deepEqual(s.emulator.loggedInSubDevices(s.gateway), [ref(s.subs[0]!)]);
    });

    it('keeps them logged in across a disconnect when told to (logoutOnGatewayDisconnect: false)', async () => {
      const s = await setup({ gateways: { logoutOnGatewayDisconnect: false } });
      await bind(s, s.subs[0]!);
      await call(s, 'sub/login', loginRequest(s.subs[0]!));
      const gone = nextEvent(s.emulator as unknown as EventEmitter, 'client-disconnected');
      s.emulator.dropDevice(s.gateway);
      await gone;
      assert.deepEqual(s.emulator.loggedInSubDevices(s.gateway), [ref(s.subs[0]!)]);
    });
  });

  describe('sub-device data', () => {
    it('stores pack/post values of a bound sub-device under the sub-device', async () => {
      const s = await setup();
      const sub = s.subs[0]!;
      await bind(s, sub);
      const payload = request('7', [
        { identity: identity(s.gateway), properties: { uptime: { value: 5, time: T } } },
        {
          identity: identity(sub),
          properties: { Power: { value: 'on', time: T + 1 } },
          events: { alarm: { value: { level: 2 }, time: T + 2 } },
        },
      ]);
      assert.deepEqual(await call(s, 'pack/post', payload), { id: '7', code: 200, msg: 'success' });
      assert.deepEqual(s.emulator.latestProperties(sub), { Power: { value: 'on', time: T + 1 } });
      assert.deepEqual(s.emulator.latestProperties(s.gateway), { uptime: { value: 5, time: T } });
      assert.deepEqual(
        s.emulator.propertyHistory(sub).map(({ identifier, via, id }) => [identifier, via, id]),
        [['Power', 'pack-post', '7']],
      );
      assert.deepEqual(s.emulator.eventLog(sub), [
        { identifier: 'alarm', value: { level: 2 }, time: T + 2, id: '7' },
      ]);
      assert.equal(s.emulator.uplinks(s.gateway).filter((record) => record.kind === 'pack-post').length, 1);
    });

    it('refuses a pack/post with an unbound sub-device with 307 and stores none of it', async () => {
      const s = await setup();
      await bind(s, s.subs[0]!);
      const payload = request('8', [
        { identity: identity(s.subs[0]!), properties: { t: { value: 1 } } },
        { identity: identity(s.subs[1]!), properties: { t: { value: 2 } } },
      ]);
      const reply = await call(s, 'pack/post', payload);
      assert.equal(reply.code, 307);
      assert.deepEqual(s.emulator.propertyHistory(s.subs[0]!), []);
      assert.match(s.logs.join('\n'), /field-1 is not bound to gateway/);
    });

    it('uses the configured code for unbound sub-devices', async () => {
      const s = await setup({ gateways: { codes: { notBound: 308 } } });
      const payload = request('8', [{ identity: identity(s.subs[1]!), properties: { t: { value: 2 } } }]);
      assert.equal((await call(s, 'pack/post', payload)).code, 308);
    });

    it('stores history/post values of a sub-device, each with its time', async () => {
      const s = await setup();
      const sub = s.subs[2]!;
      await bind(s, sub);
      const payload = request('9', [
        {
          identity: identity(sub),
          properties: {
            t: [
              { value: 1, time: T },
              { value: 2, time: T + 1000 },
            ],
          },
        },
      ]);
      assert.equal((await call(s, 'history/post', payload)).code, 200);
      assert.deepEqual(
        s.emulator.propertyHistory(sub).map(({ value, time, via }) => [value, time, via]),
        [
          [1, T, 'history-post'],
          [2, T + 1000, 'history-post'],
        ],
      );
    });

    it('takes 10 identities in one message and refuses 11 with 301', async () => {
      const s = await setup({}, 11);
      for (const sub of s.subs) s.emulator.bindSubDevice(s.gateway, sub);
      const entries = s.subs.map((sub, i) => ({ identity: identity(sub), properties: { t: { value: i } } }));
      assert.equal((await call(s, 'pack/post', request('10', entries.slice(0, 10)))).code, 200);
      assert.equal((await call(s, 'pack/post', request('11', entries))).code, 301);
      assert.deepEqual(s.emulator.propertyHistory(s.subs[10]!), []);
    });

    it("counts sub-device traffic against the gateway's uplink limit", async () => {
      const s = await setup({ uplinkRateLimit: { perSecond: 1, mode: 'disconnect' } });
      s.emulator.bindSubDevice(s.gateway, s.subs[0]!);
      const closed = nextEvent(s.client as unknown as EventEmitter, 'close');
      const topic = topicOf(s.gateway, 'thing/pack/post');
      for (let i = 0; i < 3; i++)
        s.client.publish(
          topic,
          request(String(20 + i), [{ identity: identity(s.subs[0]!), properties: { t: { value: i } } }]),
        );
      await closed;
      const violations = s.emulator.rateViolations(s.gateway);
      assert.ok(violations.length >= 1);
      assert.equal(violations[0]!.topic, topic);
      assert.deepEqual(s.emulator.rateViolations(s.subs[0]!), []);
    });
  });

  describe('sub-device commands', () => {
    it('sets a property through the gateway on sub/property/set, answered on set_reply', async () => {
      const s = await setup();
      const sub = s.subs[0]!;
      await bind(s, sub);
      const seen = answer(s, 'sub/property/set', (request) => ({ id: request.id, code: 200, msg: 'ok' }));
      const reply = await s.emulator.setSubProperty(s.gateway, sub, { temperature: '30.5' });
      const received = await seen;
      assert.deepEqual(received.params, {
        deviceName: 'field-0',
        productID: SUB_PRODUCT,
        params: { temperature: '30.5' },
      });
      assert.deepEqual(reply, { id: received.id, code: 200, msg: 'ok' });
    });

    it('gets properties on sub/property/get; a get_reply without data is a response error (304)', async () => {
      const s = await setup();
      const sub = s.subs[0]!;
      await bind(s, sub);
      const seen = answer(s, 'sub/property/get', (request) => ({
        id: request.id,
        code: 200,
        msg: 'ok',
        data: { temperature: 39.5 },
      }));
      const reply = await s.emulator.getSubProperty(s.gateway, sub, ['temperature']);
      assert.deepEqual((await seen).params, {
        deviceName: 'field-0',
        productID: SUB_PRODUCT,
        params: ['temperature'],
      });
      assert.deepEqual(reply.data, { temperature: 39.5 });
      void answer(s, 'sub/property/get', (request) => ({ id: request.id, code: 200, msg: 'ok' }));
      assert.equal((await rejection(s.emulator.getSubProperty(s.gateway, sub, ['temperature']))).code, 304);
    });

    it('invokes a service on sub/service/invoke; the reply must echo the sub-device and identifier', async () => {
      const s = await setup();
      const sub = s.subs[1]!;
      await bind(s, sub);
      const echo = (request: Record<string, unknown>, deviceName?: string): unknown => {
        const params = request.params as Record<string, unknown>;
        return {
          id: request.id,
          code: 200,
          msg: 'ok',
          data: {
            deviceName: deviceName ?? params.deviceName,
            productID: params.productID,
            identifier: params.identifier,
            output: { result: 'on' },
          },
        };
      };
      const seen = answer(s, 'sub/service/invoke', (request) => echo(request));
      const reply = await s.emulator.invokeSubService(s.gateway, sub, 'reboot', { delay: 1 });
      assert.deepEqual((await seen).params, {
        deviceName: 'field-1',
        productID: SUB_PRODUCT,
        identifier: 'reboot',
        input: { delay: 1 },
      });
      assert.deepEqual(reply.data, {
        deviceName: 'field-1',
        productID: SUB_PRODUCT,
        identifier: 'reboot',
        output: { result: 'on' },
      });
      void answer(s, 'sub/service/invoke', (request) => echo(request, 'field-0'));
      const wrong = await rejection(s.emulator.invokeSubService(s.gateway, sub, 'reboot', {}));
      assert.equal(wrong.code, 304);
      assert.match(wrong.message, /deviceName/);
    });

    it('passes a failure code on unchanged', async () => {
      const s = await setup();
      await bind(s, s.subs[0]!);
      void answer(s, 'sub/property/set', (request) => ({ id: request.id, code: 100, msg: 'device failed' }));
      assert.equal((await s.emulator.setSubProperty(s.gateway, s.subs[0]!, { t: 1 })).code, 100);
    });

    it('rejects: 307 not its sub-device, 313 over 50 properties, 306 no reply in time, 308 gateway offline', async () => {
      const s = await setup({ replyDeadlineMs: 300 });
      const sub = s.subs[0]!;
      assert.equal((await rejection(s.emulator.setSubProperty(s.gateway, sub, { t: 1 }))).code, 307);
      await bind(s, sub);
      const many = Array.from({ length: 51 }, (_, i) => `p${i}`);
      assert.equal((await rejection(s.emulator.getSubProperty(s.gateway, sub, many))).code, 313);
      assert.equal((await rejection(s.emulator.setSubProperty(s.gateway, sub, { t: 1 }))).code, 306);
      const gone = nextEvent(s.emulator as unknown as EventEmitter, 'client-disconnected');
      s.emulator.dropDevice(s.gateway);
      await gone;
      assert.equal((await rejection(s.emulator.invokeSubService(s.gateway, sub, 'x', {}))).code, 308);
    });
  });

  describe('declaring gateways', () => {
    it('reads nodeType and a console binding from the devices file', async () => {
      const key = newKey();
      const content = parseDevicesFile([
        { productId: GW_PRODUCT, deviceName: 'gw-01', key, nodeType: 'gateway' },
        {
          productId: SUB_PRODUCT,
          deviceName: 'field-0',
          key,
          gateway: { productId: GW_PRODUCT, deviceName: 'gw-01' },
        },
      ]);
      assert.equal(content.devices[0]!.nodeType, 'gateway');
      const emulator = await startEmulator({ devices: content.devices });
      assert.deepEqual(emulator.subDevices({ productId: GW_PRODUCT, deviceName: 'gw-01' }), [
        { productId: SUB_PRODUCT, deviceName: 'field-0' },
      ]);
      assert.throws(
        () => parseDevicesFile([{ productId: 'p', deviceName: 'd', key, nodeType: 'hub' }]),
        /nodeType/,
      );
    });
  });
});
