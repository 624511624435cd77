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

  // The dialog asks the runtime's importer what it understands of a pasted model, so it lists the
  // same import problems the node will warn about (with their JSON paths), not a rough copy. With
  // `model: true` the answer carries the normalised model too: the product dialog's table and the
  // pick-lists of the flow nodes' dialogs read it, so the browser needs no importer of its own.
  const permission = RED.auth?.needsPermission(`${PRODUCT_NODE_TYPE}.read`);
  if (RED.httpAdmin && permission) {
    RED.httpAdmin.post(`/${PRODUCT_NODE_TYPE}/import`, permission, (req, res) => {
      const body = req.body as { text?: unknown; model?: unknown } | undefined;
      const text = body?.text;
      if (typeof text !== 'string') {
        res.status(400).json({ error: 'text (the thing model JSON) is missing' });
        return;
      }
      res.json(describeImport(text, body?.model === true));
    });
  }
};

/** What the dialog shows under the model field: counts and import problems, or why it is not JSON. */
interface ImportSummary {
  json: boolean;
  error?: string;
  properties: number;
  events: number;
  services: number;
  problems: Array<{ path: string; message: string }>;
  /** The normalised model (tsl-types.ts), when asked for. */
  model?: TslModel;
}

function describeImport(text: string, withModel: boolean): ImportSummary {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return {
      json: false,
      error: (err as Error).message,
      properties: 0,
      events: 0,
      services: 0,
      problems: [],
    };
  }
  const { model, problems } = importThingModel(parsed);
  const summary: ImportSummary = {
    json: true,
    properties: model.properties.length,
    events: model.events.length,
    services: model.services.length,
    problems: problems.map(({ path, message }) => ({ path, message })),
  };
  if (withModel) summary.model = model;
  return summary;
}
