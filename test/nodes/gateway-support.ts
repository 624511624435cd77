import { randomBytes } from 'node:crypto';
import type { DeviceRef, OneNetEmulator } from '../../src/emulator';
import type { FlowNode } from './support';

/** What the gateway tests share: the products, a gateway, and the config nodes of it, its sub-devices and their product. */

export const GW_PRODUCT = 'GwProd0001';
export const SUB_PRODUCT = 'SubProd001';
export const newKey = (): string => randomBytes(32).toString('base64');
export const GATEWAY = { productId: GW_PRODUCT, deviceName: 'gw-01', key: newKey() };

/** The emulator's reference to a device (no key). */
export const ref = (device: DeviceRef): DeviceRef => ({
  productId: device.productId,
  deviceName: device.deviceName,
});

export function gatewayConfigNode(
  emulator: OneNetEmulator,
  gateway: { productId: string; deviceName: string },
  overrides: Partial<FlowNode> = {},
): FlowNode {
  return {
    id: 'gw',
    type: 'onenet-device',
    name: 'gateway',
    productId: gateway.productId,
    deviceName: gateway.deviceName,
    host: emulator.host,
    port: String(emulator.port),
    tls: false,
    tokenTtl: '3600',
    keepalive: '60',
    uplinkRate: '0',
    ...overrides,
  };
}

export function subDeviceConfigNode(
  id: string,
  sub: { productId: string; deviceName: string },
  overrides: Partial<FlowNode> = {},
): FlowNode {
  return {
    id,
    type: 'onenet-device',
    name: 'field device',
    productId: sub.productId,
    deviceName: sub.deviceName,
    gateway: 'gw',
    ...overrides,
  };
}

/** An onenet-product config node (its access_key goes in the credentials under its id). */
export function productConfigNode(
  id: string,
  productId: string,
  overrides: Partial<FlowNode> = {},
): FlowNode {
  return {
    id,
    type: 'onenet-product',
    name: 'field devices',
    productId,
    thingModel: '',
    modelCheck: 'off',
    ...overrides,
  };
}
