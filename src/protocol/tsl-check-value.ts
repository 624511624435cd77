import { shortJson } from './tsl-import';
import {
  DEFAULT_RULE_CODES,
  type ModelRule,
  type ModelViolation,
  type TslDataType,
  type TslEvent,
  type TslModel,
  type TslParam,
  type TslProperty,
  type TslService,
} from './tsl-types';

/** Value checks of one data type; the rules are described in tsl-check.ts. Pure. */

interface ModelIndex {
  properties: Map<string, TslProperty>;
  events: Map<string, TslEvent>;
  services: Map<string, TslService>;
}

const indexes = new WeakMap<TslModel, ModelIndex>();
const memberIndexes = new WeakMap<readonly TslParam[], Map<string, TslParam>>();

function byIdentifier<T extends { identifier: string }>(list: readonly T[] | undefined): Map<string, T> {
  const map = new Map<string, T>();
  for (const entry of list ?? []) if (!map.has(entry.identifier)) map.set(entry.identifier, entry);
  return map;
}

/** The lookup maps of a model, built once per model object (the model must not change afterwards). */
export function indexOf(model: TslModel): ModelIndex {
  let index = indexes.get(model);
  if (!index) {
    index = {
      properties: byIdentifier(model.properties),
      events: byIdentifier(model.events),
      services: byIdentifier(model.services),
    };
    indexes.set(model, index);
  }
  return index;
}

function membersOf(list: readonly TslParam[]): Map<string, TslParam> {
  let map = memberIndexes.get(list);
  if (!map) {
    map = byIdentifier(list);
    memberIndexes.set(list, map);
  }
  return map;
}

export type Out = ModelViolation[];

export function push(
  out: Out,
  identifier: string,
  path: string,
  value: unknown,
  rule: ModelRule,
  text: string,
  limit?: number | string,
): void {
  const shown = shortJson(value);
  const violation: ModelViolation = {
    identifier,
    path,
    value: shown,
    rule,
    code: DEFAULT_RULE_CODES[rule],
    message: `${path}: ${shown} ${text}`,
  };
  if (limit !== undefined) violation.limit = limit;
  out.push(violation);
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_LIMIT = 2 ** 63;
const FLOAT_MAX = 3.4028234663852886e38;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumericString(value: unknown): boolean {
  return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value));
}

/** Checks one value against its data type, adding violations to `out`. */
export function checkModelValue(
  dataType: TslDataType,
  value: unknown,
  identifier: string,
  path: string,
  out: Out,
): void {
  const type = dataType.type;
  switch (type) {
    case 'int32':
    case 'int64':
    case 'float':
    case 'double':
    case 'enum':
    case 'bitMap':
    case 'date': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        if (isNumericString(value)) {
          push(
            out,
            identifier,
            path,
            value,
            'numeric-string',
            `is a text: ${type} needs a JSON number, convert it first (e.g. Number(value))`,
            type,
          );
        } else push(out, identifier, path, value, 'type', `is not a number (${type})`, type);
        return;
      }
      if (type === 'float' || type === 'double') {
        if (type === 'float' && Math.abs(value) > FLOAT_MAX)
          return push(
            out,
            identifier,
            path,
            value,
            'float-range',
            `is beyond the float range ±${FLOAT_MAX}`,
            FLOAT_MAX,
          );
      } else if (!Number.isInteger(value)) {
        return push(out, identifier, path, value, 'integer', `is not an integer (${type})`, type);
      }
      if (type === 'int32' && (value < INT32_MIN || value > INT32_MAX))
        return push(
          out,
          identifier,
          path,
          value,
          'int32-range',
          `is outside the int32 range ${INT32_MIN}..${INT32_MAX}`,
        );
      if ((type === 'int64' || type === 'date') && (value < -INT64_LIMIT || value >= INT64_LIMIT))
        return push(out, identifier, path, value, 'int64-range', 'is outside the int64 range');
      if (type === 'enum') {
        if (!Object.prototype.hasOwnProperty.call(dataType.values, String(value))) {
          const keys = Object.keys(dataType.values).join(', ');
          push(out, identifier, path, value, 'enum', `is not one of the enum values ${keys}`, keys);
        }
        return;
      }
      if (type === 'bitMap') {
        if (value < 0 || value >= 2 ** dataType.length)
          push(
            out,
            identifier,
            path,
            value,
            'bitmap-width',
            `does not fit ${dataType.length} bits`,
            dataType.length,
          );
        return;
      }
      if (type === 'date') return;
      if (dataType.min !== undefined && value < dataType.min)
        return push(
          out,
          identifier,
          path,
          value,
          'min',
          `is below the minimum ${dataType.min}`,
          dataType.min,
        );
      if (dataType.max !== undefined && value > dataType.max)
        push(out, identifier, path, value, 'max', `is above the maximum ${dataType.max}`, dataType.max);
      return;
    }
    case 'bool':
      if (typeof value !== 'boolean')
        push(out, identifier, path, value, 'type', 'is not true or false (bool)', 'bool');
      return;
    case 'string': {
      if (typeof value !== 'string')
        return push(out, identifier, path, value, 'type', 'is not a text (string)', 'string');
      const limit = dataType.length;
      // Code points ≤ UTF-16 units: counted only when the quick count is over.
      if (limit !== undefined && value.length > limit) {
        const count = [...value].length;
        if (count > limit)
          push(
            out,
            identifier,
            path,
            value,
            'string-length',
            `is ${count} characters, more than ${limit}`,
            limit,
          );
      }
      return;
    }
    case 'struct':
      return checkMembers(dataType.members, value, identifier, path, out);
    case 'array': {
      if (!Array.isArray(value))
        return push(out, identifier, path, value, 'type', 'is not an array', 'array');
      if (dataType.length !== undefined && value.length > dataType.length) {
        push(
          out,
          identifier,
          path,
          value,
          'array-length',
          `has ${value.length} elements, more than ${dataType.length}`,
          dataType.length,
        );
      }
      const before = out.length;
      for (let i = 0; i < value.length && out.length === before; i++) {
        checkModelValue(dataType.item, value[i], identifier, `${path}[${i}]`, out);
      }
      return;
    }
    case 'unknown':
      return;
  }
}

/** An object of declared members (a struct value, an event's output, a service's input or output). */
export function checkMembers(
  members: readonly TslParam[],
  value: unknown,
  identifier: string,
  path: string,
  out: Out,
): void {
  if (!isObject(value)) return push(out, identifier, path, value, 'type', 'is not an object', 'struct');
  const index = membersOf(members);
  for (const key of Object.keys(value)) {
    const member = index.get(key);
    const at = `${path}.${key}`;
    if (!member)
      push(
        out,
        identifier,
        at,
        value[key],
        'unknown-member',
        `is given for "${key}", which is not a member`,
        [...index.keys()].join(', '),
      );
    else checkModelValue(member.dataType, value[key], identifier, at, out);
  }
}
