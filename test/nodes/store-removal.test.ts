import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { storeDirOf } from '../../src/node-red/device-settings';
import {
  DEVICE,
  catchAll,
  collect,
  credentials,
  deviceConfig,
  flowNode,
  helper,
  lastStatus,
  node,
  redeploy,
  useEmulator,
  waitConnected,
  waitFor,
  STATUS,
  type FlowNode,
} from './support';
import { logged, useUserDir } from './store-support';
import { loadTranslated } from './translated';

/**
 * What becomes of a device's store when its config node goes (issue 16): deleted in a deploy, an
 * empty store is removed, leaving nothing under the user directory; one that still holds values is
 * kept, with a log line saying how many, and delivered once the device is back. Node-RED stopping
 * (or restarting the node in a deploy) is not a deletion: the store stays as it is.
 */
describe('offlinePolicy store: the store when the device goes', function () {
  this.timeout(30_000);
  const suite = useEmulator();
  let userDir: string;
  /** The property posted: one per test, as the emulator (shared by the suite) keeps what it got. */
  let property: string;
  let tests = 0;

  beforeEach(async () => {
    property = `level${++tests}`;
    userDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'onenet-store-removal-'));
    useUserDir(userDir);
  });
  afterEach(async () => {
    await suite.emulator.startListening();
    await fsp.rm(userDir, { recursive: true, force: true });
  });

  const storeRoot = (): string => path.join(userDir, 'onenet-store');
  const deviceDir = (): string =>
    storeDirOf(userDir, { ...DEVICE, host: suite.emulator.host, port: suite.emulator.port });
  const exists = (file: string): Promise<boolean> =>
    fsp.stat(file).then(
      () => true,
      () => false,
    );

  function flow(): FlowNode[] {
    return [
      deviceConfig(suite.emulator, { offlinePolicy: 'store' }),
      flowNode('post', 'onenet-property-post', { device: 'cfg', waitReply: true }, [['out']]),
      flowNode('out', 'helper'),
      ...catchAll(),
    ];
  }

  /** Stores `count` posts while OneNET cannot be reached; returns their times. */
  async function storeOffline(count: number): Promise<number[]> {
    const base = Date.now() - 60_000;
    const out = collect('out');
    const caught = collect('catch-out');
    for (let i = 0; i < count; i++) node('post').receive({ payload: { [property]: i }, time: base + i });
    await waitFor(() => out.length + caught.length === count, `${count} posts settled`, 10_000);
    assert.equal(caught.length, 0, JSON.stringify(caught[0]?.error));
    assert.ok(out.every((msg) => (msg.onenet as Record<string, unknown>).stored === true));
    return Array.from({ length: count }, (_, i) => base + i);
  }

  it('removes the store of a deleted device once everything in it was delivered, leaving nothing behind', async () => {
    await suite.emulator.stopListening();
    await loadTranslated('en-US', flow());
    await storeOffline(2);
    assert.ok(await exists(deviceDir()), 'the store is on disk');
    await suite.emulator.startListening();
    await waitConnected(suite.emulator);
    await waitFor(
      () => suite.emulator.propertyHistory(DEVICE, property).length === 2,
      'both delivered',
      20_000,
    );
    await waitFor(() => lastStatus('post')?.text === STATUS.connected, 'the store emptied', 10_000);
    const cfg = node('cfg');

    // The device config node and its flow node are deleted.
    await redeploy(catchAll(), 'full');
    assert.equal(await exists(deviceDir()), false, 'the empty store directory is removed');
    assert.equal(await exists(storeRoot()), false, 'and the onenet-store directories it was in');
    assert.deepEqual(keptLines(cfg), [], 'nothing kept, nothing to say');
  });

  it('keeps the store of a deleted device that still holds values, says how many, and delivers them later', async () => {
    await suite.emulator.stopListening();
    await loadTranslated('en-US', flow());
    const times = await storeOffline(3);
    const cfg = node('cfg');

    await redeploy(catchAll(), 'full');
    const kept = keptLines(cfg);
    assert.deepEqual(kept, [
      `OneNET device ${DEVICE.productId}/${DEVICE.deviceName} removed: its store in ${deviceDir()} ` +
        'still holds 3 value(s) and is kept',
    ]);
    const files = await fsp.readdir(deviceDir());
    assert.ok(files.length > 0, 'its files are still there');

    // The device comes back (the same identity): what was kept is delivered.
    await redeploy(flow(), 'full');
    await suite.emulator.startListening();
    await waitFor(
      () => suite.emulator.propertyHistory(DEVICE, property).length === 3,
      'the kept values delivered',
      20_000,
    );
    assert.deepEqual(
      suite.emulator.propertyHistory(DEVICE, property).map((record) => [record.value, record.time]),
      times.map((time, i) => [i, time]),
    );
  });

  it("removes only the deleted device's store, not another device's beside it", async () => {
    await suite.emulator.stopListening();
    const other = { ...DEVICE, deviceName: 'node-test-other' };
    await loadTranslated(
      'en-US',
      [
        ...flow(),
        deviceConfig(suite.emulator, { id: 'cfg2', deviceName: other.deviceName, offlinePolicy: 'store' }),
        flowNode('post2', 'onenet-property-post', { device: 'cfg2' }, [['out2']]),
        flowNode('out2', 'helper'),
      ],
      credentials(undefined, ['cfg', 'cfg2']),
    );
    const out2 = collect('out2');
    node('post2').receive({ payload: { [property]: 1 } });
    await waitFor(() => out2.length === 1, 'the other device stored its post', 10_000);
    const otherDir = storeDirOf(userDir, { ...other, host: suite.emulator.host, port: suite.emulator.port });
    assert.ok(await exists(deviceDir()), 'both stores exist');

    await redeploy(
      [
        deviceConfig(suite.emulator, { id: 'cfg2', deviceName: other.deviceName, offlinePolicy: 'store' }),
        flowNode('post2', 'onenet-property-post', { device: 'cfg2' }, [['out2']]),
        flowNode('out2', 'helper'),
        ...catchAll(),
      ],
      'full',
      credentials(undefined, ['cfg2']),
    );
    assert.equal(await exists(deviceDir()), false, "the deleted device's empty store is removed");
    assert.ok((await fsp.readdir(otherDir)).length > 0, "the other device's store stays, with its value");
  });

  it('keeps the store of a deleted device that it could not read, and says so', async () => {
    // A directory where a segment file should be: the store cannot be read (whoever runs the test).
    await fsp.mkdir(path.join(deviceDir(), 'seg-0000000001.log'), { recursive: true });
    await suite.emulator.stopListening();
    await loadTranslated('en-US', flow());
    const cfg = node('cfg');
    await waitFor(() => logged(cfg, 'error', '').length > 0, 'the store reported unusable', 5000);
    await redeploy(catchAll(), 'full');
    assert.deepEqual(keptLines(cfg), [
      `OneNET device ${DEVICE.productId}/${DEVICE.deviceName} removed: its store in ${deviceDir()} ` +
        'still holds files it could not read, and is kept',
    ]);
    assert.ok(await exists(path.join(deviceDir(), 'seg-0000000001.log')), 'nothing in it was removed');
  });

  it('leaves the store alone when Node-RED stops: its values stay, and so does an empty store', async () => {
    await suite.emulator.stopListening();
    await loadTranslated('en-US', flow());
    await storeOffline(2);
    await helper.unload();
    const files = await fsp.readdir(deviceDir());
    assert.ok(files.length > 0, 'the stored values are still on disk after a stop');

    await suite.emulator.startListening();
    await loadTranslated('en-US', flow());
    await waitConnected(suite.emulator);
    await waitFor(() => suite.emulator.propertyHistory(DEVICE, property).length === 2, 'delivered', 20_000);
    await waitFor(() => lastStatus('post')?.text === STATUS.connected, 'the store emptied', 10_000);
    await helper.unload();
    assert.ok(await exists(deviceDir()), 'an empty store stays where it is across a stop');
  });

  it('keeps the store when a deploy only restarts the device config node (changed, not deleted)', async () => {
    await suite.emulator.stopListening();
    await loadTranslated('en-US', flow());
    await storeOffline(2);
    const cfg = node('cfg');
    const changed = flow().map((item) => (item.id === 'cfg' ? { ...item, name: 'renamed' } : item));
    await redeploy(changed, 'nodes');
    assert.ok((await fsp.readdir(deviceDir())).length > 0, 'the stored values stay');
    assert.deepEqual(keptLines(cfg), [], 'nothing to say: the device was not deleted');
  });
});

/**
 * The lines the device config node `cfg` logged (in en-US, see loadTranslated) about keeping a
 * store; read after the node was removed.
 */
function keptLines(cfg: ReturnType<typeof node>): string[] {
  return logged(cfg, 'log', '').filter((line) => / removed: its store in .* is kept$/.test(line));
}
