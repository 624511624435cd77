/**
 * Issue 16's store-speed figure: values per second written durably by the store's journal, and
 * bytes on disk per value, beside a plain append of the same records (the same encoded frames) to
 * one file, once without and once with an fdatasync per post. Each post is 5 property values, as
 * in the outage benchmark. Two ways of posting: one post at a time (each waits until it is durable,
 * as one flow message does) and 100 posts outstanding at once (a busy flow; the journal then makes
 * one fdatasync for all writes waiting). Median of 3 runs, each in a fresh temporary directory.
 * Run: node .build/bench/bench-9-store-speed.js
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Journal, type NewValue } from '../src/store';
import { encodeFrame } from '../src/store/frame';
import { valueBody } from '../src/store/records';
import { formatTable, median } from './stats';

const RUNS = 3;
const PROPERTIES = 5;
const ONE_AT_A_TIME_POSTS = 500;
const OUTSTANDING = 100;
const OUTSTANDING_POSTS = 20_000;
/** Recent times: the journal drops values older than its age bound. */
const FIRST_TIME = Date.now() - 86_400_000;

type Writer = (values: NewValue[]) => Promise<void>;

interface Side {
  name: string;
  open: (dir: string) => Promise<{ write: Writer; bytes: () => Promise<number>; close: () => Promise<void> }>;
}

function postValues(post: number): NewValue[] {
  const values: NewValue[] = [];
  for (let p = 0; p < PROPERTIES; p++)
    values.push({
      device: 'BenchProd1/store-speed',
      kind: 'property',
      identifier: `temperature${p}`,
      value: 20 + ((post * PROPERTIES + p) % 100) / 10,
      time: FIRST_TIME + post * 10,
    });
  return values;
}

/** The journal as the device connection uses it. */
const journalSide: Side = {
  name: 'store journal (fdatasync, batched)',
  open: async (dir) => {
    const journal = await Journal.open({ dir, maxBytes: 1024 * 1024 * 1024, maxAgeMs: 365 * 86_400_000 });
    return {
      write: async (values) => {
        await journal.append(values);
      },
      bytes: async () => journal.bytes,
      close: () => journal.close(),
    };
  },
};

/** The same frames appended to one file with one write per post; `sync` adds an fdatasync per post. */
function plainSide(sync: boolean): Side {
  return {
    name: sync ? 'plain append + fdatasync per post' : 'plain append, no sync (baseline)',
    open: async (dir) => {
      const file = path.join(dir, 'plain.log');
      const handle = await fsp.open(file, 'a');
      let seq = 0;
      // Writes go one after another, as appends to one file must.
      let tail: Promise<void> = Promise.resolve();
      return {
        write: (values) => {
          const bytes = Buffer.concat(
            values.map((value) => encodeFrame(valueBody({ ...value, seq: seq++ }))),
          );
          tail = tail.then(async () => {
            await handle.write(bytes);
            if (sync) await handle.datasync();
          });
          return tail;
        },
        bytes: async () => (await fsp.stat(file)).size,
        close: () => handle.close(),
      };
    },
  };
}

interface Run {
  side: string;
  mode: 'one at a time' | 'outstanding';
  valuesPerSecond: number;
  bytesPerValue: number;
}

async function measure(side: Side, mode: Run['mode']): Promise<Run> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'onenet-store-speed-'));
  try {
    const store = await side.open(dir);
    const posts = mode === 'one at a time' ? ONE_AT_A_TIME_POSTS : OUTSTANDING_POSTS;
    const started = performance.now();
    if (mode === 'one at a time') {
      for (let post = 0; post < posts; post++) await store.write(postValues(post));
    } else {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < posts) await store.write(postValues(next++));
      };
      await Promise.all(Array.from({ length: OUTSTANDING }, worker));
    }
    const seconds = (performance.now() - started) / 1000;
    const values = posts * PROPERTIES;
    const bytes = await store.bytes();
    await store.close();
    return { side: side.name, mode, valuesPerSecond: values / seconds, bytesPerValue: bytes / values };
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const sides = [plainSide(false), plainSide(true), journalSide];
  const runs: Run[] = [];
  for (let run = 1; run <= RUNS; run++)
    for (const mode of ['one at a time', 'outstanding'] as const)
      for (const side of sides) {
        const result = await measure(side, mode);
        runs.push(result);
        console.log(
          `  run ${run} ${mode}, ${side.name}: ${result.valuesPerSecond.toFixed(0)} values/s, ` +
            `${result.bytesPerValue.toFixed(1)} bytes/value`,
        );
      }
  for (const mode of ['one at a time', 'outstanding'] as const) {
    const of = (name: string, pick: (run: Run) => number): number =>
      median(runs.filter((run) => run.side === name && run.mode === mode).map(pick));
    const baseline = of(sides[0]!.name, (run) => run.valuesPerSecond);
    const rows = sides.map((side) => {
      const speed = of(side.name, (run) => run.valuesPerSecond);
      return [side.name, speed, speed / baseline, of(side.name, (run) => run.bytesPerValue)];
    });
    const posts =
      mode === 'one at a time'
        ? `${ONE_AT_A_TIME_POSTS} posts, each awaited`
        : `${OUTSTANDING_POSTS} posts, ${OUTSTANDING} outstanding`;
    console.log(
      '\n' +
        formatTable(
          `Store speed, ${PROPERTIES} values per post, ${posts} (median of ${RUNS})`,
          ['side', 'values/s', 'ratio', 'bytes/value'],
          rows,
        ),
    );
  }
}

void main();
