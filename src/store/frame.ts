import { crc32 } from './crc32';

/**
 * The journal's on-disk record framing: [u32 length][u32 CRC-32 of the body][body], big-endian,
 * the body being one JSON document. A crash can only tear the tail of the file being appended; a
 * frame whose length runs past the end of the file or whose checksum does not match ends the
 * readable part of that file, so a torn or garbage tail is never replayed as data.
 */

export const FRAME_HEADER_BYTES = 8;
/** Far above any record (a value is at most 256 KB on the wire); a larger length is garbage. */
export const MAX_BODY_BYTES = 1024 * 1024;

export function encodeFrame(body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + json.length);
  frame.writeUInt32BE(json.length, 0);
  frame.writeUInt32BE(crc32(json), 4);
  json.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export interface DecodedFrames {
  bodies: unknown[];
  /** Bytes from the start that hold whole, valid frames. */
  goodLength: number;
  /** Bytes after goodLength that were not readable (a torn or corrupted tail). */
  skippedBytes: number;
}

export function decodeFrames(bytes: Buffer): DecodedFrames {
  const bodies: unknown[] = [];
  let offset = 0;
  while (offset + FRAME_HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const end = offset + FRAME_HEADER_BYTES + length;
    if (length === 0 || length > MAX_BODY_BYTES || end > bytes.length) break;
    if (crc32(bytes, offset + FRAME_HEADER_BYTES, end) !== bytes.readUInt32BE(offset + 4)) break;
    let body: unknown;
    try {
      body = JSON.parse(bytes.toString('utf8', offset + FRAME_HEADER_BYTES, end));
    } catch {
      break; // a checksum collision on garbage: as unreadable as a bad checksum
    }
    bodies.push(body);
    offset = end;
  }
  return { bodies, goodLength: offset, skippedBytes: bytes.length - offset };
}
