/** The connection layer: live OneNET device sessions over MQTT.js, shared through a pool. */
export * from './types';
export { OneNetRequestError } from './errors';
export { DeviceConnection } from './device-connection';
export { ConnectionPool, defaultPool } from './connection-pool';
export { ONENET_CA } from './onenet-ca';
export { SubDeviceHandle } from './sub-device-handle';

import type { DeviceConnection } from './device-connection';
import type { SubDeviceHandle } from './sub-device-handle';
/** What a flow node uses: a device's own connection, or a sub-device carried by its gateway's. */
export type DeviceChannel = DeviceConnection | SubDeviceHandle;
