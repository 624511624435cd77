/**
 * The normalised thing model (物模型, "TSL") that `importThingModel` (tsl-import.ts) builds from the
 * OneNET console's export JSON, and the violations the checks of tsl-check.ts report. Pure data: no
 * class instances, no Maps, so a model can be stored as JSON in a config node and imported again
 * (importing a normalised model gives the same model back).
 *
 * Facts: shared/onenet-next.md §1.1 (fields), §1.2 (both export generations), §1.3 (key variants),
 * §1.4 (specs per data type and the wire value).
 */

/** The data types of onenet-next.md §1.1; `unknown` stands for a type the importer did not understand. */
export type TslTypeName =
  | 'int32'
  | 'int64'
  | 'float'
  | 'double'
  | 'enum'
  | 'bool'
  | 'string'
  | 'date'
  | 'bitMap'
  | 'struct'
  | 'array';

export const TSL_TYPE_NAMES: readonly TslTypeName[] = [
  'int32',
  'int64',
  'float',
  'double',
  'enum',
  'bool',
  'string',
  'date',
  'bitMap',
  'struct',
  'array',
];

/** Keys the importer did not know, kept as they were found (merged from `dataType` and `specs`). */
export type TslExtra = Record<string, unknown>;

interface TslTypeBase {
  /** Unknown keys, only present when there were any. */
  extra?: TslExtra;
}

/** int32, int64, float, double: `min`/`max`/`step` as numbers (the export writes them as strings). */
export interface TslNumberType extends TslTypeBase {
  type: 'int32' | 'int64' | 'float' | 'double';
  min?: number;
  max?: number;
  /** Kept for display; not checked (whether OneNET enforces it is UNCONFIRMED, §1.5). */
  step?: number;
  unit?: string;
}

export interface TslEnumType extends TslTypeBase {
  type: 'enum';
  /** Integer key (as JSON writes it, e.g. "0") → label. */
  values: Record<string, string>;
}

export interface TslBoolType extends TslTypeBase {
  type: 'bool';
  /** The labels of true and false, when the export gave them. */
  labels: { true?: string; false?: string };
}

export interface TslStringType extends TslTypeBase {
  type: 'string';
  /** Most characters (Unicode code points) the value may have. */
  length?: number;
}

/** A UTC timestamp in milliseconds: a JSON integer on the wire (§1.4). */
export interface TslDateType extends TslTypeBase {
  type: 'date';
}

export interface TslBitMapBit {
  bit: number;
  /** "0"/"1" → label. */
  labels: Record<string, string>;
}

export interface TslBitMapType extends TslTypeBase {
  type: 'bitMap';
  /** Width in bits (≤ 32): the value is an integer 0 ≤ v < 2^length. */
  length: number;
  bits: TslBitMapBit[];
}

export interface TslStructType extends TslTypeBase {
  type: 'struct';
  members: TslParam[];
}

export interface TslArrayType extends TslTypeBase {
  type: 'array';
  /** Most elements. */
  length?: number;
  item: TslDataType;
}

/** A data type the importer could not understand (reported as a problem); the checks accept any value. */
export interface TslUnknownType extends TslTypeBase {
  type: 'unknown';
  /** The `type` written in the file, if any. */
  declared?: unknown;
}

export type TslDataType =
  | TslNumberType
  | TslEnumType
  | TslBoolType
  | TslStringType
  | TslDateType
  | TslBitMapType
  | TslStructType
  | TslArrayType
  | TslUnknownType;

/** A parameter: a struct member, an event output, a service input or output. */
export interface TslParam {
  identifier: string;
  name: string;
  dataType: TslDataType;
  extra?: TslExtra;
}

interface TslPointBase {
  identifier: string;
  name: string;
  desc: string;
  /** u (user), s (system), st (standard), as written; "" when absent. */
  functionType: string;
  /** Current exports only (standard-category mandatory points). */
  required?: boolean;
  extra?: TslExtra;
}

export interface TslProperty extends TslPointBase {
  /** `r`: the device reports it, the platform cannot set it. `rw` when absent. */
  accessMode: 'r' | 'rw';
  dataType: TslDataType;
}

export interface TslEvent extends TslPointBase {
  /** info / alert / error, as written; "" when absent. */
  eventType: string;
  output: TslParam[];
}

export interface TslService extends TslPointBase {
  /** s (sync) / a (async), as written ("sync"/"async" normalised to s/a); "" when absent. */
  callType: string;
  input: TslParam[];
  output: TslParam[];
}

export interface TslModel {
  properties: TslProperty[];
  events: TslEvent[];
  services: TslService[];
  /** Top-level keys other than the three lists (`version`, `profile`, `combs`, …), unchanged. */
  extra?: TslExtra;
}

/** Something in the file the importer could not understand, and what it did instead. */
export interface TslImportProblem {
  /** JSON path into the input, e.g. `properties[2].dataType.specs.max`; "" for the whole input. */
  path: string;
  /** A readable sentence (en-US) saying what was not understood and what was done. */
  message: string;
}

export interface TslImportResult {
  model: TslModel;
  problems: TslImportProblem[];
}

// ---------------------------------------------------------------------------------------------
// Check results

/** Machine-readable rule ids of tsl-check.ts; see DEFAULT_RULE_CODES for the suggested reply code. */
export type ModelRule =
  | 'unknown-identifier'
  | 'wrong-kind'
  | 'read-only'
  | 'type'
  | 'numeric-string'
  | 'integer'
  | 'int32-range'
  | 'int64-range'
  | 'float-range'
  | 'min'
  | 'max'
  | 'enum'
  | 'bitmap-width'
  | 'string-length'
  | 'unknown-member'
  | 'array-length';

/**
 * The OneNET code suggested for each rule (onenet-protocol.md §3.2): 309 "identifier not exist" for
 * identifiers, 302 "data type error" for values, 313 "bad request" for setting a read-only property.
 * Which code the platform really sends for which rule is UNCONFIRMED (onenet-next.md §1.5).
 */
export const DEFAULT_RULE_CODES: Readonly<Record<ModelRule, number>> = {
  'unknown-identifier': 309,
  'wrong-kind': 309,
  'read-only': 313,
  type: 302,
  'numeric-string': 302,
  integer: 302,
  'int32-range': 302,
  'int64-range': 302,
  'float-range': 302,
  min: 302,
  max: 302,
  enum: 302,
  'bitmap-width': 302,
  'string-length': 302,
  'unknown-member': 302,
  'array-length': 302,
};

export interface ModelViolation {
  /** The top-level identifier (property, event or service) the violation is under. */
  identifier: string;
  /** Where exactly, e.g. `temp`, `alarm.level`, `cells[2].mnc`. */
  path: string;
  /** The offending value, as short JSON (at most about 40 characters). */
  value: string;
  rule: ModelRule;
  /** Suggested OneNET reply code (DEFAULT_RULE_CODES). */
  code: number;
  /** A readable sentence (en-US) naming path, value and rule. */
  message: string;
  /** The limit the rule compares against (min, max, length, allowed keys, expected type), for messages in other languages. */
  limit?: number | string;
}
