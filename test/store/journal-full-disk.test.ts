import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Journal, StoreError, type NewValue, type StoredValue } from '../../src/store';
import { freeBytes, smallDiskOrSkip, writeFiller, type SmallDisk } from './small-disk';

const DAY = 86_400_000;

/**
 * The journal on a file system that runs full (a 256 KB tmpfs): an append that does not fit fails
 * with a StoreError naming the cause, what it half wrote is cut off, and once space is freed the
 * journal goes on. Reopened, it holds exactly the values it reported durable: none of a failed
 * append, and no torn tail.
 */
describe('store: journal on a full disk', function () {
  this.timeout(30_000);
  let disk: SmallDisk;
  let dir: string;

  before(async function () {
    disk = await smallDiskOrSkip(this, 256);
  });
  after(async () => {
    await disk?.unmount();
  });
  beforeEach(async () => {
    dir = path.join(disk.dir, 'store');
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.rm(path.join(disk.dir, 'filler'), { force: true });
  });

  let n = 0;
  /** One value of about 1.5 KB, so a few dozen fill what is left. */
  const value = (): NewValue => ({
    device: 'Prod/dev',
    kind: 'property',
    identifier: 'blob',
    value: `${n++}:${'v'.repeat(1500)}`,
    time: 1_700_000_000_000 + n,
  });

  it('fails the append that does not fit, keeps every one it reported durable, and goes on once space is freed', async () => {
    const torn: string[] = [];
    const options = {
      dir,
      maxBytes: 100 * 1024 * 1024,
      maxAgeMs: 3650 * DAY,
      torn: (file: string) => torn.push(file),
    };
    const journal = await Journal.open(options);
    const filler = await writeFiller(disk.dir, (await freeBytes(disk.dir)) - 48 * 1024);
    const durable: StoredValue[] = [];
    let failure: unknown;
    for (let i = 0; i < 200 && failure === undefined; i++) {
      // Two appends at a time: they go out in one write, and fail together.
      await Promise.all([journal.append([value()]), journal.append([value(), value()])]).then(
        (stored) => durable.push(...stored.flat()),
        (err: unknown) => (failure = err),
      );
    }
    assert.ok(failure instanceof StoreError, `the disk ran full: ${String(failure)}`);
    assert.equal(failure.code, 'ENOSPC');
    assert.match(failure.message, /^cannot write the store in .*: no space left on the device \(ENOSPC\)$/);
    assert.ok(durable.length > 0, 'some values fit first');
    // Still full: appends keep failing, each with the same clear error, and leave nothing behind
    // (no file per failed append).
    const files = await fsp.readdir(dir);
    for (let i = 0; i < 20; i++)
      await assert.rejects(journal.append([value()]), /no space left on the device/);
    assert.deepEqual(await fsp.readdir(dir), files);

    await fsp.rm(filler);
    const after = await journal.append([value(), value()]);
    durable.push(...after);
    assert.equal(journal.pending, durable.length, 'the failed values are not counted as pending');
    await journal.close();

    const again = await Journal.open(options);
    assert.deepEqual(torn, [], 'no torn tail left behind by the failed writes');
    const read = await again.oldest(10_000);
    assert.deepEqual(read, durable, 'exactly the values reported durable, oldest first');
    await again.close();
  });
});
