import type { TslBitMapBit, TslDataType, TslExtra, TslParam, TslTypeName } from './tsl-types';
import {
  absent,
  isObj,
  keepRest,
  pick,
  readCount,
  readList,
  readNumber,
  readText,
  setKey,
  shortJson,
  withExtra,
  type Obj,
  type Problems,
} from './tsl-import-util';

/** Data types and parameters of the thing-model importer (tsl-import.ts). Pure, never throws. */

/** Deeper than this, a data type is not read (OneNET allows one level of struct inside an array). */
const MAX_TYPE_DEPTH = 6;

const TYPE_ALIASES: Record<string, TslTypeName> = {
  int32: 'int32',
  int64: 'int64',
  int: 'int64',
  float: 'float',
  double: 'double',
  enum: 'enum',
  bool: 'bool',
  string: 'string',
  date: 'date',
  bitmap: 'bitMap',
  struct: 'struct',
  array: 'array',
};

// ---------------------------------------------------------------------------------------------
// Data types

export function importDataType(raw: unknown, path: string, problems: Problems, depth: number): TslDataType {
  if (!isObj(raw)) {
    problems.push({ path, message: `${path} is ${shortJson(raw)}, not a data type: any value is accepted` });
    return { type: 'unknown' };
  }
  const extra: TslExtra = {};
  const declared = raw.type;
  const name = typeof declared === 'string' ? TYPE_ALIASES[declared.toLowerCase()] : undefined;
  if (name === undefined || depth > MAX_TYPE_DEPTH) {
    if (declared === 'unknown')
      return withExtra({ type: 'unknown', declared: raw.declared }, keepUnknown(raw));
    problems.push({
      path: `${path}.type`,
      message:
        depth > MAX_TYPE_DEPTH
          ? `${path} is nested too deeply: any value is accepted`
          : `${path}.type ${shortJson(declared)} is not a OneNET data type: any value is accepted`,
    });
    return withExtra({ type: 'unknown', declared }, keepUnknown(raw));
  }
  // Exports put the details in `specs`; the flat (own, normalised) forms put them beside `type`.
  const hasSpecs = !absent(raw.specs) && typeof raw.specs === 'object';
  if (!hasSpecs && !absent(raw.specs))
    problems.push({
      path: `${path}.specs`,
      message: `${path}.specs is ${shortJson(raw.specs)}, not an object: ignored`,
    });
  const specs: unknown = hasSpecs ? raw.specs : raw;
  const at = hasSpecs ? `${path}.specs` : path;
  const s: Obj = isObj(specs) ? specs : {};
  const known = (keys: readonly string[]): void => {
    keepRest(raw, hasSpecs ? ['type', 'specs'] : ['type', 'specs', ...keys], extra);
    if (hasSpecs) keepRest(specs, keys, extra);
  };
  switch (name) {
    case 'int32':
    case 'int64':
    case 'float':
    case 'double': {
      known(['min', 'max', 'step', 'unit']);
      const type: TslDataType = { type: name };
      const min = readNumber(s.min, `${at}.min`, problems);
      const max = readNumber(s.max, `${at}.max`, problems);
      const step = readNumber(s.step, `${at}.step`, problems);
      const unit = readText(s.unit, `${at}.unit`, problems);
      if (min !== undefined) type.min = min;
      if (max !== undefined) type.max = max;
      if (min !== undefined && max !== undefined && min > max)
        problems.push({
          path: at,
          message: `${at}: min ${min} is above max ${max}: every value will be refused`,
        });
      if (step !== undefined) type.step = step;
      if (unit !== '') type.unit = unit;
      return withExtra(type, extra);
    }
    case 'enum': {
      const source = hasSpecs ? specs : raw.values;
      keepRest(raw, hasSpecs ? ['type', 'specs'] : ['type', 'specs', 'values'], extra);
      const values: Record<string, string> = {};
      if (isObj(source)) {
        for (const key of Object.keys(source)) {
          if (/^-?\d+$/.test(key))
            setKey(values, String(Number(key)), readText(source[key], `${at}.${key}`, problems));
          else
            problems.push({
              path: `${at}.${key}`,
              message: `enum key ${shortJson(key)} is not an integer: ignored`,
            });
        }
      }
      if (Object.keys(values).length === 0)
        problems.push({ path: at, message: `${at}: the enum has no values: every value will be refused` });
      return withExtra({ type: 'enum', values }, extra);
    }
    case 'bool': {
      const source = hasSpecs ? specs : raw.labels;
      known(['labels']);
      const labels: { true?: string; false?: string } = {};
      if (isObj(source)) {
        for (const [key, flag] of [
          ['true', 'true'],
          ['1', 'true'],
          ['false', 'false'],
          ['0', 'false'],
        ] as const) {
          if (!absent(source[key]) && labels[flag] === undefined)
            labels[flag] = readText(source[key], `${at}.${key}`, problems);
        }
        if (hasSpecs) for (const key of ['true', 'false', '0', '1']) delete extra[key];
      }
      return withExtra({ type: 'bool', labels }, extra);
    }
    case 'string': {
      known(['length', 'maxLength']);
      const [key, value] = pick(s, ['length', 'maxLength']);
      const length = readCount(value, `${at}.${key}`, problems);
      return withExtra(length === undefined ? { type: 'string' } : { type: 'string', length }, extra);
    }
    case 'date':
      known([]);
      return withExtra({ type: 'date' }, extra);
    case 'bitMap': {
      known(['length', 'define', 'bits']);
      const [key, list] = pick(s, ['define', 'bits']);
      const bits = importBits(readList(list, `${at}.${key}`, problems), `${at}.${key}`, problems);
      let length = readCount(s.length, `${at}.length`, problems);
      if (length === undefined) length = bits.length > 0 ? Math.max(...bits.map((b) => b.bit)) + 1 : 32;
      if (length < 1 || length > 32) {
        problems.push({
          path: `${at}.length`,
          message: `${at}.length ${length} is outside 1-32: 32 is used`,
        });
        length = 32;
      }
      return withExtra({ type: 'bitMap', length, bits }, extra);
    }
    case 'struct': {
      const [key, list] = hasSpecs ? ['', specs] : pick(raw, ['members', 'fields']);
      keepRest(raw, hasSpecs ? ['type', 'specs'] : ['type', 'specs', 'members', 'fields'], extra);
      const listPath = hasSpecs ? at : `${path}.${key}`;
      const members = importParams(readList(list, listPath, problems), listPath, problems, depth + 1);
      return withExtra({ type: 'struct', members }, extra);
    }
    case 'array': {
      let item: unknown;
      let itemPath: string;
      if (hasSpecs) {
        const [key, value] = pick(s, ['item', 'items']);
        item = absent(value) && !absent(s.type) ? { type: s.type, specs: s.specs } : value;
        itemPath = absent(value) && !absent(s.type) ? at : `${at}.${key}`;
        keepRest(raw, ['type', 'specs'], extra);
        keepRest(specs, ['length', 'size', 'item', 'items', 'type', 'specs'], extra);
      } else {
        item = raw.item;
        itemPath = `${path}.item`;
        keepRest(raw, ['type', 'specs', 'item', 'length', 'maxLength', 'size'], extra);
      }
      const [key, value] = pick(s, ['length', 'size', 'maxLength']);
      const length = readCount(value, `${at}.${key}`, problems);
      const type: TslDataType = { type: 'array', item: importDataType(item, itemPath, problems, depth + 1) };
      if (length !== undefined) type.length = length;
      return withExtra(type, extra);
    }
  }
}

function keepUnknown(raw: Obj): TslExtra {
  const extra: TslExtra = {};
  keepRest(raw, ['type', 'declared'], extra);
  return extra;
}

function importBits(list: unknown[], path: string, problems: Problems): TslBitMapBit[] {
  const bits: TslBitMapBit[] = [];
  list.forEach((entry, i) => {
    const at = `${path}[${i}]`;
    const bit = isObj(entry) ? readCount(entry.bit, `${at}.bit`, problems) : undefined;
    if (!isObj(entry) || bit === undefined) {
      problems.push({ path: at, message: `${at} is not a bit definition {bit, "0", "1"}: ignored` });
      return;
    }
    const labels: Record<string, string> = {};
    const source = isObj(entry.labels) ? entry.labels : entry;
    for (const key of ['0', '1'])
      if (!absent(source[key])) labels[key] = readText(source[key], `${at}.${key}`, problems);
    bits.push({ bit, labels });
  });
  return bits;
}

// ---------------------------------------------------------------------------------------------
// Parameters and function points

export function readIdentifier(
  entry: unknown,
  path: string,
  problems: Problems,
  seen: Set<string>,
): string | undefined {
  const identifier = isObj(entry) ? entry.identifier : undefined;
  if (typeof identifier !== 'string' || identifier === '' || identifier === '__proto__') {
    const what = isObj(entry)
      ? `its identifier ${shortJson(identifier)} is not usable`
      : `it is ${shortJson(entry)}`;
    problems.push({ path, message: `${path} was skipped: ${what}` });
    return undefined;
  }
  if (seen.has(identifier)) {
    problems.push({
      path,
      message: `${path} was skipped: "${identifier}" appears twice (the first is kept)`,
    });
    return undefined;
  }
  seen.add(identifier);
  return identifier;
}

export function importParams(list: unknown[], path: string, problems: Problems, depth: number): TslParam[] {
  const seen = new Set<string>();
  const params: TslParam[] = [];
  list.forEach((entry, i) => {
    const at = `${path}[${i}]`;
    const identifier = readIdentifier(entry, at, problems, seen);
    if (identifier === undefined || !isObj(entry)) return;
    const extra: TslExtra = {};
    keepRest(entry, ['identifier', 'name', 'dataType'], extra);
    const param: TslParam = {
      identifier,
      name: readText(entry.name, `${at}.name`, problems),
      dataType: importDataType(entry.dataType, `${at}.dataType`, problems, depth),
    };
    params.push(withExtra(param, extra));
  });
  return params;
}
