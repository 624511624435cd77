import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatorDevice } from '../emulator';

/** The device the examples name; its key is made once per demo directory and kept there. */

export interface DemoDevice {
  device: EmulatorDevice;
  /** Made on this run: the key stored with earlier flows, if any, is not this one. */
  created: boolean;
}

export function loadOrCreateDemoDevice(userDir: string): DemoDevice {
  const file = join(userDir, 'demo-device.json');
  if (existsSync(file))
    return { device: JSON.parse(readFileSync(file, 'utf8')) as EmulatorDevice, created: false };
  mkdirSync(userDir, { recursive: true });
  const device = {
    productId: 'demoProduct',
    deviceName: 'demo-device-1',
    key: randomBytes(32).toString('base64'),
  };
  writeFileSync(file, JSON.stringify(device, null, 2));
  return { device, created: true };
}

/**
 * The gateway of example 07 and its three field devices (sub-devices): they sign with the demo
 * device's key, so one key made per demo directory serves every device the examples name.
 */
export function demoGatewayDevices(key: string): EmulatorDevice[] {
  return [
    { productId: 'demoGateway', deviceName: 'demo-gateway-1', key, nodeType: 'gateway' },
    ...[1, 2, 3].map((i) => ({ productId: 'demoFieldDevice', deviceName: `field-device-${i}`, key })),
  ];
}
