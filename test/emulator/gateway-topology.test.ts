import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import {
  GW_PRODUCT,
  SUB_PRODUCT,
  addRequest,
  answer,
  bind,
  call,
  loginRequest,
  ref,
  sasToken,
  setup,
} from './gateway-helpers';
import { parseDevicesFile, type SubDeviceEvent } from '../../src/emulator';
import { buildTopoChangeReply, buildTopoGetResult, signSubDeviceToken, signToken } from '../../src/protocol';
import {
  closeAll,
  connected,
  newDevice,
  newKey,
  nextEvent,
  nextMessage,
  nowSeconds,
  startEmulator,
  topicOf,
} from './helpers';

describe('emulator gateways: topology and sessions (onenet-next.md §Q2)', () => {
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

  describe('rules', () => {
    it('accepts res written plain by default, and only encoded when told', async () => {
      const sub = (s: Awaited<ReturnType<typeof setup>>) => s.subs[0]!;
      const plain = (s: Awaited<ReturnType<typeof setup>>): string =>
        addRequest(
          sub(s),
          signSubDeviceToken({
            productID: SUB_PRODUCT,
            deviceName: sub(s).deviceName,
            key: sub(s).key,
            et: nowSeconds() + 60,
            resEncoding: 'plain',
          }),
        );
      const lenient = await setup();
      assert.equal((await call(lenient, 'sub/topo/add', plain(lenient))).code, 200);
      const strict = await setup({ gateways: { acceptResEncodings: ['encoded'] } });
      assert.equal((await call(strict, 'sub/topo/add', plain(strict))).code, 307);
      assert.match(strict.logs.join('\n'), /res is written plain/);
    });

    it('refuses a product-level sasToken: its res must name the sub-device', async () => {
      const s = await setup();
      const token = signToken({ key: s.productKey, res: `products/${SUB_PRODUCT}`, et: nowSeconds() + 60 });
      assert.equal((await call(s, 'sub/topo/add', addRequest(s.subs[0]!, token))).code, 307);
    });

    it('gives a sub-device one gateway, and never binds a gateway as a sub-device', async () => {
      const s = await setup();
      const other = { ...newDevice('gw-02', GW_PRODUCT), nodeType: 'gateway' as const };
      s.emulator.addDevice(other);
      s.emulator.bindSubDevice(other, s.subs[0]!);
      assert.equal((await call(s, 'sub/topo/add', addRequest(s.subs[0]!))).code, 307);
      assert.match(s.logs.join('\n'), /is bound to gateway GwProd0001\/gw-02/);
      assert.equal((await call(s, 'sub/topo/add', addRequest(other))).code, 313);
      assert.throws(() => s.emulator.bindSubDevice(s.gateway, other), /gateway cannot be a sub-device/);
    });

    it('changes nothing when failReplies answers for it', async () => {
      const s = await setup();
      s.emulator.failReplies(303);
      assert.equal((await call(s, 'sub/topo/add', addRequest(s.subs[0]!))).code, 303);
      assert.deepEqual(s.emulator.subDevices(s.gateway), []);
      s.emulator.failReplies(undefined);
      await bind(s, s.subs[0]!);
      s.emulator.failReplies(303);
      assert.equal((await call(s, 'sub/login', loginRequest(s.subs[0]!))).code, 303);
      assert.deepEqual(s.emulator.loggedInSubDevices(s.gateway), []);
    });

    it("keeps the logins a newer login of the gateway makes, whenever the older session's end is seen", async () => {
      const s = await setup();
      await bind(s, s.subs[0]!);
      await call(s, 'sub/login', loginRequest(s.subs[0]!));
      const kicked = nextEvent(s.emulator as unknown as EventEmitter, 'kicked');
      const newer = await connected(s.emulator.port, s.gateway);
      await newer.subscribeAsync(topicOf(s.gateway, 'thing/#'));
      const login = call(s, 'sub/login', loginRequest(s.subs[0]!), newer);
      await kicked;
      assert.equal((await login).code, 200);
      assert.deepEqual(s.emulator.loggedInSubDevices(s.gateway), [ref(s.subs[0]!)]);
    });
  });
});
