import { shown } from './shown';

/**
 * The token's `et`: unix seconds (onenet-protocol.md §2.2). The user gives a date, a date-time with
 * its zone, unix seconds, or a lifetime from now; this turns each into `et` or says what is wrong.
 */

/** The last second of year 9999: any `et` beyond it was almost certainly given in milliseconds. */
export const MAX_ET = Date.UTC(9999, 11, 31, 23, 59, 59) / 1000;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?$/i;
const FORMS = 'use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] with Z or +08:00, or unix seconds';

function utcSeconds(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined {
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(ms);
  // Date.UTC rolls 2030-02-30 over to March 2; a round trip that changes a field means the date does not exist.
  const same =
    back.getUTCFullYear() === year &&
    back.getUTCMonth() === month - 1 &&
    back.getUTCDate() === day &&
    back.getUTCHours() === hour &&
    back.getUTCMinutes() === minute &&
    back.getUTCSeconds() === second;
  return same ? ms / 1000 : undefined;
}

function zoneOffsetSeconds(zone: string): number | undefined {
  if (zone.toUpperCase() === 'Z') return 0;
  const match = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
  const hours = Number(match[2]);
  const minutes = Number(match[3]);
  if (hours > 23 || minutes > 59) return undefined;
  return (match[1] === '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
}

function inRange(et: number, text: string): Parsed<number> {
  if (et < 1) return { ok: false, reason: `bad date ${shown(text)}: it is not after 1970-01-01` };
  if (et > MAX_ET) {
    return {
      ok: false,
      reason: `bad date ${shown(text)}: after year 9999 (et is in seconds, not milliseconds)`,
    };
  }
  return { ok: true, value: et };
}

/** Parses `--expires`: a bare date is midnight UTC; a date-time must name its zone, so it means one instant. */
export function parseExpires(text: string): Parsed<number> {
  if (/^\d{1,20}$/.test(text)) return inRange(Number(text), text);
  const date = DATE.exec(text);
  if (date) {
    const et = utcSeconds(Number(date[1]), Number(date[2]), Number(date[3]), 0, 0, 0);
    return et === undefined
      ? { ok: false, reason: `bad date ${shown(text)}: no such day` }
      : inRange(et, text);
  }
  const dateTime = DATE_TIME.exec(text);
  if (!dateTime) return { ok: false, reason: `bad date ${shown(text)}: ${FORMS}` };
  const [, year, month, day, hour, minute, second, zone] = dateTime;
  if (zone === undefined) {
    return { ok: false, reason: `bad date ${shown(text)}: add the time zone, such as Z or +08:00` };
  }
  const local = utcSeconds(
    Number(year),
    Number(month),
    Number(day),
    Number(hour),
    Number(minute),
    Number(second ?? 0),
  );
  const offset = zoneOffsetSeconds(zone);
  if (local === undefined || offset === undefined) {
    return { ok: false, reason: `bad date ${shown(text)}: no such day, time or zone` };
  }
  return inRange(local - offset, text);
}

/** Parses `--ttl`: a positive whole number of seconds. */
export function parseTtl(text: string): Parsed<number> {
  if (!/^\d{1,20}$/.test(text) || Number(text) < 1 || Number(text) > MAX_ET) {
    return { ok: false, reason: `--ttl needs a positive whole number of seconds, not ${shown(text)}` };
  }
  return { ok: true, value: Number(text) };
}

/** The `et` a lifetime gives when the clock reads `nowSeconds`. */
export function etAfter(nowSeconds: number, ttlSeconds: number): Parsed<number> {
  const et = nowSeconds + ttlSeconds;
  return et > MAX_ET
    ? { ok: false, reason: `--ttl ${ttlSeconds} ends after year 9999` }
    : { ok: true, value: et };
}

/** `et` as an unambiguous instant, e.g. 2998-12-31T16:00:00Z. */
export function formatEt(et: number): string {
  return new Date(et * 1000).toISOString().replace('.000Z', 'Z');
}
