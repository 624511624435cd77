import { describeType, identifierError, isPlainObject } from './validation';

/**
 * A product's thing model (物模型): properties, events and services with typed parameters
 * (shared/onenet-protocol.md §3, §3.1). Pure data and checks, so the emulator can refuse what OneNET
 * refuses ("上传数据时标识符与数据类型需匹配", §3.1 item 1) and a client could check before sending.
 *
 * Codes follow §3.2: 309 "identifier not exist" for an unknown top-level identifier, 302 "data type
 * error" for a value that does not fit its declared type (including unknown struct fields).
 *
 * Superseded for loading and checking: the emulator now reads every model through importThingModel
 * (tsl-import.ts), which reads this format too (`int` as int64) besides the OneNET console's
 * exports, and checks with tsl-check.ts. The types here remain the emulator's documented own format
 * (ThingModel in its API and devices files); the functions remain for their existing callers.
 */

export type NumberTypeName = 'int' | 'float' | 'double';

export type ThingDataType =
  | { type: NumberTypeName; min?: number; max?: number; unit?: string }
  | { type: 'bool' }
  /** `values` maps each allowed integer (as a string key, as JSON has it) to its description. */
  | { type: 'enum'; values: Record<string, string> }
  | { type: 'string'; maxLength?: number }
  /** A UTC timestamp in milliseconds, as a number or a numeric string. */
  | { type: 'date' }
  | { type: 'struct'; fields: ThingParam[] }
  /** `maxLength` bounds the element count; `item` is the element type. */
  | { type: 'array'; item: ThingDataType; maxLength?: number };

export type ThingTypeName = ThingDataType['type'];
export const THING_TYPE_NAMES: readonly ThingTypeName[] = [
  'int',
  'float',
  'double',
  'bool',
  'enum',
  'string',
  'date',
  'struct',
  'array',
];

export interface ThingParam {
  identifier: string;
  name?: string;
  dataType: ThingDataType;
}

export interface ThingProperty extends ThingParam {
  /** `r`: the device reports it, the platform cannot set it. Default `rw`. */
  accessMode?: 'r' | 'rw';
}

export interface ThingEvent {
  identifier: string;
  name?: string;
  outputs: ThingParam[];
}

export interface ThingService {
  identifier: string;
  name?: string;
  inputs: ThingParam[];
  outputs: ThingParam[];
}

export interface ThingModel {
  properties?: ThingProperty[];
  events?: ThingEvent[];
  services?: ThingService[];
}

export interface ThingModelViolation {
  code: 302 | 309 | 313;
  reason: string;
}

// ---------------------------------------------------------------------------------------------
// Values

/** Checks one value against its declared type; returns a sentence naming `path`, or undefined. */
export function dataTypeError(dataType: ThingDataType, value: unknown, path: string): string | undefined {
  switch (dataType.type) {
    case 'int':
    case 'float':
    case 'double': {
      if (typeof value !== 'number' || !Number.isFinite(value))
        return `${path} must be a number (${dataType.type}), not ${describeType(value)}`;
      if (dataType.type === 'int' && !Number.isSafeInteger(value))
        return `${path} must be an integer, not ${value}`;
      if (dataType.min !== undefined && value < dataType.min)
        return `${path} is ${value}, below the minimum ${dataType.min}`;
      if (dataType.max !== undefined && value > dataType.max)
        return `${path} is ${value}, above the maximum ${dataType.max}`;
      return undefined;
    }
    case 'bool':
      return typeof value === 'boolean'
        ? undefined
        : `${path} must be true or false, not ${describeType(value)}`;
    case 'enum':
      if (typeof value !== 'number' || !Number.isSafeInteger(value))
        return `${path} must be an enum integer, not ${describeType(value)}`;
      return Object.prototype.hasOwnProperty.call(dataType.values, String(value))
        ? undefined
        : `${path} is ${value}, not one of ${Object.keys(dataType.values).join(', ')}`;
    case 'string':
      if (typeof value !== 'string') return `${path} must be a string, not ${describeType(value)}`;
      if (dataType.maxLength !== undefined && value.length > dataType.maxLength) {
        return `${path} is ${value.length} characters, longer than ${dataType.maxLength}`;
      }
      return undefined;
    case 'date':
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return undefined;
      if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return undefined;
      return `${path} must be a timestamp in milliseconds, not ${describeType(value)}`;
    case 'struct':
      return structError(dataType.fields, value, path);
    case 'array': {
      if (!Array.isArray(value)) return `${path} must be an array, not ${describeType(value)}`;
      if (dataType.maxLength !== undefined && value.length > dataType.maxLength) {
        return `${path} has ${value.length} elements, more than ${dataType.maxLength}`;
      }
      for (let i = 0; i < value.length; i++) {
        const error = dataTypeError(dataType.item, value[i], `${path}[${i}]`);
        if (error) return error;
      }
      return undefined;
    }
  }
}

/** An object whose keys must all be declared fields; missing fields are allowed (partial data). */
function structError(fields: readonly ThingParam[], value: unknown, path: string): string | undefined {
  if (!isPlainObject(value)) return `${path} must be an object, not ${describeType(value)}`;
  for (const [key, child] of Object.entries(value)) {
    const field = fields.find((candidate) => candidate.identifier === key);
    if (!field) return `${path}.${key} is not a declared field`;
    const error = dataTypeError(field.dataType, child, `${path}.${key}`);
    if (error) return error;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Messages against a model

function findByIdentifier<T extends { identifier: string }>(
  list: readonly T[] | undefined,
  identifier: string,
): T | undefined {
  return list?.find((entry) => entry.identifier === identifier);
}

function notExist(what: string, identifier: string): ThingModelViolation {
  return { code: 309, reason: `${what} "${identifier}" is not in the thing model` };
}

function typeError(reason: string | undefined): ThingModelViolation | undefined {
  return reason === undefined ? undefined : { code: 302, reason };
}

/** property/post params `{identifier: {value, time?}}` (§3.1 item 1). */
export function checkPropertyPost(
  model: ThingModel,
  params: Record<string, { value: unknown }>,
): ThingModelViolation | undefined {
  for (const [identifier, entry] of Object.entries(params)) {
    const property = findByIdentifier(model.properties, identifier);
    if (!property) return notExist('property', identifier);
    const error = typeError(dataTypeError(property.dataType, entry.value, `params.${identifier}.value`));
    if (error) return error;
  }
  return undefined;
}

/** event/post params `{event: {value: {output: v}, time?}}` (§3.1 item 6). */
export function checkEventPost(
  model: ThingModel,
  params: Record<string, { value: unknown }>,
): ThingModelViolation | undefined {
  for (const [identifier, entry] of Object.entries(params)) {
    const event = findByIdentifier(model.events, identifier);
    if (!event) return notExist('event', identifier);
    const error = typeError(structError(event.outputs, entry.value, `params.${identifier}.value`));
    if (error) return error;
  }
  return undefined;
}

/** property/set params `{identifier: value}` (§3.1 item 2); read-only properties cannot be set. */
export function checkPropertySet(
  model: ThingModel,
  params: Record<string, unknown>,
): ThingModelViolation | undefined {
  for (const [identifier, value] of Object.entries(params)) {
    const property = findByIdentifier(model.properties, identifier);
    if (!property) return notExist('property', identifier);
    if (property.accessMode === 'r') return { code: 313, reason: `property "${identifier}" is read-only` };
    const error = typeError(dataTypeError(property.dataType, value, `params.${identifier}`));
    if (error) return error;
  }
  return undefined;
}

/** property/get params: identifiers (§3.1 item 3). */
export function checkPropertyGet(
  model: ThingModel,
  identifiers: readonly string[],
): ThingModelViolation | undefined {
  for (const identifier of identifiers) {
    if (!findByIdentifier(model.properties, identifier)) return notExist('property', identifier);
  }
  return undefined;
}

/** service/{identifier}/invoke input (§3.1 item 7). */
export function checkServiceInvoke(
  model: ThingModel,
  identifier: string,
  input: Record<string, unknown>,
): ThingModelViolation | undefined {
  const service = findByIdentifier(model.services, identifier);
  if (!service) return notExist('service', identifier);
  return typeError(structError(service.inputs, input, 'params'));
}

// ---------------------------------------------------------------------------------------------
// Loading a model from JSON

/**
 * Reads a thing model from parsed JSON (a devices file, a config object), checking its shape so a
 * typo fails at load time with the path to it rather than as a puzzling 302 later. Throws Error.
 */
export function parseThingModel(json: unknown, path = 'thingModel'): ThingModel {
  if (!isPlainObject(json)) throw new Error(`${path} must be an object with properties, events and services`);
  const model: ThingModel = {};
  if (json.properties !== undefined) {
    model.properties = listOf(json.properties, `${path}.properties`).map((entry, i) => {
      const at = `${path}.properties[${i}]`;
      const property: ThingProperty = parseParam(entry, at);
      const accessMode = (entry as Record<string, unknown>).accessMode;
      if (accessMode !== undefined) {
        if (accessMode !== 'r' && accessMode !== 'rw')
          throw new Error(`${at}.accessMode must be "r" or "rw"`);
        property.accessMode = accessMode;
      }
      return property;
    });
  }
  if (json.events !== undefined) {
    model.events = listOf(json.events, `${path}.events`).map((entry, i) => {
      const at = `${path}.events[${i}]`;
      const base = parseNamed(entry, at);
      return { ...base, outputs: parseParams(entry.outputs, `${at}.outputs`) };
    });
  }
  if (json.services !== undefined) {
    model.services = listOf(json.services, `${path}.services`).map((entry, i) => {
      const at = `${path}.services[${i}]`;
      const base = parseNamed(entry, at);
      return {
        ...base,
        inputs: parseParams(entry.inputs, `${at}.inputs`),
        outputs: parseParams(entry.outputs, `${at}.outputs`),
      };
    });
  }
  return model;
}

function listOf(value: unknown, path: string): Array<Record<string, unknown>> {
  if (!Array.isArray(value)) throw new Error(`${path} must be an array`);
  value.forEach((entry, i) => {
    if (!isPlainObject(entry)) throw new Error(`${path}[${i}] must be an object`);
  });
  return value as Array<Record<string, unknown>>;
}

function parseNamed(entry: Record<string, unknown>, path: string): { identifier: string; name?: string } {
  const error = identifierError(entry.identifier);
  if (error) throw new Error(`${path}.identifier: ${error}`);
  if (entry.name !== undefined && typeof entry.name !== 'string')
    throw new Error(`${path}.name must be a string`);
  const named: { identifier: string; name?: string } = { identifier: entry.identifier as string };
  if (entry.name !== undefined) named.name = entry.name as string;
  return named;
}

function parseParams(value: unknown, path: string): ThingParam[] {
  if (value === undefined) return [];
  return listOf(value, path).map((entry, i) => parseParam(entry, `${path}[${i}]`));
}

function parseParam(entry: Record<string, unknown>, path: string): ThingParam {
  return { ...parseNamed(entry, path), dataType: parseDataType(entry.dataType, `${path}.dataType`) };
}

function optionalNumber(value: unknown, path: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${path} must be a number`);
  return value;
}

function parseDataType(value: unknown, path: string): ThingDataType {
  if (!isPlainObject(value)) throw new Error(`${path} must be an object like {"type": "int"}`);
  const type = value.type;
  switch (type) {
    case 'int':
    case 'float':
    case 'double': {
      const numeric: ThingDataType = { type };
      const min = optionalNumber(value.min, `${path}.min`);
      const max = optionalNumber(value.max, `${path}.max`);
      if (min !== undefined) numeric.min = min;
      if (max !== undefined) numeric.max = max;
      if (typeof value.unit === 'string') numeric.unit = value.unit;
      return numeric;
    }
    case 'bool':
    case 'date':
      return { type };
    case 'enum': {
      if (!isPlainObject(value.values) || Object.keys(value.values).length === 0) {
        throw new Error(`${path}.values must be an object like {"0": "off", "1": "on"}`);
      }
      for (const key of Object.keys(value.values)) {
        if (!/^-?\d+$/.test(key)) throw new Error(`${path}.values key "${key}" must be an integer`);
      }
      return {
        type,
        values: Object.fromEntries(Object.entries(value.values).map(([k, v]) => [k, String(v)])),
      };
    }
    case 'string': {
      const maxLength = optionalNumber(value.maxLength, `${path}.maxLength`);
      return maxLength === undefined ? { type } : { type, maxLength };
    }
    case 'struct':
      return { type, fields: parseParams(value.fields ?? [], `${path}.fields`) };
    case 'array': {
      const maxLength = optionalNumber(value.maxLength, `${path}.maxLength`);
      const item = parseDataType(value.item, `${path}.item`);
      return maxLength === undefined ? { type, item } : { type, item, maxLength };
    }
    default:
      throw new Error(
        `${path}.type must be one of ${THING_TYPE_NAMES.join(', ')}, not ${JSON.stringify(type)}`,
      );
  }
}
