/**
 * The package's library entry, for use outside Node-RED: the protocol core, the device connection
 * and pool, and the OneNET emulator (for tests and device simulators). Node-RED itself loads the
 * node files listed under "node-red" in package.json, not this.
 */
export * from './protocol';
export * from './connection';
export * from './emulator';
