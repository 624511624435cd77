/**
 * The emulator's own thing-model format (物模型): properties, events and services with typed
 * parameters (shared/onenet-protocol.md §3, §3.1), as its API and devices files accept it beside
 * the OneNET console's exports. Types only: every model is read by importThingModel (tsl-import.ts,
 * `int` read as int64) and checked by tsl-check.ts.
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
