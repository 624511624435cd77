/** The connection layer: live OneNET device sessions over MQTT.js, shared through a pool. */
export * from './types';
export { OneNetRequestError } from './errors';
export { DeviceConnection } from './device-connection';
export { ConnectionPool, defaultPool } from './connection-pool';
export { ONENET_CA } from './onenet-ca';
