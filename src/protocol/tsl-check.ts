import { checkMembers, checkModelValue, indexOf, isObject, push, type Out } from './tsl-check-value';
import type { ModelViolation, TslEvent, TslModel, TslProperty, TslService } from './tsl-types';

export { checkModelValue } from './tsl-check-value';

/**
 * Checks of outgoing (and, in the emulator, incoming) thing-model messages against an imported
 * TslModel (tsl-import.ts). Pure; each check returns every violation it finds ([] = fine), each
 * naming identifier, path, value (short) and rule, with the OneNET code suggested for it
 * (DEFAULT_RULE_CODES: 309 identifiers, 302 values, 313 read-only sets; onenet-protocol.md §3.2).
 *
 * Rules per data type (shared/onenet-next.md §1.4, §1.7):
 * - int32/int64: a JSON integer in the type's range, then `min`/`max`; float/double: any finite
 *   number (an integer for a float is fine: JSON has one number type), float within ±3.4e38;
 * - enum: an integer that is one of the keys; bitMap: an integer 0 ≤ v < 2^length; date: an integer
 *   (milliseconds UTC, int64 range); bool: true/false; string: at most `length` characters (Unicode
 *   code points: whether OneNET counts bytes is UNCONFIRMED);
 * - struct: an object whose keys are all members (missing members are allowed: partial data);
 * - array: at most `length` elements, each checked as the item type (the first bad one is reported);
 * - a data type the importer did not understand accepts anything.
 * Numeric strings ("21.5" from Modbus/serial parsers) are refused for number types with their own
 * rule `numeric-string` and a hint to convert: the checks never change a value, and what goes on the
 * wire is what was checked, so a string would reach OneNET as a string (302 per §1.5). A caller that
 * wants conversion can convert and check again. `step` is not checked (UNCONFIRMED whether OneNET does).
 */

const article = (kind: Kind): string => (kind === 'event' ? 'an event' : `a ${kind}`);

type Kind = 'property' | 'event' | 'service';

function lookup(
  model: TslModel,
  kind: Kind,
  identifier: string,
  out: Out,
): TslProperty | TslEvent | TslService | undefined {
  const index = indexOf(model);
  const found =
    kind === 'property'
      ? index.properties.get(identifier)
      : kind === 'event'
        ? index.events.get(identifier)
        : index.services.get(identifier);
  if (found) return found;
  const other = (['property', 'event', 'service'] as const).find(
    (k) =>
      k !== kind &&
      (k === 'property' ? index.properties : k === 'event' ? index.events : index.services).has(identifier),
  );
  if (other)
    push(
      out,
      identifier,
      identifier,
      identifier,
      'wrong-kind',
      `is ${article(other)} of the thing model, not ${article(kind)}`,
      other,
    );
  else
    push(
      out,
      identifier,
      identifier,
      identifier,
      'unknown-identifier',
      `is not ${article(kind)} of the thing model`,
      kind,
    );
  return undefined;
}

/** Params that are not an object at all (the callers' types say they are; flows may disagree). */
function notAnObject(params: unknown, out: Out): boolean {
  if (isObject(params)) return false;
  push(out, '', 'params', params, 'type', 'is not an object {identifier: …}', 'object');
  return true;
}

type PropertyVisit = (property: TslProperty, identifier: string, value: unknown, out: Out) => void;

/**
 * Checks each entry of `{identifier: …}` params against its property with `visit`; an identifier
 * that is no property gets its violation here. The visitors are module functions, so a check on
 * the per-post path allocates nothing but its result.
 */
function checkEachProperty(model: TslModel, params: unknown, visit: PropertyVisit): ModelViolation[] {
  const out: Out = [];
  if (notAnObject(params, out)) return out;
  const properties = indexOf(model).properties;
  const entries = params as Record<string, unknown>;
  for (const identifier of Object.keys(entries)) {
    const property =
      properties.get(identifier) ?? (lookup(model, 'property', identifier, out) as TslProperty | undefined);
    if (property) visit(property, identifier, entries[identifier], out);
  }
  return out;
}

const postedValue: PropertyVisit = (property, identifier, entry, out) => {
  if (!isObject(entry) || !('value' in entry)) {
    push(out, identifier, identifier, entry, 'type', 'is not {"value": …}', 'object');
  } else checkModelValue(property.dataType, entry.value, identifier, identifier, out);
};

const plainValue: PropertyVisit = (property, identifier, value, out) =>
  checkModelValue(property.dataType, value, identifier, identifier, out);

const settableValue: PropertyVisit = (property, identifier, value, out) => {
  if (property.accessMode === 'r')
    push(out, identifier, identifier, value, 'read-only', `cannot be set: "${identifier}" is read-only`, 'r');
  else checkModelValue(property.dataType, value, identifier, identifier, out);
};

/** `thing/property/post` params `{identifier: {value, time?}}`. */
export function checkModelPropertyPost(model: TslModel, params: Record<string, unknown>): ModelViolation[] {
  return checkEachProperty(model, params, postedValue);
}

/** Plain property values `{identifier: value}`: the data of a property get reply. */
export function checkModelPropertyValues(model: TslModel, values: Record<string, unknown>): ModelViolation[] {
  return checkEachProperty(model, values, plainValue);
}

/** Identifiers asked for (property get, desired get): each must be a property. */
export function checkModelPropertyIdentifiers(
  model: TslModel,
  identifiers: readonly string[],
): ModelViolation[] {
  const out: Out = [];
  if (!Array.isArray(identifiers)) {
    push(out, '', 'params', identifiers, 'type', 'is not a list of identifiers', 'array');
    return out;
  }
  for (const identifier of identifiers) lookup(model, 'property', String(identifier), out);
  return out;
}

/** A property set from the platform `{identifier: value}`: read-only properties (`accessMode: r`) are refused. */
export function checkModelPropertySet(model: TslModel, params: Record<string, unknown>): ModelViolation[] {
  return checkEachProperty(model, params, settableValue);
}

/** One event: its identifier and its output object `{param: value}`. */
export function checkModelEventPost(model: TslModel, identifier: string, output: unknown): ModelViolation[] {
  const out: Out = [];
  const event = lookup(model, 'event', identifier, out) as TslEvent | undefined;
  if (event) checkMembers(event.output, output, identifier, identifier, out);
  return out;
}

/** `thing/event/post` params `{event: {value: {param: v}, time?}}`. */
export function checkModelEventParams(model: TslModel, params: Record<string, unknown>): ModelViolation[] {
  const out: ModelViolation[] = [];
  if (notAnObject(params, out)) return out;
  for (const identifier of Object.keys(params)) {
    const entry = params[identifier];
    out.push(...checkModelEventPost(model, identifier, isObject(entry) ? entry.value : entry));
  }
  return out;
}

/** A service's reply data (its output `{param: value}`). */
export function checkModelServiceOutput(
  model: TslModel,
  identifier: string,
  output: unknown,
): ModelViolation[] {
  const out: Out = [];
  const service = lookup(model, 'service', identifier, out) as TslService | undefined;
  if (service) checkMembers(service.output, output, identifier, identifier, out);
  return out;
}

/** A service invocation's input `{param: value}` (the platform side, e.g. the emulator). */
export function checkModelServiceInput(
  model: TslModel,
  identifier: string,
  input: unknown,
): ModelViolation[] {
  const out: Out = [];
  const service = lookup(model, 'service', identifier, out) as TslService | undefined;
  if (service) checkMembers(service.input, input, identifier, identifier, out);
  return out;
}
