import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isPlainObject } from '../protocol';
import { importProductModel } from './product-model';
import type { EmulatorDevice, EmulatorProduct, ThingModelSource } from './types';

/**
 * The devices file the CLI reads: a JSON array. Each entry with a `deviceName` is a device
 * `{"productId", "deviceName", "key"}` (`deviceKey` is accepted for `key`). An entry without a
 * `deviceName` describes a product: `{"productId", "accessKey"?, "thingModel"?}`, where
 * `thingModel` is the model object or the path of a JSON file holding it (relative to this file):
 * the OneNET console's export (产品详情 → 查看/导出物模型, either generation) or the emulator's own
 * earlier format. It is kept as given; what the importer cannot understand fails the load, naming
 * where in the model it is.
 */
export interface DevicesFileContent {
  devices: EmulatorDevice[];
  products: EmulatorProduct[];
}

export function parseDevicesFile(
  json: unknown,
  readModel: (path: string) => unknown = () => {
    throw new Error('thing model files can only be read from a devices file on disk');
  },
): DevicesFileContent {
  if (!Array.isArray(json)) throw new Error('the devices file must hold a JSON array of devices');
  const content: DevicesFileContent = { devices: [], products: [] };
  json.forEach((entry: unknown, index) => {
    const at = `entry ${index}`;
    if (!isPlainObject(entry)) throw new Error(`${at} must be an object`);
    if (typeof entry.productId !== 'string' || entry.productId === '')
      throw new Error(`${at}: "productId" must be a non-empty string`);
    if (entry.deviceName !== undefined) {
      if (typeof entry.deviceName !== 'string' || entry.deviceName === '')
        throw new Error(`${at}: "deviceName" must be a non-empty string`);
      const key = entry.key ?? entry.deviceKey;
      if (typeof key !== 'string' || key === '')
        throw new Error(`${at}: "key" must be the device key (base64)`);
      content.devices.push(
        withGatewayFields(entry, at, { productId: entry.productId, deviceName: entry.deviceName, key }),
      );
      return;
    }
    const product: EmulatorProduct = { productId: entry.productId };
    if (entry.accessKey !== undefined) {
      if (typeof entry.accessKey !== 'string' || entry.accessKey === '')
        throw new Error(`${at}: "accessKey" must be a base64 string`);
      product.accessKey = entry.accessKey;
    }
    if (entry.thingModel !== undefined) {
      const source = typeof entry.thingModel === 'string' ? readModel(entry.thingModel) : entry.thingModel;
      importProductModel(source, `${at}.thingModel`);
      product.thingModel = source as ThingModelSource;
    }
    content.products.push(product);
  });
  return content;
}

/**
 * `"nodeType": "gateway"` declares a gateway; `"gateway": {"productId", "deviceName"}` binds the
 * device to one as a sub-device from the start, as a binding made in the console (§Q2 2.1).
 */
function withGatewayFields(
  entry: Record<string, unknown>,
  at: string,
  device: EmulatorDevice,
): EmulatorDevice {
  if (entry.nodeType !== undefined) {
    if (entry.nodeType !== 'gateway' && entry.nodeType !== 'direct')
      throw new Error(`${at}: "nodeType" must be "gateway" or "direct"`);
    device.nodeType = entry.nodeType;
  }
  if (entry.gateway !== undefined) {
    const gateway = entry.gateway;
    if (
      !isPlainObject(gateway) ||
      typeof gateway.productId !== 'string' ||
      typeof gateway.deviceName !== 'string'
    )
      throw new Error(`${at}: "gateway" must be {"productId", "deviceName"} of a gateway in the file`);
    device.gateway = { productId: gateway.productId, deviceName: gateway.deviceName };
  }
  return device;
}

function readJson(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    // The parser's message may quote the text around the fault, which could be a key: keep only
    // where, and do not attach the original as `cause` either.
    const where = /position \d+/.exec((error as Error).message)?.[0];
    // eslint-disable-next-line preserve-caught-error
    throw new Error(`${file} is not valid JSON${where ? ` (at ${where})` : ''}`);
  }
}

/** Reads a thing-model file (a console export) and checks that the importer understands all of it. */
export function loadThingModelFile(path: string): ThingModelSource {
  const source = readJson(path);
  importProductModel(source, path);
  return source as ThingModelSource;
}

/** Reads and checks a devices file; errors name the entry at fault, never a key. */
export function loadDevicesFile(path: string): DevicesFileContent {
  return parseDevicesFile(readJson(path), (modelPath) => readJson(resolve(dirname(path), modelPath)));
}
