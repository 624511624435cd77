import type { TslModel } from '../protocol/tsl-types';
import type { NodeAPI, Node } from './node-red-types';

export const PRODUCT_NODE_TYPE = 'onenet-product';

/** What a post or reply whose identifiers or values break the model gets (DESIGN.md §4). */
export type ModelCheckMode = 'reject' | 'warn' | 'off';

/** Anything but an explicit 'warn' or 'off' rejects: the safe default for a flow saved by hand. */
export function modelCheckMode(raw: unknown): ModelCheckMode {
  return raw === 'warn' || raw === 'off' ? raw : 'reject';
}

/** What an `onenet-product` config node offers the device config nodes that use it. */
export interface ProductNodeApi {
  /** The product id as configured (trimmed); checked by the device that uses it. */
  readonly productId: string;
  /** The product access_key (一型一密), or undefined when none was given. Never logged. */
  readonly productKey: string | undefined;
  /** The imported thing model, or undefined when the node holds none (or it was not JSON). */
  readonly thingModel: TslModel | undefined;
  readonly modelCheck: ModelCheckMode;
}

export type ProductNode = Node & ProductNodeApi;

/** The config node with this id, or undefined when it is missing or not an onenet-product. */
export function findProductNode(RED: NodeAPI, id: unknown): ProductNode | undefined {
  if (typeof id !== 'string' || id === '') return undefined;
  const node = RED.nodes.getNode(id);
  if (node === null || node.type !== PRODUCT_NODE_TYPE) return undefined;
  return typeof (node as Partial<ProductNodeApi>).modelCheck === 'string' ? (node as ProductNode) : undefined;
}
