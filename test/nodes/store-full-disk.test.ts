import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import {
  DEVICE,
  catchAll,
  collect,
  deviceConfig,
  flowNode,
  lastStatus,
  load,
  node,
  statusHistory,
  useEmulator,
  waitConnected,
  waitFor,
} from './support';
import { STORE_TEXT, logged, useUserDir } from './store-support';
import { freeBytes, smallDiskOrSkip, writeFiller, type SmallDisk } from '../store/small-disk';

/**
 * offlinePolicy 'store' on a disk that runs full (a 256 KB tmpfs as the user directory): a post
 * that does not fit fails through Catch with reason 'store' and says why, the node says so, and
 * nothing reported stored is lost. Once space is freed posts are stored again, and after connecting
 * OneNET gets exactly the values reported stored, each with its time, and none of those that failed.
 */
describe('offlinePolicy store: a full disk', function () {
  this.timeout(60_000);
  const suite = useEmulator();
  let disk: SmallDisk;

  before(async function () {
    disk = await smallDiskOrSkip(this, 256);
    useUserDir(disk.dir);
  });
  after(async () => {
    await disk?.unmount();
  });

  it('fails the posts that do not fit (Catch, status), keeps those it stored, and stores again once space is freed', async () => {
    await suite.emulator.stopListening();
    try {
      await load([
        deviceConfig(suite.emulator, { offlinePolicy: 'store' }),
        flowNode('post', 'onenet-property-post', { device: 'cfg', waitReply: true }, [['out']]),
        flowNode('out', 'helper'),
        ...catchAll(),
      ]);
      const out = collect('out');
      const caught = collect('catch-out');
      // The store's directory exists once the connection is up; then the disk is filled but for ~48 KB.
      await waitFor(() => lastStatus('post') !== undefined, 'the node started');
      const filler = await writeFiller(disk.dir, (await freeBytes(disk.dir)) - 48 * 1024);

      const base = Date.now() - 600_000;
      let posted = 0;
      /** Posts one value of about 1.5 KB and waits for its outcome: true when it was stored. */
      const postOne = async (): Promise<boolean> => {
        const settledBefore = out.length + caught.length;
        const i = posted++;
        node('post').receive({ payload: { blob: `${i}:${'v'.repeat(1500)}` }, time: base + i });
        await waitFor(() => out.length + caught.length > settledBefore, `post ${i} settled`, 10_000);
        return out.length + caught.length === settledBefore + 1 && caught.length === 0;
      };
      const stored = (): Array<[unknown, number]> =>
        out.map((msg) => [(msg.payload as { blob: unknown }).blob, Number(msg.time)]);

      while (caught.length === 0 && posted < 200) await postOne();
      assert.ok(caught.length === 1, 'the disk ran full');
      assert.ok(out.length > 0, 'posts were stored until then');
      assert.ok(out.every((msg) => (msg.onenet as Record<string, unknown>).stored === true));
      const onenet = caught[0]!.onenet as Record<string, unknown>;
      assert.equal(onenet.reason, 'store');
      assert.match(
        String(onenet.message),
        /^not stored: cannot write the store in .*: no space left on the device \(ENOSPC\)$/,
      );
      assert.ok(
        statusHistory('post').some((status) => status.text === STORE_TEXT.failedStore),
        'the node showed the failed post',
      );
      assert.equal(logged(node('cfg'), 'error', STORE_TEXT.logUnusable).length, 1, 'the log says why, once');
      // Still full: the next posts fail the same way, and the node keeps saying so.
      for (let i = 0; i < 3; i++) await postOne();
      assert.equal(caught.length, 4);
      await waitFor(
        () => lastStatus('post')?.text === STORE_TEXT.storeFailed,
        'the status to say the store failed',
        10_000,
      );

      await fsp.rm(filler);
      const storedBeforeFree = out.length;
      for (let i = 0; i < 3; i++) await postOne();
      assert.equal(caught.length, 4, 'posts are stored again once space is freed');
      assert.equal(out.length, storedBeforeFree + 3);
      await waitFor(
        () => lastStatus('post')?.text === STORE_TEXT.stored,
        'the status to show the stored posts instead of the failure',
      );
      assert.equal(logged(node('cfg'), 'log', STORE_TEXT.logUsable).length, 1, 'the log says it works again');

      await suite.emulator.startListening();
      await waitConnected(suite.emulator);
      await waitFor(
        () => suite.emulator.propertyHistory(DEVICE, 'blob').length >= out.length,
        `the ${out.length} stored values at the emulator`,
        30_000,
      );
      assert.deepEqual(
        suite.emulator.propertyHistory(DEVICE, 'blob').map((record) => [record.value, record.time]),
        stored(),
        'every value reported stored, with its time, and none of those that failed',
      );
    } finally {
      await suite.emulator.startListening();
    }
  });
});
