import type { TslExtra, TslImportProblem } from './tsl-types';

/** Small readers shared by the thing-model importer (tsl-import.ts, tsl-import-data.ts). Pure. */

export type Obj = Record<string, unknown>;
export type Problems = TslImportProblem[];

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `null`, `undefined` and `""` all mean "not given" in the exports. */
export function absent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** A value as short JSON (at most 40 characters), for messages. */
export function shortJson(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(typeof value);
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

export function setKey(target: Obj, key: string, value: unknown): void {
  // defineProperty, so a key "__proto__" in the file stays data instead of changing the prototype.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Copies the keys of `source` not in `known` into `extra` (and unpacks a kept `extra` object). */
export function keepRest(source: unknown, known: readonly string[], extra: TslExtra): void {
  if (!isObj(source)) return;
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (known.includes(key) || value === undefined) continue;
    if (key === 'extra' && isObj(value)) for (const k of Object.keys(value)) setKey(extra, k, value[k]);
    else setKey(extra, key, value);
  }
}

export function withExtra<T extends object>(target: T, extra: TslExtra): T {
  if (Object.keys(extra).length > 0) (target as { extra?: TslExtra }).extra = extra;
  return target;
}

export function readNumber(value: unknown, path: string, problems: Problems): number | undefined {
  if (absent(value)) return undefined;
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number === 'number' && Number.isFinite(number)) return number;
  problems.push({ path, message: `${path} is ${shortJson(value)}, not a number: ignored` });
  return undefined;
}

export function readCount(value: unknown, path: string, problems: Problems): number | undefined {
  const number = readNumber(value, path, problems);
  if (number === undefined || (Number.isSafeInteger(number) && number >= 0)) return number;
  problems.push({ path, message: `${path} is ${number}, not a whole number ≥ 0: ignored` });
  return undefined;
}

export function readText(value: unknown, path: string, problems: Problems): string {
  if (absent(value)) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  problems.push({ path, message: `${path} is ${shortJson(value)}, not a text: ignored` });
  return '';
}

export function readList(value: unknown, path: string, problems: Problems): unknown[] {
  if (absent(value)) return [];
  if (Array.isArray(value)) return value;
  problems.push({ path, message: `${path} is ${shortJson(value)}, not a list: ignored` });
  return [];
}

/** The first of `keys` that `source` has a value for, with its key. */
export function pick(source: Obj, keys: readonly string[]): [string, unknown] {
  for (const key of keys) if (!absent(source[key])) return [key, source[key]];
  return [keys[0]!, undefined];
}
