import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Journal, StoreError, type JournalOptions, type NewValue } from '../../src/store';

const DAY = 86_400_000;

function values(count: number, from = 0, time = Date.now()): NewValue[] {
  return Array.from({ length: count }, (_, i) => ({
    device: 'Prod/dev',
    kind: i % 4 === 3 ? ('event' as const) : ('property' as const),
    identifier: `id${(from + i) % 5}`,
    value: i % 4 === 3 ? { level: from + i } : from + i,
    time: time + from + i,
  }));
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await fsp.readdir(dir)).filter((name) => name.endsWith('.log')).sort();
}

describe('store: journal on a real disk', function () {
  let dir: string;
  const open = (options: Partial<JournalOptions> = {}): Promise<Journal> =>
    Journal.open({ dir, maxBytes: 100 * 1024 * 1024, maxAgeMs: 30 * DAY, ...options });

  beforeEach(async function () {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'onenet-journal-'));
  });
  afterEach(async function () {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('reads back after reopening every value it reported durable, oldest first, with its time and kind', async function () {
    const journal = await open();
    const written = values(250);
    const stored = (
      await Promise.all([journal.append(written.slice(0, 100)), journal.append(written.slice(100))])
    ).flat();
    assert.deepEqual(
      stored.map((value) => value.seq),
      [...Array(250).keys()],
    );
    await journal.close();
    const again = await open();
    assert.equal(again.pending, 250);
    const read = await again.oldest(1000);
    assert.deepEqual(
      read.map((value) => value.seq),
      [...Array(250).keys()],
    );
    assert.deepEqual(
      read.map((value) => ({ ...value, seq: undefined })),
      written.map((value) => ({ ...value, seq: undefined })),
    );
    // New values follow the old ones.
    const [next] = await again.append(values(1, 250));
    assert.equal(next!.seq, 250);
    await again.close();
  });

  it('does not replay acknowledged values, and leaves no file once everything was delivered', async function () {
    const journal = await open({ segmentBytes: 4096 });
    for (let i = 0; i < 10; i++) await journal.append(values(30, i * 30));
    assert.ok((await segmentFiles(dir)).length > 3, 'several segments');
    journal.ack([...Array(120).keys()]);
    await journal.close();
    let again = await open({ segmentBytes: 4096 });
    assert.equal(again.pending, 180);
    assert.equal((await again.oldest(1))[0]!.seq, 120);
    // Segments that held only delivered values are gone (the oldest first).
    const files = await segmentFiles(dir);
    assert.ok(files.length >= 1);
    again.ack([...Array(300).keys()]);
    await again.close();
    assert.deepEqual(await segmentFiles(dir), []);
    again = await open();
    assert.equal(again.pending, 0);
    await again.close();
  });

  it('skips a segment torn in the middle of a record, and keeps everything before it', async function () {
    let journal = await open();
    await journal.append(values(10));
    await journal.close();
    const [file] = await segmentFiles(dir);
    const full = path.join(dir, file!);
    const size = (await fsp.stat(full)).size;
    await fsp.truncate(full, size - 7); // the last record loses its end
    const torn: [string, number][] = [];
    journal = await open({ torn: (name, bytes) => torn.push([name, bytes]) });
    assert.equal(journal.pending, 9);
    assert.deepEqual(torn.length, 1);
    assert.deepEqual(
      (await journal.oldest(100)).map((value) => value.value),
      [0, 1, 2, { level: 3 }, 4, 5, 6, { level: 7 }, 8],
    );
    await journal.append(values(2, 100));
    await journal.close();
    const torn2: string[] = [];
    journal = await open({ torn: (name) => torn2.push(name) });
    assert.equal(journal.pending, 11);
    assert.deepEqual(torn2, [], 'the torn tail was cut off: it is not reported twice');
    await journal.close();
  });

  it('never replays random garbage appended after the last record', async function () {
    let journal = await open();
    await journal.append(values(20));
    await journal.close();
    const [file] = await segmentFiles(dir);
    for (let round = 0; round < 20; round++) {
      await fsp.appendFile(path.join(dir, file!), randomBytes(1 + Math.floor(Math.random() * 300)));
      const torn: number[] = [];
      journal = await open({ torn: (_name, bytes) => torn.push(bytes) });
      assert.equal(journal.pending, 20);
      assert.equal(torn.length, 1);
      const read = await journal.oldest(100);
      assert.deepEqual(
        read.map((value) => value.seq),
        [...Array(20).keys()],
      );
      await journal.close();
    }
  });

  it('drops the oldest values past the size bound, and counts them', async function () {
    const dropped: [number, string][] = [];
    const journal = await open({
      maxBytes: 20_000,
      segmentBytes: 4000,
      dropped: (count, reason) => dropped.push([count, reason]),
    });
    for (let i = 0; i < 20; i++) await journal.append(values(50, i * 50));
    assert.ok(journal.bytes <= 20_000, `${journal.bytes} bytes`);
    const lost = dropped.reduce((sum, [count]) => sum + count, 0);
    assert.ok(lost > 0 && dropped.every(([, reason]) => reason === 'size'));
    assert.equal(journal.pending + lost, 1000, 'every value is either kept or counted as dropped');
    const oldest = await journal.oldest(1);
    assert.equal(oldest[0]!.seq, lost, 'what is left is the newest');
    await journal.close();
  });

  it('drops values past the age bound, and counts them', async function () {
    let now = Date.now();
    const dropped: [number, string][] = [];
    const journal = await open({
      maxAgeMs: DAY,
      now: () => now,
      dropped: (count, reason) => dropped.push([count, reason]),
    });
    await journal.append(values(10, 0, now - 2 * DAY));
    await journal.append(values(5, 10, now));
    const read = await journal.oldest(100);
    assert.deepEqual(
      read.map((value) => value.seq),
      [10, 11, 12, 13, 14],
    );
    assert.deepEqual(dropped, [[10, 'age']]);
    assert.equal(journal.pending, 5);
    now += 2 * DAY;
    assert.deepEqual(await journal.oldest(100), []);
    assert.equal(journal.pending, 0);
    await journal.close();
  });

  it('fails clearly when its directory cannot be used', async function () {
    const file = path.join(dir, 'a-file');
    await fsp.writeFile(file, 'x');
    await assert.rejects(
      Journal.open({ dir: path.join(file, 'store'), maxBytes: 1e6, maxAgeMs: DAY }),
      (err: unknown) =>
        err instanceof StoreError && /cannot write the store in .*a-file.*not a directory/.test(err.message),
    );
  });

  it('reads back every value reported durable by a writer killed with SIGKILL mid-write', async function () {
    this.timeout(120_000);
    const writer = path.join(__dirname, 'journal-writer.js');
    let reported = 0;
    let replayed = 0;
    for (let kill = 0; kill < 5; kill++) {
      const durable = new Set<number>();
      const child = spawn(process.execPath, [writer, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let buffer = '';
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const target = 200 + Math.floor(Math.random() * 2000);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the writer reported too little: ${stderr}`)),
          60_000,
        );
        child.stdout.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          const lines = buffer.split('\n');
          buffer = lines.pop()!;
          for (const line of lines)
            if (line.startsWith('durable '))
              for (const seq of line.slice(8).split(' ')) durable.add(Number(seq));
          if (durable.size >= target && child.exitCode === null) {
            clearTimeout(timer);
            child.kill('SIGKILL');
            resolve();
          }
        });
        child.on('exit', (code, signal) => {
          if (signal !== 'SIGKILL') reject(new Error(`the writer exited ${code}: ${stderr}`));
        });
      });
      await new Promise((resolve) =>
        child.exitCode !== null || child.signalCode ? resolve(undefined) : child.once('exit', resolve),
      );
      const journal = await open();
      const present = new Set((await journal.oldest(Number.MAX_SAFE_INTEGER)).map((value) => value.seq));
      const missing = [...durable].filter((seq) => !present.has(seq));
      assert.deepEqual(missing, [], `kill ${kill}: values reported durable are missing`);
      reported += durable.size;
      replayed += present.size;
      await journal.close();
    }
    assert.ok(replayed >= reported);
  });
});
