import type { OneNetEmulator } from '../../src/emulator';
import type { FlowNode } from './support';

/** Config nodes of the gateway tests: a gateway on the emulator, and sub-devices it carries. */

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
