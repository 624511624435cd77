import { DeviceConnection, type DeviceChannel } from '../connection';
import { findDeviceNode, type DeviceNodeApi } from './device-node';
import { DeviceConfigError } from './device-settings';
import type { ActiveModel } from './model-check';
import type { Node, NodeAPI } from './node-red-types';
import type { SubDeviceSettings } from './sub-device-settings';

/**
 * The `onenet-device` API of a sub-device's config node: its flow nodes get a handle carried by the
 * gateway's connection (acquired through the gateway's config node, so the gateway connects once
 * for all of them). One level only: a gateway that is itself a sub-device, or a device that is its
 * own gateway, is refused with a message that says so.
 */
export function subDeviceApi(
  RED: NodeAPI,
  node: Node,
  gatewayId: string,
  settings: SubDeviceSettings | undefined,
  configProblem: string | undefined,
  deviceLabel: string,
  activeModel: ActiveModel | undefined,
): DeviceNodeApi & { releaseAll: () => Promise<void> } {
  /** userId → the gateway connection it was given through, to let go of the same one. */
  const held = new Map<string, { gateway: DeviceNodeApi; connection: DeviceConnection }>();

  function gateway(): DeviceNodeApi {
    if (gatewayId === node.id)
      throw new DeviceConfigError(`OneNET device ${deviceLabel}: a device cannot be its own gateway`);
    const found = findDeviceNode(RED, gatewayId);
    if (!found)
      throw new DeviceConfigError(
        `OneNET device ${deviceLabel}: the gateway chosen for this sub-device does not exist`,
      );
    if (found.gateway !== undefined)
      throw new DeviceConfigError(
        `OneNET device ${deviceLabel}: its gateway ${found.deviceLabel} is itself a sub-device; a gateway must connect directly (one level only)`,
      );
    return found;
  }

  async function release(userId: string, removed: boolean): Promise<void> {
    const hold = held.get(userId);
    if (!hold) return;
    held.delete(userId);
    if (settings) hold.connection.releaseSubDevice(settings.identity, userId);
    await hold.gateway.releaseConnection(userId, removed);
  }

  return {
    deviceLabel,
    gateway: gatewayId,
    acquireConnection: (userId: string): DeviceChannel => {
      if (!settings)
        throw new DeviceConfigError(`OneNET device ${deviceLabel}: ${configProblem ?? 'invalid settings'}`);
      const through = gateway();
      const connection = through.acquireConnection(userId);
      if (!(connection instanceof DeviceConnection))
        throw new DeviceConfigError(
          `OneNET device ${deviceLabel}: its gateway ${through.deviceLabel} is itself a sub-device`,
        );
      const handle = connection.subDevice(settings.identity, settings.key, userId);
      held.set(userId, { gateway: through, connection });
      return handle;
    },
    releaseConnection: (userId: string, removed = true): Promise<void> => release(userId, removed),
    activeModel: (): ActiveModel | undefined => activeModel,
    releaseAll: async (): Promise<void> => {
      await Promise.all([...held.keys()].map((userId) => release(userId, true).catch(() => undefined)));
    },
  };
}
