import {
  deviceNameError,
  deviceResource,
  parseToken,
  productIdError,
  productResource,
  verifyToken,
  type TokenFields,
} from '../protocol';
import { ProductModel, importProductModel, type ModelReplyCodes } from './product-model';
import type { DeviceRef, EmulatorDevice, EmulatorProduct } from './types';

/** The key the emulator files a device under: product id and device name identify it together. */
export function deviceKeyOf(ref: DeviceRef): string {
  return `${ref.productId}/${ref.deviceName}`;
}

export type LoginResult =
  { ok: true; device: EmulatorDevice; token: TokenFields } | { ok: false; reason: string };

function isBase64Key(key: unknown): key is string {
  return typeof key === 'string' && key.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(key);
}

/**
 * The token parser quotes the piece it could not read, which may be part of a key pasted as the
 * password. Refusal reasons are printed, so only reasons that quote nothing are passed on.
 */
function safeFormatReason(reason: string): string {
  if (!reason.includes('"')) return reason;
  return 'invalid token: expected version=…&res=…&et=…&method=…&sign=…';
}

/** Registered devices and products, and the login check (shared/onenet-protocol.md §2, §7 item 2). */
export class DeviceRegistry {
  private readonly devices = new Map<string, EmulatorDevice>();
  private readonly products = new Map<string, EmulatorProduct>();
  private readonly models = new Map<string, ProductModel>();
  /** The codes refusals by a thing model are answered with (EmulatorOptions.modelReplyCodes). */
  modelCodes: ModelReplyCodes = {};

  addDevice(device: EmulatorDevice): void {
    const problem = productIdError(device.productId) ?? deviceNameError(device.deviceName);
    if (problem) throw new Error(`cannot add device: ${problem}`);
    if (!isBase64Key(device.key))
      throw new Error(`cannot add device ${deviceKeyOf(device)}: key must be base64`);
    this.devices.set(deviceKeyOf(device), {
      productId: device.productId,
      deviceName: device.deviceName,
      key: device.key,
    });
  }

  removeDevice(ref: DeviceRef): boolean {
    return this.devices.delete(deviceKeyOf(ref));
  }

  hasDevice(ref: DeviceRef): boolean {
    return this.devices.has(deviceKeyOf(ref));
  }

  /** The keys a sub-device's sasToken may be signed with: its own and its product's (§Q2 2.3). */
  signingKeysOf(ref: DeviceRef): string[] | undefined {
    const device = this.devices.get(deviceKeyOf(ref));
    if (!device) return undefined;
    const accessKey = this.products.get(ref.productId)?.accessKey;
    return accessKey === undefined ? [device.key] : [device.key, accessKey];
  }

  addProduct(product: EmulatorProduct): void {
    const problem = productIdError(product.productId);
    if (problem) throw new Error(`cannot add product: ${problem}`);
    if (product.accessKey !== undefined && !isBase64Key(product.accessKey)) {
      throw new Error(`cannot add product ${product.productId}: accessKey must be base64`);
    }
    const model =
      product.thingModel === undefined
        ? undefined
        : importProductModel(product.thingModel, `product ${product.productId} thingModel`);
    this.products.set(product.productId, { ...product });
    if (model) this.models.set(product.productId, new ProductModel(model, this.modelCodes));
    else this.models.delete(product.productId);
  }

  thingModelOf(productId: string): ProductModel | undefined {
    return this.models.get(productId);
  }

  /**
   * Checks a CONNECT's identity: client id = device name, username = product id, password = token
   * signed with the device key, or with the product access key (§2.1, §2.3). A token whose resource
   * is the product itself (`products/{pid}`, "一型一密") is accepted only with the product key.
   * Reasons name what is wrong, never the key or the token.
   */
  checkLogin(
    clientId: string,
    username: string | undefined,
    password: Buffer | undefined,
    nowSeconds: number,
  ): LoginResult {
    if (!clientId) return { ok: false, reason: 'empty client id (it must be the device name)' };
    if (!username) return { ok: false, reason: 'no username (it must be the product id)' };
    if (!password || password.length === 0)
      return { ok: false, reason: 'no password (it must be the token)' };
    const device = this.devices.get(`${username}/${clientId}`);
    if (!device) return { ok: false, reason: `device "${clientId}" not found in product "${username}"` };
    const token = password.toString('utf8');
    const accessKey = this.products.get(username)?.accessKey;
    const parsed = parseToken(token);
    const productLevel =
      accessKey !== undefined && parsed.ok && parsed.fields.res === productResource(username);
    const verdict = verifyToken(token, {
      acceptedResources: productLevel ? [productResource(username)] : [deviceResource(username, clientId)],
      keys: productLevel ? [accessKey] : accessKey !== undefined ? [device.key, accessKey] : [device.key],
      nowSeconds,
    });
    if (!verdict.ok)
      return {
        ok: false,
        reason: verdict.logCode === 1103 ? safeFormatReason(verdict.reason) : verdict.reason,
      };
    return { ok: true, device, token: verdict.fields };
  }
}
