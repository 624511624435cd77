import { MAX_MESSAGE_ID_DIGITS } from './limits';

/**
 * Input checks shared by the client (reject before publishing) and the emulator (reject on arrival).
 * Each returns undefined when the input is fine, or a sentence that tells the user what to change.
 */

/**
 * Thing-model identifiers: letters, digits and underscores, at most 50 characters, after an optional
 * leading `$`, which marks OneNET's system points ("以"$"开始为系统功能点", onenet-next.md §1.1: e.g.
 * `$OneNET_LBS`, the base-station location a 4G module posts). OneNET's console enforces a rule of
 * this shape; the exact limits are not in a primary source, so this is the safe common subset:
 * anything it accepts also fits in a topic level (`$` is an ordinary character there).
 */
const IDENTIFIER = /^\$?[A-Za-z0-9_]{1,50}$/;

export function identifierError(identifier: unknown): string | undefined {
  if (typeof identifier !== 'string') return 'identifier must be a string';
  // Fits the character rule, but assigning it to an object sets the prototype: the value would vanish.
  if (identifier === '__proto__') return 'identifier "__proto__" is reserved and cannot be posted';
  if (!IDENTIFIER.test(identifier)) {
    return `identifier "${truncate(identifier)}" must be 1-50 letters, digits or underscores (after a "$" for a system point)`;
  }
  return undefined;
}

/** Product ids: old products are numeric, current ones 10 alphanumerics (§0). */
export function productIdError(productId: unknown): string | undefined {
  if (typeof productId !== 'string' || productId.length === 0) return 'product id is required';
  if (!/^[A-Za-z0-9]{1,32}$/.test(productId)) return 'product id must be letters and digits only';
  return undefined;
}

/**
 * Device names become the MQTT client id, a topic level and part of the signed `res`, so they must
 * not hold "/", "+", "#", "&", "=", "%" or spaces (§2.2, open question 8).
 */
export function deviceNameError(deviceName: unknown): string | undefined {
  if (typeof deviceName !== 'string' || deviceName.length === 0) return 'device name is required';
  if (!/^[A-Za-z0-9_.:@-]{1,64}$/.test(deviceName)) {
    return 'device name may use letters, digits and _ . : @ - only (at most 64 characters)';
  }
  return undefined;
}

export function isValidMessageId(id: unknown): id is string {
  return typeof id === 'string' && id.length <= MAX_MESSAGE_ID_DIGITS && /^\d+$/.test(id);
}

/** Deepest nesting accepted in a value; JSON this deep is a bug, not data. */
export const MAX_VALUE_DEPTH = 32;

/**
 * Checks that a value survives JSON unchanged as OneNET data: finite numbers, strings, booleans,
 * plain objects and arrays. NaN, Infinity, undefined, functions, symbols, bigints, Buffers, Dates,
 * cycles and absurd nesting are refused with the path where they were found.
 */
export function valueError(value: unknown, path: string): string | undefined {
  // Most values are single numbers, strings or booleans: no walk, so no set of ancestors either.
  if (isSimpleValue(value)) return undefined;
  return checkValue(value, path, 0, new Set());
}

/** A string, a boolean or a finite number: valid data on its own, with nothing inside to check. */
export function isSimpleValue(value: unknown): value is string | boolean | number {
  const type = typeof value;
  return type === 'string' || type === 'boolean' || (type === 'number' && Number.isFinite(value));
}

function checkValue(value: unknown, path: string, depth: number, ancestors: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${value}, which is not a finite number`;
    case 'undefined':
      return `${path} is undefined`;
    case 'function':
      return `${path} is a function`;
    case 'symbol':
    case 'bigint':
      return `${path} is a ${typeof value}, which JSON cannot carry`;
  }
  if (value === null) return `${path} is null`;
  if (depth >= MAX_VALUE_DEPTH) return `${path} is nested more than ${MAX_VALUE_DEPTH} levels deep`;
  const object = value as object;
  if (ancestors.has(object)) return `${path} refers back to itself (circular structure)`;
  if (Array.isArray(object)) {
    ancestors.add(object);
    for (let i = 0; i < object.length; i++) {
      const error = checkValue(object[i], `${path}[${i}]`, depth + 1, ancestors);
      if (error) return error;
    }
    ancestors.delete(object);
    return undefined;
  }
  if (!isPlainObject(object)) return `${path} is a ${describeType(object)}, not plain data`;
  ancestors.add(object);
  for (const [key, child] of Object.entries(object)) {
    const error = checkValue(child, `${path}.${key}`, depth + 1, ancestors);
    if (error) return error;
  }
  ancestors.delete(object);
  return undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  // Any realm's Object.prototype, not just ours: objects built in a Node-RED function node come
  // from its vm context, whose Object.prototype is a different object. Its own prototype is null.
  return proto === null || Object.getPrototypeOf(proto) === null;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Buffer.isBuffer(value)) return 'Buffer';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

/** A timestamp OneNET accepts: integer milliseconds since the epoch. */
export function timeError(time: unknown, path: string): string | undefined {
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0) {
    return `${path} must be a timestamp in milliseconds (a non-negative integer)`;
  }
  return undefined;
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
