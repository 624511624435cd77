import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OneNetEmulator, type DeviceRef } from '../../src/emulator';
import {
  catchAll,
  collect,
  flowNode,
  load,
  node,
  unloadAndCheckPool,
  waitFor,
  statusHistory,
  STATUS,
  type FlowNode,
} from './support';
import { useUserDir } from './store-support';
import { gatewayConfigNode, subDeviceConfigNode } from './gateway-support';

/**
 * offlinePolicy 'store' on a gateway: a sub-device's posts that the gateway cannot send are stored
 * under the sub-device's own identity, and delivered by the gateway's history/post in entries that
 * name it, once the sub-device is logged in again; never as the gateway's own values.
 */
const SUB_BINDING = '@iot-flows/node-red-onenet/onenet-device:onenet-device.status.sub-binding';

describe('offlinePolicy store on a gateway: sub-device posts', function () {
  this.timeout(30_000);
  const key = (): string => randomBytes(32).toString('base64');
  const GATEWAY = { productId: 'GwProd0001', deviceName: 'gw-store', key: key() };
  const SUB = { productId: 'SubProd001', deviceName: 'field-store', key: key() };
  const ref = (device: DeviceRef): DeviceRef => ({
    productId: device.productId,
    deviceName: device.deviceName,
  });
  let emulator: OneNetEmulator;
  let userDir: string;

  beforeEach(async () => {
    emulator = await OneNetEmulator.start({
      devices: [{ ...GATEWAY, nodeType: 'gateway' }, SUB],
      products: [{ productId: SUB.productId, accessKey: key() }],
    });
    userDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'onenet-store-sub-'));
    useUserDir(userDir);
  });
  afterEach(async () => {
    await unloadAndCheckPool();
    await emulator.close();
    await fsp.rm(userDir, { recursive: true, force: true });
  });

  // One uplink every 2 s once the login's burst is spent: sub-device posts wait.
  function flow(uplinkRate = '0.5'): FlowNode[] {
    return [
      gatewayConfigNode(emulator, GATEWAY, { offlinePolicy: 'store', uplinkRate }),
      subDeviceConfigNode('sub', SUB),
      flowNode('own', 'onenet-property-post', { device: 'gw', waitReply: true, timeout: '20000' }, [
        ['own-out'],
      ]),
      flowNode('own-out', 'helper'),
      flowNode('p', 'onenet-property-post', { device: 'sub', waitReply: true, timeout: '20000' }, [
        ['p-out'],
      ]),
      flowNode('p-out', 'helper'),
      ...catchAll(),
    ];
  }

  it("stores sub-device posts that waited when the gateway disconnects, and delivers them as the sub-device's", async () => {
    await load(flow(), { gw: { key: GATEWAY.key }, sub: { key: SUB.key } });
    await waitFor(
      () => emulator.loggedInSubDevices(ref(GATEWAY)).length === 1,
      'the sub-device logged in',
      10_000,
    );
    const out = collect('p-out');
    const caught = collect('catch-out');
    const postedAt = Date.now();
    // The login's uplinks spent the burst: these wait for the budget (one may go at once).
    for (let i = 0; i < 4; i++) node('p').receive({ payload: { level: i } });
    await waitFor(
      () => statusHistory('own').some((status) => status.text === STATUS.queued),
      'posts waiting in the queue',
      5000,
    );
    node('own').receive({ action: 'disconnect' });
    await waitFor(() => out.length === 4, 'the sub-device posts settled', 10_000);
    assert.deepEqual(caught, [], 'none failed');
    const storedOnes = out.filter((msg) => (msg.onenet as Record<string, unknown>).stored === true);
    assert.ok(storedOnes.length > 0, 'the waiting ones were stored');

    node('own').receive({ action: 'connect' });
    await waitFor(
      () => emulator.propertyHistory(ref(SUB), 'level').length === 4,
      'all four values at the sub-device',
      20_000,
    );
    const history = emulator.propertyHistory(ref(SUB), 'level');
    assert.deepEqual(
      history.map((record) => record.value).sort(),
      [0, 1, 2, 3],
      'each value once, none lost',
    );
    for (const record of history)
      assert.ok(record.time >= postedAt && record.time <= Date.now(), 'its own time');
    assert.ok(
      history.some((record) => record.via === 'history-post'),
      'the stored ones came back by history post',
    );
    assert.deepEqual(emulator.propertyHistory(ref(GATEWAY), 'level'), [], "none as the gateway's own");
  });

  it('stores the posts held for the binding as soon as the gateway disconnects, and delivers them once the sub-device is logged in', async () => {
    // The platform's answers (topo/get, sub/login) are late: the sub-device stays in its binding.
    emulator.setReplyDelay(60_000);
    await load(flow('0'), { gw: { key: GATEWAY.key }, sub: { key: SUB.key } });
    await waitFor(
      () => statusHistory('p').some((status) => status.text === SUB_BINDING),
      'the sub-device being bound',
      10_000,
    );
    const out = collect('p-out');
    const caught = collect('catch-out');
    const times = [Date.now() - 3000, Date.now() - 2000, Date.now() - 1000];
    times.forEach((time, i) => node('p').receive({ payload: { level: 20 + i }, time }));
    await waitFor(
      () => statusHistory('p').some((status) => status.text === `${SUB_BINDING}-waiting`),
      'the posts held for the binding',
      5000,
    );
    node('own').receive({ action: 'disconnect' });
    // Stored at once, not when their 20 s timeout runs out, and none failed as offline.
    await waitFor(() => out.length === 3 || caught.length > 0, 'the held posts settled', 10_000);
    assert.deepEqual(caught, [], 'none failed');
    for (const msg of out)
      assert.equal((msg.onenet as Record<string, unknown>).stored, true, 'stored while offline');

    emulator.setReplyDelay(0);
    node('own').receive({ action: 'connect' });
    await waitFor(
      () => emulator.propertyHistory(ref(SUB), 'level').length === 3,
      'the stored values delivered',
      20_000,
    );
    assert.deepEqual(
      emulator.propertyHistory(ref(SUB), 'level').map((record) => [record.value, record.time, record.via]),
      times.map((time, i) => [20 + i, time, 'history-post']),
      'every value with its own time, by history post, under the sub-device',
    );
  });

  it('stores sub-device posts made while the gateway is offline and delivers them once the sub-device is logged in', async () => {
    await emulator.stopListening();
    await load(flow(), { gw: { key: GATEWAY.key }, sub: { key: SUB.key } });
    const out = collect('p-out');
    const ownOut = collect('own-out');
    const times = [Date.now() - 30_000, Date.now() - 20_000, Date.now() - 10_000];
    times.forEach((time, i) => node('p').receive({ payload: { level: 10 + i }, time }));
    node('own').receive({ payload: { uptime: 5 } });
    await waitFor(() => out.length === 3 && ownOut.length === 1, 'all posts stored', 10_000);
    for (const msg of [...out, ...ownOut])
      assert.equal((msg.onenet as Record<string, unknown>).stored, true, 'stored while offline');

    await emulator.startListening();
    await waitFor(
      () =>
        emulator.propertyHistory(ref(SUB), 'level').length === 3 &&
        emulator.propertyHistory(ref(GATEWAY), 'uptime').length === 1,
      'the stored values delivered',
      30_000,
    );
    const history = emulator.propertyHistory(ref(SUB), 'level');
    assert.deepEqual(
      history.map((record) => [record.value, record.time, record.via]),
      times.map((time, i) => [10 + i, time, 'history-post']),
      'every value with its own time, by history post, under the sub-device',
    );
    assert.deepEqual(emulator.propertyHistory(ref(GATEWAY), 'level'), [], "none as the gateway's own");
    assert.equal(emulator.propertyHistory(ref(GATEWAY), 'uptime')[0]!.via, 'history-post');
  });
});
