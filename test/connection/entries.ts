import type { RequestEntry } from '../../src/connection/uplink-types';

/** A sub-device's property post as the connection builds it, for tests of what handles one. */
export function packPostEntry(overrides: Partial<RequestEntry> = {}): RequestEntry {
  return {
    id: '1',
    kind: 'property-post',
    topic: '$sys/GwProd001/gw-1/thing/pack/post',
    payload: Buffer.from('{}'),
    qos: 1,
    waitReply: true,
    timeoutMs: 5000,
    createdAt: Date.now(),
    resolve: () => undefined,
    reject: () => undefined,
    values: { level: { value: 1 } },
    seq: 1,
    carriers: 0,
    waiting: false,
    done: false,
    timer: undefined,
    ...overrides,
  };
}
