import { constants, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { encodeFrame } from './frame';
import { ackBody, valueBody, type NewValue, type StoredValue } from './records';
import { listSegments, readSegment, segmentName, syncDirectory, truncateSegment } from './segment-files';
import { StoreError, storeError } from './store-error';

/**
 * A durable, bounded, append-only journal of values waiting to be delivered (store-and-forward).
 *
 * Why our own: it has to install with `npm install` on Linux x64, arm64 and armv7 without a
 * compiler and on every Node.js line in `engines`, which rules out the native embedded databases;
 * the access pattern (append, read oldest first, forget what was delivered) is exactly a log, so a
 * few hundred lines over node:fs do it with no dependency.
 *
 * - append() resolves once the values are on disk (written and fdatasync'ed). Appends that arrive
 *   while a write is running go out together in the next one, so a burst costs one fsync, not one each.
 * - ack() records that values need not be delivered again. Acks are not waited for: one lost in a
 *   crash means the value is delivered once more (at least once), never that it is lost.
 * - A segment whose values are all acked is removed once every older one is, so an ack written in a
 *   newer segment never vanishes before the values it names; when nothing is pending, all files go.
 * - Bounds: past `maxBytes` on disk the oldest segment goes; values older than `maxAgeMs` go; both
 *   counted through `dropped`.
 * - A torn or garbage tail (a crash mid-write, a full disk) ends the readable part of a segment; it
 *   is reported through `torn` and cut off on open.
 */

export interface JournalOptions {
  dir: string;
  maxBytes: number;
  maxAgeMs: number;
  /** Default: a quarter of maxBytes, at most 1 MB (one segment is read into memory at a time). */
  segmentBytes?: number;
  /** Values removed by a bound before they were delivered. */
  dropped?: (count: number, reason: 'size' | 'age') => void;
  /** A segment had an unreadable tail (skipped). */
  torn?: (file: string, skippedBytes: number) => void;
  now?: () => number;
}

interface Segment {
  number: number;
  size: number;
  /** Value records in it, and how many of them are acked. */
  values: number;
  acked: number;
  firstSeq: number;
  lastSeq: number;
  newestTime: number;
  /** The segment being appended to: its values are kept in memory (it is at most segmentBytes). */
  records?: StoredValue[];
  handle?: fsp.FileHandle;
}

interface Write {
  frames: Buffer[];
  values: StoredValue[];
  resolve?: (values: StoredValue[]) => void;
  reject?: (error: Error) => void;
}

export class Journal {
  private readonly segments: Segment[] = [];
  /** Acked seqs of the segments that still exist (bounded: delivered segments are removed). */
  private readonly acked = new Set<number>();
  private nextSeq = 0;
  private nextSegment = 1;
  private writes: Write[] = [];
  private writing: Promise<void> | undefined;
  private closed = false;
  private readonly segmentBytes: number;
  private readonly now: () => number;
  /** The last sealed segment read, parsed (backfill reads one segment many times). */
  private cache: { number: number; values: StoredValue[] } | undefined;

  private constructor(private readonly options: JournalOptions) {
    this.segmentBytes = options.segmentBytes ?? Math.max(4096, Math.min(1024 * 1024, options.maxBytes / 4));
    this.now = options.now ?? Date.now;
  }

  /** Creates the directory when missing; rejects with a StoreError when it cannot be used. */
  static async open(options: JournalOptions): Promise<Journal> {
    const journal = new Journal(options);
    try {
      await fsp.mkdir(options.dir, { recursive: true });
      await fsp.access(options.dir, constants.W_OK);
      await journal.load();
    } catch (err) {
      throw storeError(options.dir, err);
    }
    return journal;
  }

  get dir(): string {
    return this.options.dir;
  }

  /** Values stored and not yet acked. */
  get pending(): number {
    let pending = 0;
    for (const segment of this.segments) pending += segment.values - segment.acked;
    return pending;
  }

  /** Bytes on disk. */
  get bytes(): number {
    let bytes = 0;
    for (const segment of this.segments) bytes += segment.size;
    return bytes;
  }

  /** Stores the values; resolves (with their seqs) once they are durable. */
  append(values: readonly NewValue[]): Promise<StoredValue[]> {
    if (this.closed) return Promise.reject(new StoreError('the store is closed', undefined));
    const stored = values.map((value) => ({ ...value, seq: this.nextSeq++ }));
    return new Promise((resolve, reject) => {
      this.writes.push({
        frames: stored.map((value) => encodeFrame(valueBody(value))),
        values: stored,
        resolve,
        reject,
      });
      this.kick();
    });
  }

  /** These values need not be delivered again. Seqs not (or no longer) in the journal are ignored. */
  ack(seqs: readonly number[]): void {
    const newly: number[] = [];
    for (const seq of seqs) {
      if (this.acked.has(seq)) continue;
      const segment = this.segmentOf(seq);
      if (!segment || !this.holds(segment, seq)) continue;
      this.acked.add(seq);
      segment.acked++;
      newly.push(seq);
    }
    if (newly.length === 0 || this.closed) return;
    this.writes.push({ frames: [encodeFrame(ackBody(newly))], values: [] });
    this.kick();
  }

  /**
   * Up to `limit` pending values, oldest first, leaving out those `skip` names (in flight) and the
   * devices `hold` names (not deliverable now). Values past the age bound are acked as dropped on
   * the way, held ones too.
   */
  async oldest(
    limit: number,
    skip: (seq: number) => boolean = () => false,
    hold: (device: string) => boolean = () => false,
  ): Promise<StoredValue[]> {
    const found: StoredValue[] = [];
    const expired: number[] = [];
    const oldestKept = this.now() - this.options.maxAgeMs;
    for (const segment of [...this.segments]) {
      if (found.length >= limit) break;
      if (segment.values === segment.acked) continue;
      for (const value of await this.valuesOf(segment)) {
        if (this.acked.has(value.seq) || skip(value.seq)) continue;
        if (value.time < oldestKept) {
          expired.push(value.seq);
          continue;
        }
        if (hold(value.device)) continue;
        found.push(value);
        if (found.length >= limit) break;
      }
    }
    if (expired.length > 0) {
      this.ack(expired);
      this.options.dropped?.(expired.length, 'age');
    }
    return found;
  }

  /** Waits for pending writes, then closes; a journal with nothing pending leaves no file behind. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writing) await this.writing;
    for (const segment of this.segments) await segment.handle?.close().catch(() => undefined);
    if (this.pending === 0) await this.removeAll().catch(() => undefined);
  }

  // ---------------------------------------------------------------------------------------------

  private async load(): Promise<void> {
    const { dir } = this.options;
    const numbers = await listSegments(dir);
    const ackRanges: [number, number][] = [];
    const seqsOf = new Map<number, number[]>();
    for (const number of numbers) {
      const contents = await readSegment(dir, number);
      if (contents.skippedBytes > 0) {
        this.options.torn?.(segmentName(number), contents.skippedBytes);
        await truncateSegment(dir, number, contents.goodLength);
      }
      const segment: Segment = {
        number,
        size: contents.goodLength,
        values: contents.values.length,
        acked: 0,
        firstSeq: contents.values[0]?.seq ?? Number.POSITIVE_INFINITY,
        lastSeq: contents.values[contents.values.length - 1]?.seq ?? Number.NEGATIVE_INFINITY,
        newestTime: Math.max(Number.NEGATIVE_INFINITY, ...contents.values.map((value) => value.time)),
      };
      this.segments.push(segment);
      seqsOf.set(
        number,
        contents.values.map((value) => value.seq),
      );
      ackRanges.push(...contents.acked);
      if (segment.lastSeq >= this.nextSeq) this.nextSeq = segment.lastSeq + 1;
      this.nextSegment = number + 1;
    }
    const present = new Set<number>();
    for (const seqs of seqsOf.values()) for (const seq of seqs) present.add(seq);
    for (const [from, to] of ackRanges)
      for (let seq = Math.max(from, 0); seq <= Math.min(to, this.nextSeq - 1); seq++)
        if (present.has(seq) && !this.acked.has(seq)) {
          this.acked.add(seq);
          this.segmentOf(seq)!.acked++;
        }
    await this.enforceBounds();
    await this.removeDelivered();
  }

  private kick(): void {
    if (this.writing) return;
    this.writing = this.drainWrites().finally(() => {
      this.writing = undefined;
      if (this.writes.length > 0 && !this.closed) this.kick();
    });
  }

  private async drainWrites(): Promise<void> {
    while (this.writes.length > 0) {
      const batch = this.writes;
      this.writes = [];
      const written = await this.writeBatch(batch);
      // Bounds first, so whoever hears "durable" sees the journal within them.
      await this.enforceBounds().catch(() => undefined);
      await this.removeDelivered().catch(() => undefined);
      for (const write of written) write.resolve?.(write.values);
    }
  }

  /** Returns the writes that are now durable (their promises are resolved by the caller). */
  private async writeBatch(batch: Write[]): Promise<Write[]> {
    const bytes = Buffer.concat(batch.flatMap((write) => write.frames));
    let segment: Segment | undefined;
    try {
      segment = await this.activeFor(bytes.length);
      for (let offset = 0; offset < bytes.length;) {
        const { bytesWritten } = await segment.handle!.write(bytes, offset, bytes.length - offset);
        offset += bytesWritten;
      }
      await segment.handle!.datasync();
    } catch (err) {
      const error = storeError(this.options.dir, err);
      if (segment) await this.abandon(segment);
      for (const write of batch) write.reject?.(error);
      return [];
    }
    segment.size += bytes.length;
    for (const write of batch)
      for (const value of write.values) {
        segment.records!.push(value);
        segment.values++;
        if (value.seq < segment.firstSeq) segment.firstSeq = value.seq;
        if (value.seq > segment.lastSeq) segment.lastSeq = value.seq;
        if (value.time > segment.newestTime) segment.newestTime = value.time;
      }
    return batch;
  }

  /** The segment to append `length` bytes to: the open one, or a new one once it is full. */
  private async activeFor(length: number): Promise<Segment> {
    const last = this.segments[this.segments.length - 1];
    if (last?.handle) {
      if (last.size === 0 || last.size + length <= this.segmentBytes) return last;
      await this.seal(last);
    }
    const number = this.nextSegment++;
    const handle = await fsp.open(path.join(this.options.dir, segmentName(number)), 'ax');
    const segment: Segment = {
      number,
      size: 0,
      values: 0,
      acked: 0,
      firstSeq: Number.POSITIVE_INFINITY,
      lastSeq: Number.NEGATIVE_INFINITY,
      newestTime: Number.NEGATIVE_INFINITY,
      records: [],
      handle,
    };
    this.segments.push(segment);
    await syncDirectory(this.options.dir);
    return segment;
  }

  private async seal(segment: Segment): Promise<void> {
    const handle = segment.handle;
    segment.handle = undefined;
    segment.records = undefined;
    await handle?.close().catch(() => undefined);
  }

  /**
   * A write failed part-way (a full disk): cut what it left, durably, so none of the values it was
   * for is ever read back, and append there again next time (the file is opened for appending).
   * Only when the cut fails does the next append start a new segment; the torn tail left behind is
   * then skipped by the checksums when the journal is read.
   */
  private async abandon(segment: Segment): Promise<void> {
    const handle = segment.handle;
    if (!handle) return;
    const cut = await handle
      .truncate(segment.size)
      .then(() => handle.datasync())
      .then(
        () => true,
        () => false,
      );
    if (!cut) await this.seal(segment);
  }

  private async valuesOf(segment: Segment): Promise<StoredValue[]> {
    if (segment.records) return segment.records;
    if (this.cache?.number !== segment.number)
      this.cache = {
        number: segment.number,
        values: (await readSegment(this.options.dir, segment.number)).values,
      };
    return this.cache.values;
  }

  private segmentOf(seq: number): Segment | undefined {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const segment = this.segments[i]!;
      if (segment.values > 0 && seq >= segment.firstSeq) return segment;
    }
    return undefined;
  }

  private holds(segment: Segment, seq: number): boolean {
    return seq <= segment.lastSeq;
  }

  private async enforceBounds(): Promise<void> {
    const oldestKept = this.now() - this.options.maxAgeMs;
    let bySize = 0;
    let byAge = 0;
    while (this.segments.length > 1 && !this.segments[0]!.handle) {
      const oldest = this.segments[0]!;
      const overSize = this.bytes > this.options.maxBytes;
      const tooOld = oldest.values > 0 && oldest.newestTime < oldestKept;
      if (!overSize && !tooOld) break;
      const lost = oldest.values - oldest.acked;
      if (overSize) bySize += lost;
      else byAge += lost;
      await this.removeSegment(oldest);
    }
    if (bySize > 0) this.options.dropped?.(bySize, 'size');
    if (byAge > 0) this.options.dropped?.(byAge, 'age');
  }

  /** Removes delivered segments from the oldest on; everything once nothing is pending. */
  private async removeDelivered(): Promise<void> {
    if (this.pending === 0 && this.writes.length === 0) {
      await this.removeAll();
      return;
    }
    while (this.segments.length > 0) {
      const oldest = this.segments[0]!;
      if (oldest.handle || oldest.values !== oldest.acked) break;
      await this.removeSegment(oldest);
    }
  }

  private async removeSegment(segment: Segment): Promise<void> {
    await this.seal(segment);
    await fsp.rm(path.join(this.options.dir, segmentName(segment.number)), { force: true });
    this.segments.splice(this.segments.indexOf(segment), 1);
    if (this.cache?.number === segment.number) this.cache = undefined;
    if (segment.values > 0)
      for (let seq = segment.firstSeq; seq <= segment.lastSeq; seq++) this.acked.delete(seq);
  }

  private async removeAll(): Promise<void> {
    for (const segment of [...this.segments]) await this.removeSegment(segment);
    this.acked.clear();
  }
}
