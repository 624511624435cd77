import { deviceNameError, productIdError, type SubDeviceIdentity } from '../protocol';
import { DeviceConfigError, type DeviceConfigDef, type ProductSettings } from './device-settings';

/** What a sub-device's config gives its gateway: who it is, and the key its sasToken is signed with. */
export interface SubDeviceSettings {
  identity: SubDeviceIdentity;
  /** The sub-device's own key, else its product's access_key (onenet-next.md §Q2 step 3). */
  key: string;
}

/** `gateway` as a flow file holds it: '' (or the editor's "add new" marker) means none. */
export function gatewayOf(def: DeviceConfigDef): string | undefined {
  const gateway = def.gateway;
  return typeof gateway === 'string' && gateway !== '' && gateway !== '_ADD_' ? gateway : undefined;
}

/**
 * A sub-device's settings (DESIGN.md §4 `gateway`): product id (its own, or its product's), device
 * name and key; host, port, TLS, keepalive and token lifetime are the gateway's and are not read.
 * Throws DeviceConfigError naming the field to fix; the message never contains the key.
 */
export function toSubDeviceSettings(
  def: DeviceConfigDef,
  ownKey: string | undefined,
  product?: ProductSettings,
): SubDeviceSettings {
  const ownProductId = (def.productId ?? '').trim();
  const deviceName = (def.deviceName ?? '').trim();
  let productId = ownProductId;
  if (product) {
    const productsId = product.productId.trim();
    if (ownProductId !== '' && ownProductId !== productsId)
      throw new DeviceConfigError(
        `Product ID "${ownProductId}" differs from "${productsId}" of the product config node chosen for this sub-device: leave the Product ID empty, or make them the same`,
      );
    productId = productsId;
  }
  const problem = productIdError(productId) ?? deviceNameError(deviceName);
  if (problem !== undefined) throw new DeviceConfigError(problem);
  const key = typeof ownKey === 'string' && ownKey.trim() !== '' ? ownKey.trim() : product?.key?.trim();
  if (!key)
    throw new DeviceConfigError(
      'sub-device key is missing: paste the sub-device key into its device config node, or the product access_key into its product config node',
    );
  return { identity: { productID: productId, deviceName }, key };
}
