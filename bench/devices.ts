import { createHash } from 'node:crypto';
import { buildTopic, deviceResource, signToken, type TopicKind } from '../src/protocol';

/** Benchmark devices: one product, names with a role prefix, keys derived from the name. */

export const BENCH_PRODUCT_ID = 'BenchPrd01';

export interface BenchDevice {
  productId: string;
  deviceName: string;
  /** Base64 device key. Made up for the run; still never printed. */
  key: string;
}

/**
 * Deterministic keys keep a run reproducible; they are only valid for the emulator the run starts.
 * sha256 of the name gives the 32-byte keys OneNET's console shows.
 */
export function benchDevice(deviceName: string): BenchDevice {
  const key = createHash('sha256').update(`bench-key/${deviceName}`).digest('base64');
  return { productId: BENCH_PRODUCT_ID, deviceName, key };
}

export function benchDevices(prefix: string, count: number): BenchDevice[] {
  return Array.from({ length: count }, (_, i) => benchDevice(`${prefix}-${String(i).padStart(4, '0')}`));
}

/**
 * The MQTT password a hand-rolled client (raw MQTT.js, core `mqtt-broker` node) logs in with: a token
 * signed once with a long lifetime, as such users do (onenet-protocol.md §2.2).
 */
export function longLivedToken(device: BenchDevice, lifetimeSeconds = 7 * 24 * 3600): string {
  return signToken({
    key: device.key,
    res: deviceResource(device.productId, device.deviceName),
    et: Math.floor(Date.now() / 1000) + lifetimeSeconds,
    method: 'sha256',
  });
}

export function topicOf(device: BenchDevice, kind: TopicKind): string {
  return buildTopic({ productId: device.productId, deviceName: device.deviceName, kind });
}

/**
 * The property values every benchmark posts, the same for every side: two numbers that change with
 * the sequence number, so no layer can cache a serialised message.
 */
export function sampleProperties(sequence: number): { temperature: number; humidity: number } {
  return { temperature: 20 + (sequence % 100) / 10, humidity: 40 + (sequence % 17) };
}
