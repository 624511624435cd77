import { importThingModel } from './protocol/tsl-import';
import type { TslModel } from './protocol/tsl-types';
import { translator } from './node-red/i18n';
import type { Node, NodeAPI, NodeDef } from './node-red/node-red-types';
import { PRODUCT_NODE_TYPE, modelCheckMode, type ProductNodeApi } from './node-red/product-node';

/** The `onenet-product` config node's flow-file properties (DESIGN.md §4). */
interface ProductConfigDef extends NodeDef {
  productId?: string;
  thingModel?: string;
  modelCheck?: string;
}

/** Import problems listed in the one warning at start; the rest are counted. */
const MAX_LISTED_PROBLEMS = 10;

/**
 * `onenet-product`: a OneNET product's id, its thing model (物模型, the JSON text the console exports)
 * with what to do when a message breaks it, and the optional product access_key (a password
 * credential) that devices without a key of their own sign their login with. The model is imported
 * once, when the node starts; what the importer could not understand is one warning, never a crash.
 */
export = function registerProductNode(RED: NodeAPI): void {
  const t = translator(RED);

  function OneNetProductNode(this: Node, def: ProductConfigDef): void {
    RED.nodes.createNode(this, def);
    const key = this.credentials?.key;
    const api: ProductNodeApi = {
      productId: (def.productId ?? '').trim(),
      productKey: typeof key === 'string' && key.trim() !== '' ? key.trim() : undefined,
      thingModel: loadModel(this, def.thingModel),
      modelCheck: modelCheckMode(def.modelCheck),
    };
    Object.assign(this, api);
  }

  function loadModel(node: Node, text: unknown): TslModel | undefined {
    if (typeof text !== 'string' || text.trim() === '') return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      node.warn(t('modelNotJson', { reason: (err as Error).message }));
      return undefined;
    }
    const { model, problems } = importThingModel(parsed);
    if (problems.length > 0) {
      const listed = problems
        .slice(0, MAX_LISTED_PROBLEMS)
        .map((problem) => (problem.path ? `${problem.path}: ${problem.message}` : problem.message));
      if (problems.length > MAX_LISTED_PROBLEMS) listed.push(`… (${problems.length - MAX_LISTED_PROBLEMS})`);
      node.warn(t('modelProblems', { count: problems.length, problems: listed.join('; ') }));
    }
    return model;
  }

  RED.nodes.registerType(PRODUCT_NODE_TYPE, OneNetProductNode, {
    credentials: { key: { type: 'password' } },
  });
};
