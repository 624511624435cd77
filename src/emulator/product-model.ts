import {
  checkModelEventParams,
  checkModelPropertyIdentifiers,
  checkModelPropertyPost,
  checkModelPropertySet,
  checkModelServiceInput,
  importThingModel,
  type ModelViolation,
  type TslModel,
} from '../protocol';

/**
 * A product's thing model as the emulator uses it: imported through the console-export importer
 * (protocol/tsl-import.ts, which also reads the emulator's own earlier format), checked with the
 * protocol checks (protocol/tsl-check.ts), each refusal answered with the configured code.
 */

/**
 * The codes a refused message is answered with. Defaults from onenet-protocol.md §3.2: 309
 * "identifier not exist", 302 "data type error", 313 "bad request" (a set of a read-only property).
 * Configurable because what the platform really answers is UNCONFIRMED (onenet-next.md §1.5).
 */
export interface ModelReplyCodes {
  unknownIdentifier?: number;
  dataType?: number;
  readOnly?: number;
}

export interface ModelVerdict {
  code: number;
  reason: string;
}

/**
 * Imports `source` (the console's export JSON, parsed or as text, the own format, or an imported
 * model); throws an Error naming what it could not understand, so a broken fixture fails at once.
 */
export function importProductModel(source: unknown, where: string): TslModel {
  const { model, problems } = importThingModel(source);
  if (problems.length > 0) {
    const [first] = problems;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    const at = first!.path === '' ? where : `${where}.${first!.path}`;
    throw new Error(`${at}: ${first!.message}${more}`);
  }
  return model;
}

export class ProductModel {
  private readonly codes: Required<ModelReplyCodes>;

  constructor(
    readonly model: TslModel,
    codes: ModelReplyCodes = {},
  ) {
    this.codes = { unknownIdentifier: 309, dataType: 302, readOnly: 313, ...codes };
  }

  /** property/post params `{identifier: {value, time?}}`. */
  propertyPost(params: Record<string, unknown>): ModelVerdict | undefined {
    return this.verdict(checkModelPropertyPost(this.model, params));
  }

  /** event/post params `{event: {value: {output: v}, time?}}`. */
  eventPost(params: Record<string, unknown>): ModelVerdict | undefined {
    return this.verdict(checkModelEventParams(this.model, params));
  }

  /** property/get and desired/get identifiers. */
  propertyGet(identifiers: readonly string[]): ModelVerdict | undefined {
    return this.verdict(checkModelPropertyIdentifiers(this.model, identifiers));
  }

  /** A property set from the platform `{identifier: value}`. */
  propertySet(params: Record<string, unknown>): ModelVerdict | undefined {
    return this.verdict(checkModelPropertySet(this.model, params));
  }

  /** A service invocation's input. */
  serviceInvoke(identifier: string, input: Record<string, unknown>): ModelVerdict | undefined {
    return this.verdict(checkModelServiceInput(this.model, identifier, input));
  }

  private verdict(violations: readonly ModelViolation[]): ModelVerdict | undefined {
    const [first] = violations;
    if (!first) return undefined;
    const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : '';
    return { code: this.codeOf(first), reason: `${first.message}${more}` };
  }

  private codeOf(violation: ModelViolation): number {
    if (violation.rule === 'unknown-identifier' || violation.rule === 'wrong-kind')
      return this.codes.unknownIdentifier;
    if (violation.rule === 'read-only') return this.codes.readOnly;
    return this.codes.dataType;
  }
}
