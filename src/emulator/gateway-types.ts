import type { ResEncoding } from '../protocol';

/**
 * The public shapes of the emulated gateways (shared/onenet-next.md §Q2; docs/emulator.md
 * "Gateways and sub-devices"). Where OneNET's behaviour is UNCONFIRMED the option says so, and its
 * default is the reading onenet-next.md makes likeliest.
 */

/** OneNET's product node types (`node_type` 1 直连设备, 2 网关设备; 3 子设备 is any device a gateway binds). */
export type DeviceNodeType = 'direct' | 'gateway';

/**
 * The codes the emulator answers gateway requests with when it refuses them. OneNET documents only
 * 200 for `sub/*` replies (§2.4); the defaults are the device-log codes closest to each case.
 */
export interface GatewayReplyCodes {
  /** A `sub/*` request from a device that is not a gateway, or naming a gateway as sub-device. Default 313 "bad request". */
  notGateway?: number;
  /** topo/add, topo/delete, login or logout naming a device the platform does not know. Default 307. */
  unknownSubDevice?: number;
  /** topo/add or topo/delete whose sasToken does not verify. Default 307 (likeliest by §2.4). */
  badSasToken?: number;
  /** topo/add beyond `maxSubDevices`. Default 301, as for the batch limits. */
  subDeviceLimit?: number;
  /**
   * sub/login or sub/logout of a sub-device not bound to this gateway, and a pack/post or
   * history/post entry for one ("pack/post for an unbound sub-device is rejected": UNCONFIRMED, as is
   * the code). Default 307 "invalid pid or devName".
   */
  notBound?: number;
  /** topo/add of a sub-device bound to another gateway (a sub-device has one gateway). Default 307. */
  boundToAnotherGateway?: number;
}

export interface GatewayRules {
  /** Sub-devices one gateway may bind. Default 1500 ("单个网关设备最多支持添加1500个子设备"). */
  maxSubDevices?: number;
  /**
   * Whether a gateway's sub-devices are logged out when its connection ends. UNCONFIRMED for OneNET
   * (true on Aliyun); default true, so a client that logs its sub-devices in again after every
   * reconnect works either way.
   */
  logoutOnGatewayDisconnect?: boolean;
  /**
   * Which `res` encodings a sasToken may use: OneNET's example writes it plain, the C SDK encoded
   * (UNCONFIRMED which the platform takes). Default both.
   */
  acceptResEncodings?: ResEncoding[];
  codes?: GatewayReplyCodes;
}

/** What changed for a sub-device: the 'sub-device' event. */
export interface SubDeviceEvent {
  gateway: { productId: string; deviceName: string };
  subDevice: { productId: string; deviceName: string };
  change: 'bound' | 'unbound' | 'logged-in' | 'logged-out';
  /** What caused it: `sub/topo/add`, `sub/topo/change`, `gateway disconnected`, `console`, ... */
  cause: string;
}

/** The gateway's last `sub/topo/get/result` ("控制台可查看同步状态"). */
export interface TopologySyncResult {
  id: string;
  code: number;
  msg: string;
  at: number;
}
