/** The OneNET emulator: a real MQTT broker that behaves like OneNET's thing-model acceptor. */
export { OneNetEmulator } from './emulator';
export { PlatformRequestError } from './platform-requests';
export { generateTestCertificate } from './certificate';
export { loadDevicesFile, parseDevicesFile, type DevicesFileContent } from './devices-file';
export type * from './types';
export type {
  ThingDataType,
  ThingEvent,
  ThingModel,
  ThingParam,
  ThingProperty,
  ThingService,
} from '../protocol/thing-model';
