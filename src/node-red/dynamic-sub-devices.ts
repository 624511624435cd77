import { DeviceConnection, type DeviceChannel } from '../connection';
import { deviceNameError, productIdError, type SubDeviceIdentity } from '../protocol';
import type { DeviceLink } from './device-link';
import { FlowError } from './flow-error';
import { activeModelOf, type ActiveModel, type ModelSource } from './model-check';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './node-red-types';
import { PRODUCT_NODE_TYPE, findProductNode, type ProductNode } from './product-node';

/**
 * A msg.subDevice looked up but not yet bound: the model its posts are checked against (its
 * product's), the gateway carrying it, and bind(), which binds and logs it in on first use and gives
 * its channel. A post binds only once its values passed the model check, so a refused post for a new
 * sub-device leaves no binding behind on the platform.
 */
export interface SubDeviceTarget extends ModelSource {
  gateway: DeviceChannel;
  bind(): DeviceChannel;
}

/**
 * `msg.subDevice = {productId, deviceName}` on a post node of a gateway (DESIGN.md §4): posts for a
 * sub-device that has no config node, keyed by the onenet-product of its product id (which must
 * hold the product key). It is bound and logged in on first use and counted in the gateway's status;
 * the gateway's table holds at most 1,500 (OneNET's limit). Its posts are checked against that
 * product's thing model as a configured device's are against its own (model-check.ts). The node
 * lets go of its sub-devices when it closes (the last user of one logs it out).
 */
export class DynamicSubDevices {
  private readonly used = new Map<string, { connection: DeviceConnection; identity: SubDeviceIdentity }>();
  /** The product node found for each product id: walking every node of the flows per post costs. */
  private readonly products = new Map<string, ProductNode>();

  constructor(
    private readonly RED: NodeAPI,
    private readonly node: Node,
  ) {
    node.on('close', () => this.releaseAll());
  }

  /** The sub-device msg.subDevice names, or undefined when the msg names none. Throws a FlowError. */
  targetFor(link: DeviceLink, msg: NodeMessage): SubDeviceTarget | undefined {
    const wanted = (msg as { subDevice?: unknown }).subDevice;
    if (wanted === undefined) return undefined;
    const identity = this.identityOf(wanted);
    const gateway = link.ownConnection();
    if (!(gateway instanceof DeviceConnection))
      throw new FlowError(
        'msg.subDevice works only on a node of a gateway (a device config without a gateway)',
      );
    const product = this.productOf(identity.productID);
    const model = activeModelOf(product);
    return {
      gateway,
      activeModel: (): ActiveModel | undefined => model,
      bind: (): DeviceChannel => {
        const handle = gateway.subDevice(identity, product.productKey!.trim(), this.node.id);
        this.used.set(`${gateway.key}|${identity.productID}/${identity.deviceName}`, {
          connection: gateway,
          identity,
        });
        return handle;
      },
    };
  }

  private identityOf(value: unknown): SubDeviceIdentity {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new FlowError('msg.subDevice must be {productId, deviceName}');
    const { productId, deviceName } = value as { productId?: unknown; deviceName?: unknown };
    const problem =
      productIdError(typeof productId === 'string' ? productId.trim() : productId) ??
      deviceNameError(typeof deviceName === 'string' ? deviceName.trim() : deviceName);
    if (problem !== undefined) throw new FlowError(`msg.subDevice: ${problem}`);
    return { productID: String(productId).trim(), deviceName: String(deviceName).trim() };
  }

  /**
   * The onenet-product config node with this product id that holds its access_key. The one found is
   * used while Node-RED still runs that very node: its settings are fixed for its life, and a deploy
   * that changes or removes it replaces or drops it, so the next post looks again.
   */
  private productOf(productId: string): ProductNode {
    const known = this.products.get(productId);
    if (known && findProductNode(this.RED, known.id) === known) return known;
    this.products.delete(productId);
    let found: ProductNode | undefined;
    let withoutKey = false;
    this.RED.nodes.eachNode?.((def: NodeDef) => {
      if (found !== undefined || def.type !== PRODUCT_NODE_TYPE) return;
      const product = findProductNode(this.RED, def.id);
      if (!product || product.productId !== productId) return;
      if (hasKey(product)) found = product;
      else withoutKey = true;
    });
    if (found !== undefined) {
      this.products.set(productId, found);
      return found;
    }
    throw new FlowError(
      withoutKey
        ? `msg.subDevice: the onenet-product config node of product ${productId} holds no product key (access_key); add it there`
        : `msg.subDevice: no onenet-product config node has product id ${productId}; add one with its product key (access_key)`,
    );
  }

  private releaseAll(): void {
    this.products.clear();
    for (const { connection, identity } of this.used.values())
      connection.releaseSubDevice(identity, this.node.id);
    this.used.clear();
  }
}

function hasKey(product: ProductNode): boolean {
  return product.productKey !== undefined && product.productKey.trim() !== '';
}
