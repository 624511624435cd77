import type { ModelViolation, TslModel } from '../protocol/tsl-types';
import { FlowError } from './flow-error';
import { modelRuleText, translator } from './i18n';
import type { Node, NodeAPI } from './node-red-types';
import type { ProductNode } from './product-node';

/** Violations named in one error message; the rest are counted (all of them are on the error). */
const MAX_NAMED = 3;

/** A message the device's product thing model refuses, with modelCheck "reject": nothing was sent. */
export class ModelCheckError extends FlowError {
  override readonly name = 'ModelCheckError';

  constructor(
    message: string,
    readonly violations: ModelViolation[],
    /** "identifier: rule" of the first violation, for the node status. */
    readonly detail: string,
  ) {
    super(message, 'failedModel');
  }
}

/** The model a device's messages are checked against, and how; undefined = no check. */
export interface ActiveModel {
  model: TslModel;
  mode: 'reject' | 'warn';
  productId: string;
}

/** Where a message's model comes from: a device config node, or a msg.subDevice's product. */
export interface ModelSource {
  activeModel(): ActiveModel | undefined;
}

/** The thing model posts of a product's devices are checked against, unless the product says off. */
export function activeModelOf(product: ProductNode | undefined): ActiveModel | undefined {
  return product?.thingModel && product.modelCheck !== 'off'
    ? { model: product.thingModel, mode: product.modelCheck, productId: product.productId }
    : undefined;
}

/**
 * What a flow node does with the thing-model verdict on a message before it is sent: `reject` throws a
 * ModelCheckError naming identifier, value and rule; `warn` lets it go, with one node.warn per
 * identifier and rule for the node's lifetime (not one per message).
 */
export class ModelGate {
  private readonly warned = new Set<string>();
  private readonly t;

  constructor(
    private readonly RED: NodeAPI,
    private readonly node: Node,
  ) {
    this.t = translator(RED);
  }

  /** Runs `check` when the device has an active model; throws or warns as the product says. */
  enforce(source: ModelSource | undefined, check: (model: TslModel) => ModelViolation[]): void {
    const active = source?.activeModel();
    if (!active) return;
    const violations = check(active.model);
    if (violations.length === 0) return;
    if (active.mode === 'reject') {
      const named = violations.slice(0, MAX_NAMED).map((v) => this.describe(v));
      if (violations.length > MAX_NAMED) named.push(`… (${violations.length - MAX_NAMED})`);
      const first = violations[0]!;
      throw new ModelCheckError(
        this.t('modelRefused', { product: active.productId, violations: named.join('; ') }),
        violations,
        `${first.path || first.identifier}: ${first.rule}`,
      );
    }
    for (const violation of violations) {
      // Per product too: one node may post for sub-devices of several products (msg.subDevice).
      const key = `${active.productId}\u0000${violation.identifier}\u0000${violation.rule}`;
      if (this.warned.has(key)) continue;
      this.warned.add(key);
      this.node.warn(
        this.t('modelWarning', { product: active.productId, violation: this.describe(violation) }),
      );
    }
  }

  /** `path = value (rule): reason`, the reason in the runtime's language. */
  describe(violation: ModelViolation): string {
    return this.t('modelViolation', {
      path: violation.path || violation.identifier || 'params',
      value: violation.value,
      rule: violation.rule,
      reason: modelRuleText(this.RED, violation.rule, violation.limit),
    });
  }
}

/** Property post payload `{id: value}` or `{id: {value, time}}` as plain values, for the model check. */
export function postedValues(payload: unknown): Record<string, unknown> | undefined {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
  const values: Record<string, unknown> = {};
  for (const [identifier, entry] of Object.entries(payload as Record<string, unknown>)) {
    const timed =
      entry !== null &&
      typeof entry === 'object' &&
      !Array.isArray(entry) &&
      'value' in entry &&
      Object.keys(entry).every((k) => k === 'value' || k === 'time');
    values[identifier] = timed ? (entry as { value: unknown }).value : entry;
  }
  return values;
}
