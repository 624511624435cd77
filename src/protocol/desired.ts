import { parsePropertyGet, parseRequest, type ParseResult, type ThingRequest } from './messages';
import { describeType, identifierError, isPlainObject } from './validation';

/**
 * Desired values (期望值, shared/onenet-protocol.md §3.1 items 4–5, onenet-next.md §Q4): the device
 * asks for them with `thing/property/desired/get` (params: identifiers) and clears them with
 * `thing/property/desired/delete` (params: `{identifier: {version?}}`). The get reply's data is
 * `{identifier: {value, version}}`, omitting properties with no desired value; a version starts at 1,
 * grows by one per set and starts again at 1 after a delete. A delete with a version clears the value
 * only while that version is still the latest; one without a version clears it whatever it is.
 */

/** A desired value as the get reply carries it. */
export interface DesiredEntry {
  value: unknown;
  version: number;
}

export type DesiredGetParams = string[];
/** `{}` for an identifier: clear whatever version is there. */
export type DesiredDeleteParams = Record<string, { version?: number }>;

/**
 * Identifiers per desired get. OneNET documents no limit (onenet-next.md §Q4.2 UNCONFIRMED); 100
 * is the most points per device OneNET documents for one message anywhere (pack/post, §3.1 item 8),
 * so a model with more read-write properties is asked in several messages.
 */
export const DEFAULT_DESIRED_PER_MESSAGE = 100;

/** The values and versions a desired get reply's data holds, and what in it could not be read. */
export interface DesiredValues {
  values: Record<string, unknown>;
  versions: Record<string, number>;
  /** Entries skipped, each a sentence naming the identifier. */
  problems: string[];
}

function isVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

/**
 * Reads a desired get reply's data. A version may come as a number or as its decimal text (the
 * application API writes `"version": "2"` in one place, onenet-next.md §Q4.1); either becomes a number.
 * Never throws: an entry it cannot read is listed in `problems` and left out.
 */
export function readDesiredValues(data: unknown): DesiredValues {
  const result: DesiredValues = { values: {}, versions: {}, problems: [] };
  if (data === undefined || data === null) return result;
  if (!isPlainObject(data)) {
    result.problems.push(
      `desired values must be an object of {identifier: {value, version}}, not ${describeType(data)}`,
    );
    return result;
  }
  for (const [identifier, entry] of Object.entries(data)) {
    const idProblem = identifierError(identifier);
    if (idProblem) {
      result.problems.push(idProblem);
      continue;
    }
    if (!isPlainObject(entry) || !('value' in entry)) {
      result.problems.push(`desired value of "${identifier}" is not {value, version}`);
      continue;
    }
    const raw = entry.version;
    const version = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : raw;
    if (!isVersion(version)) {
      result.problems.push(`desired value of "${identifier}" has no version (a whole number from 1)`);
      continue;
    }
    result.values[identifier] = entry.value;
    result.versions[identifier] = version;
  }
  return result;
}

/** Desired get params: the identifiers, each checked. Throws an Error naming the first bad one. */
export function toDesiredGetParams(identifiers: readonly string[]): DesiredGetParams {
  if (identifiers.length === 0) throw new Error('a desired get needs at least one identifier');
  for (const identifier of identifiers) {
    const problem = identifierError(identifier);
    if (problem) throw new Error(problem);
  }
  return [...identifiers];
}

/**
 * Desired delete params clearing exactly the given versions (`undefined`: whatever version is
 * there). Throws an Error naming what is wrong: no identifier, a bad identifier or a bad version.
 */
export function toDesiredDeleteParams(versions: Record<string, number | undefined>): DesiredDeleteParams {
  if (!isPlainObject(versions))
    throw new Error(`desired versions must be an object, not ${describeType(versions)}`);
  const identifiers = Object.keys(versions);
  if (identifiers.length === 0) throw new Error('a desired delete needs at least one identifier');
  const params: DesiredDeleteParams = {};
  for (const identifier of identifiers) {
    const problem = identifierError(identifier);
    if (problem) throw new Error(problem);
    const version = versions[identifier];
    if (version === undefined) params[identifier] = {};
    else if (isVersion(version)) params[identifier] = { version };
    else
      throw new Error(
        `the desired version of "${identifier}" must be a whole number from 1, not ${String(version)}`,
      );
  }
  return params;
}

/** The platform side of desired/get: the params are identifiers, as property/get has them. */
export function parseDesiredGet(payload: Buffer | string): ParseResult<ThingRequest<DesiredGetParams>> {
  return parsePropertyGet(payload);
}

/** The platform side of desired/delete: `{identifier: {}}` or `{identifier: {version: n}}`. */
export function parseDesiredDelete(payload: Buffer | string): ParseResult<ThingRequest<DesiredDeleteParams>> {
  return parseRequest(payload, (params) => {
    if (!isPlainObject(params))
      return { ok: false, code: 301, reason: `"params" must be an object, got ${describeType(params)}` };
    if (Object.keys(params).length === 0) return { ok: false, code: 301, reason: '"params" is empty' };
    for (const [identifier, entry] of Object.entries(params)) {
      const problem = identifierError(identifier);
      if (problem) return { ok: false, code: 309, reason: problem };
      if (!isPlainObject(entry))
        return { ok: false, code: 301, reason: `params.${identifier} must be {} or {"version": n}` };
      if (entry.version !== undefined && !isVersion(entry.version))
        return {
          ok: false,
          code: 302,
          reason: `params.${identifier}.version must be a whole number from 1`,
        };
    }
    return { ok: true, params: params as DesiredDeleteParams };
  });
}

/** `list` in pieces of at most `size` (at least one piece per item, none when empty). */
export function inPieces<T>(list: readonly T[], size: number): T[][] {
  const pieces: T[][] = [];
  for (let start = 0; start < list.length; start += size) pieces.push(list.slice(start, start + size));
  return pieces;
}
