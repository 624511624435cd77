import { describeType, identifierError, isPlainObject, valueError } from './validation';

/** The platform requests a device answers, by the kind names topics.ts uses. */
export type AnsweredRequestKind = 'property-set' | 'property-get' | 'service-invoke';

/**
 * Checks the `data` of a device's successful reply (onenet-protocol.md §3.1): a property get is
 * answered with `{identifier: value}` for the asked identifiers, a service invoke with its output
 * parameters `{identifier: value}`, a property set with no data. Returns undefined when fine, or a
 * sentence telling the user what to change.
 */
export function replyDataError(kind: AnsweredRequestKind, data: unknown): string | undefined {
  if (kind === 'property-set') return data === undefined ? undefined : 'a property set reply carries no data';
  const what = kind === 'property-get' ? 'property get reply' : 'service reply';
  if (data === undefined)
    return kind === 'property-get' ? `a ${what} needs data: {identifier: value}` : undefined;
  if (!isPlainObject(data))
    return `${what} data must be an object of {identifier: value}, not ${describeType(data)}`;
  for (const [identifier, value] of Object.entries(data)) {
    const error = identifierError(identifier) ?? valueError(value, `data.${identifier}`);
    if (error) return `${what}: ${error}`;
  }
  return undefined;
}
