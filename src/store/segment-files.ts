import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { decodeFrames } from './frame';
import { parseBody, type StoredValue } from './records';

/**
 * The journal's files: `seg-<number>.log`, numbered in the order they were started, each a run of
 * frames (frame.ts). Only the newest is ever appended to; a journal that opens starts a new one.
 */

const SEGMENT_NAME = /^seg-(\d{10})\.log$/;

export function segmentName(number: number): string {
  return `seg-${String(number).padStart(10, '0')}.log`;
}

/** Segment numbers present in `dir`, ascending. */
export async function listSegments(dir: string): Promise<number[]> {
  const names = await fsp.readdir(dir);
  const numbers: number[] = [];
  for (const name of names) {
    const match = SEGMENT_NAME.exec(name);
    if (match) numbers.push(Number(match[1]));
  }
  return numbers.sort((a, b) => a - b);
}

export interface SegmentContents {
  values: StoredValue[];
  acked: [number, number][];
  /** Bytes of whole, valid frames. */
  goodLength: number;
  /** A torn or corrupted tail, not read. */
  skippedBytes: number;
}

/** Reads one segment; a missing file (removed meanwhile) reads as empty. */
export async function readSegment(dir: string, number: number): Promise<SegmentContents> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(path.join(dir, segmentName(number)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return { values: [], acked: [], goodLength: 0, skippedBytes: 0 };
    throw err;
  }
  const decoded = decodeFrames(bytes);
  const values: StoredValue[] = [];
  const acked: [number, number][] = [];
  for (const body of decoded.bodies) {
    const parsed = parseBody(body);
    if (!parsed) continue;
    if ('value' in parsed) values.push(parsed.value);
    else acked.push(...parsed.acked);
  }
  return { values, acked, goodLength: decoded.goodLength, skippedBytes: decoded.skippedBytes };
}

/** Cuts a torn tail off, so the next open does not report it again. */
export async function truncateSegment(dir: string, number: number, length: number): Promise<void> {
  const handle = await fsp.open(path.join(dir, segmentName(number)), 'r+');
  try {
    await handle.truncate(length);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes a created or removed file name durable: on Linux the entry lives in the directory, which
 * needs its own fsync. Platforms that cannot open a directory for it are left to their own order.
 */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // EISDIR / EPERM on some platforms: nothing better is available there.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
