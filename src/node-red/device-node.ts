import type { DeviceChannel } from '../connection';
import type { ActiveModel } from './model-check';
import type { NodeAPI, Node } from './node-red-types';

export const DEVICE_NODE_TYPE = 'onenet-device';

/** What an `onenet-device` config node offers the flow nodes that use it. */
export interface DeviceNodeApi {
  /** "productId/deviceName", for messages; never contains the key. */
  readonly deviceLabel: string;
  /** The id of its gateway's config node when this device is a sub-device. */
  readonly gateway?: string;
  /**
   * The shared connection for this device, counted as used by `userId` until releaseConnection.
   * Throws an Error that tells the user what to fix when the config is invalid or conflicts with
   * another config node for the same device.
   */
  acquireConnection(userId: string): DeviceChannel;
  /**
   * `removed` false (a flow node restarting in a partial deploy) keeps the connection logged in for
   * its return; see ConnectionPool.release.
   */
  releaseConnection(userId: string, removed?: boolean): Promise<void>;
  /**
   * The thing model this device's messages are checked against before they are sent: its product's,
   * when the device has a product with a model and modelCheck is not "off"; else undefined.
   */
  activeModel(): ActiveModel | undefined;
}

export type DeviceNode = Node & DeviceNodeApi;

/** The config node with this id, or undefined when it is missing or not an onenet-device. */
export function findDeviceNode(RED: NodeAPI, id: unknown): DeviceNode | undefined {
  if (typeof id !== 'string' || id === '') return undefined;
  const node = RED.nodes.getNode(id);
  if (node === null || node.type !== DEVICE_NODE_TYPE) return undefined;
  const candidate = node as Partial<DeviceNodeApi>;
  return typeof candidate.acquireConnection === 'function' ? (node as DeviceNode) : undefined;
}
