import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OneNetEmulator, type DeviceRef } from '../../src/emulator';
import {
  catchAll,
  collect,
  errorText,
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

/**
 * offlinePolicy 'store' on a gateway: the store holds the gateway's own posts only (its history/post
 * carries no sub-device identity). A sub-device's post that still waits to be sent when the
 * gateway's connection goes is not stored, where it would be delivered as the gateway's own value:
 * it fails as under 'fail'.
 */
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

  function flow(): FlowNode[] {
    return [
      {
        id: 'gw',
        type: 'onenet-device',
        name: 'gateway',
        productId: GATEWAY.productId,
        deviceName: GATEWAY.deviceName,
        host: emulator.host,
        port: String(emulator.port),
        tls: false,
        tokenTtl: '3600',
        keepalive: '60',
        offlinePolicy: 'store',
        // One uplink every 2 s once the login's burst is spent: sub-device posts wait.
        uplinkRate: '0.5',
      },
      {
        id: 'sub',
        type: 'onenet-device',
        name: 'field device',
        productId: SUB.productId,
        deviceName: SUB.deviceName,
        gateway: 'gw',
      },
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

  it("fails a sub-device post that waited when the gateway disconnects, and never stores it as the gateway's", async () => {
    await load(flow(), { gw: { key: GATEWAY.key }, sub: { key: SUB.key } });
    await waitFor(
      () => emulator.loggedInSubDevices(ref(GATEWAY)).length === 1,
      'the sub-device logged in',
      10_000,
    );
    const out = collect('p-out');
    const caught = collect('catch-out');
    // The login's uplinks spent the burst: these wait for the budget (one may go at once).
    for (let i = 0; i < 4; i++) node('p').receive({ payload: { level: i } });
    // The gateway's own node shows its connection: the posts wait in its queue.
    await waitFor(
      () => statusHistory('own').some((status) => status.text === STATUS.queued),
      'posts waiting in the queue',
      5000,
    );
    node('own').receive({ action: 'disconnect' });
    await waitFor(() => out.length + caught.length === 4, 'the sub-device posts settled', 10_000);
    assert.ok(caught.length > 0, 'some waited and failed');

    const storedOnes = out.filter((msg) => (msg.onenet as Record<string, unknown>).stored === true);
    assert.equal(storedOnes.length, 0, 'no sub-device post was reported stored');
    // Drained by the disconnect, or refused once it took effect: either way not sent, not stored.
    for (const msg of caught) assert.match(errorText(msg), /^not sent: /);
    // Connected again, the gateway's store has nothing of the sub-device's to deliver as its own.
    node('own').receive({ action: 'connect' });
    const ownOut = collect('own-out');
    node('own').receive({ payload: { uptime: 1 } });
    await waitFor(() => ownOut.length === 1, "the gateway's own post answered", 20_000);
    assert.deepEqual(emulator.propertyHistory(ref(GATEWAY), 'level'), []);
  });
});
