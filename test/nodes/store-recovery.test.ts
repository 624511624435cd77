import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DEVICE,
  catchAll,
  collect,
  deviceConfig,
  flowNode,
  load,
  node,
  statusHistory,
  lastStatus,
  useEmulator,
  waitConnected,
  waitFor,
  type FlowNode,
} from './support';
import { STORE_TEXT, logged, useUserDir } from './store-support';

/**
 * A store that cannot be opened (here: a regular file stands where its directory has to be, which
 * stops root as well as anyone else) fails the posts that need it, and is tried again: a post made
 * once the cause is gone is stored, and the status and the log say the store works again.
 */
describe('offlinePolicy store: a store that could not be opened', function () {
  this.timeout(30_000);
  const suite = useEmulator();
  let base: string;
  /** The runtime's user directory, a regular file at first. */
  let userDir: string;

  beforeEach(async () => {
    base = await fsp.mkdtemp(path.join(os.tmpdir(), 'onenet-store-recovery-'));
    userDir = path.join(base, 'user');
    await fsp.writeFile(userDir, 'not a directory');
    useUserDir(userDir);
    await suite.emulator.stopListening();
  });
  afterEach(async () => {
    await suite.emulator.startListening();
    await fsp.rm(base, { recursive: true, force: true });
  });

  function flow(): FlowNode[] {
    return [
      deviceConfig(suite.emulator, { offlinePolicy: 'store' }),
      flowNode('post', 'onenet-property-post', { device: 'cfg', waitReply: true }, [['out']]),
      flowNode('out', 'helper'),
      ...catchAll(),
    ];
  }

  const showsStoreFailed = (): boolean => lastStatus('post')?.text === STORE_TEXT.storeFailed;

  it('fails the post through Catch, then stores a later post once the cause is fixed, and delivers it', async () => {
    await load(flow());
    const out = collect('out');
    const caught = collect('catch-out');
    await waitFor(showsStoreFailed, 'the node to say the store failed', 5000);
    assert.equal(logged(node('cfg'), 'error', STORE_TEXT.logUnusable).length, 1, 'the log says why');

    const failedAt = Date.now() - 5000;
    node('post').receive({ payload: { temperature: 1 }, time: failedAt });
    await waitFor(() => caught.length === 1, 'the post caught', 10_000);
    assert.equal(out.length, 0);
    const onenet = caught[0]!.onenet as Record<string, unknown>;
    assert.equal(onenet.reason, 'store');
    assert.match(String(onenet.message), /not stored: cannot write the store in .*not a directory/);
    assert.ok(
      statusHistory('post').some((status) => status.text === STORE_TEXT.failedStore),
      'the node showed the failed post',
    );

    // The cause goes: the user directory can be created now.
    await fsp.rm(userDir);
    const storedAt = Date.now() - 4000;
    node('post').receive({ payload: { temperature: 2 }, time: storedAt });
    await waitFor(() => out.length + caught.length === 2, 'the second post settled', 10_000);
    assert.equal(caught.length, 1, JSON.stringify(caught[1]?.error));
    assert.equal((out[0]!.onenet as Record<string, unknown>).stored, true);
    await waitFor(
      () => /stored/.test(String(lastStatus('post')?.text)) && !showsStoreFailed(),
      `the status to show the stored post (now "${lastStatus('post')?.text}")`,
      5000,
    );
    assert.equal(logged(node('cfg'), 'log', STORE_TEXT.logUsable).length, 1, 'the log says it works again');

    await suite.emulator.startListening();
    await waitConnected(suite.emulator);
    await waitFor(
      () => suite.emulator.propertyHistory(DEVICE, 'temperature').length >= 1,
      'the stored value at the emulator',
      20_000,
    );
    await waitFor(
      () => !/stored|backfilling/.test(String(lastStatus('post')?.text)),
      'the store emptied',
      10_000,
    );
    assert.deepEqual(
      suite.emulator.propertyHistory(DEVICE, 'temperature').map((record) => [record.value, record.time]),
      [[2, storedAt]],
      'the stored value with its time, and not the one that failed',
    );
  });

  it('tries again by itself: the status clears once the store can be opened, without a post', async () => {
    await load(flow());
    await waitFor(showsStoreFailed, 'the node to say the store failed', 5000);
    await fsp.rm(userDir);
    await waitFor(
      () => !showsStoreFailed(),
      'the store-failed status to clear by itself (retried with back-off)',
      15_000,
    );
    assert.equal(logged(node('cfg'), 'log', STORE_TEXT.logUsable).length, 1);
    const stat = await fsp.stat(path.join(userDir, 'onenet-store'));
    assert.ok(stat.isDirectory(), 'the store directory exists now');
  });
});
