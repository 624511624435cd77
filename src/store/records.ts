/**
 * What the journal holds. A value record is one property or event value as the flow posted it, with
 * the time it carries (its own `time`, msg.time, or when the post was accepted) and the device it
 * belongs to, so a gateway's sub-devices can share one journal; an ack record names values that need
 * not be delivered again (answered 200, refused for good, or dropped by a bound).
 */

export type StoredKind = 'property' | 'event';

export interface StoredValue {
  /** Journal-wide, increasing in the order values were stored: oldest first is ascending seq. */
  seq: number;
  /** "productId/deviceName". */
  device: string;
  kind: StoredKind;
  identifier: string;
  value: unknown;
  /** ms since the epoch. */
  time: number;
}

export type NewValue = Omit<StoredValue, 'seq'>;

/** On disk: short keys, since every value pays for them. */
interface ValueBody {
  t: 'v';
  s: number;
  d: string;
  k: 'p' | 'e';
  i: string;
  v: unknown;
  tm: number;
}

/** Inclusive seq ranges. */
interface AckBody {
  t: 'a';
  r: [number, number][];
}

export function valueBody(value: StoredValue): ValueBody {
  return {
    t: 'v',
    s: value.seq,
    d: value.device,
    k: value.kind === 'event' ? 'e' : 'p',
    i: value.identifier,
    v: value.value,
    tm: value.time,
  };
}

export function ackBody(seqs: readonly number[]): AckBody {
  const sorted = [...seqs].sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (const seq of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && seq <= last[1] + 1) last[1] = Math.max(last[1], seq);
    else ranges.push([seq, seq]);
  }
  return { t: 'a', r: ranges };
}

export type ParsedBody = { value: StoredValue } | { acked: [number, number][] } | undefined;

/** A body that passed its checksum but is not one of ours (a newer format) is ignored, not trusted. */
export function parseBody(body: unknown): ParsedBody {
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as {
    t?: unknown;
    s?: number;
    d?: unknown;
    k?: unknown;
    i?: unknown;
    v?: unknown;
    tm?: number;
    r?: unknown;
  };
  if (b.t === 'v') {
    if (
      !Number.isSafeInteger(b.s) ||
      typeof b.d !== 'string' ||
      (b.k !== 'p' && b.k !== 'e') ||
      typeof b.i !== 'string' ||
      !Number.isFinite(b.tm)
    )
      return undefined;
    return {
      value: {
        seq: b.s!,
        device: b.d,
        kind: b.k === 'e' ? 'event' : 'property',
        identifier: b.i,
        value: b.v,
        time: b.tm!,
      },
    };
  }
  if (b.t === 'a' && Array.isArray(b.r)) {
    const ranges = b.r.filter(
      (range): range is [number, number] =>
        Array.isArray(range) && Number.isSafeInteger(range[0]) && Number.isSafeInteger(range[1]),
    );
    return { acked: ranges };
  }
  return undefined;
}
