import assert from 'node:assert/strict';
import { fullyTaken } from '../../src/connection/uplink-merge';
import { takePack } from '../../src/connection/uplink-pack';
import type { RequestEntry } from '../../src/connection/uplink-types';
import { buildPackPost } from '../../src/protocol';

/**
 * How waiting sub-device posts fold into one pack/post (onenet-next.md §Q2 step 6: at most 10
 * sub-devices and 100 points each per message), on entries built by hand.
 */

function noop(): void {}

let seq = 0;
function subPost(
  deviceName: string,
  kind: 'property-post' | 'event-post',
  values: Record<string, unknown>,
  createdAt = 1_700_000_000_000,
): RequestEntry {
  const timed: RequestEntry['values'] = {};
  for (const [identifier, value] of Object.entries(values)) timed[identifier] = { value };
  const id = String(++seq);
  return {
    id,
    kind,
    topic: 'pack-post',
    payload: Buffer.from('{}'),
    qos: 1,
    waitReply: true,
    timeoutMs: 5000,
    createdAt,
    resolve: noop,
    reject: noop,
    values: timed,
    seq,
    carriers: 0,
    waiting: true,
    done: false,
    timer: undefined,
    identity: { productID: 'SubProd001', deviceName },
  };
}

describe('connection / pack/post merging of sub-device posts', () => {
  it('puts at most 10 sub-devices in one message; the rest wait for the next', () => {
    const entries = Array.from({ length: 12 }, (_, i) =>
      subPost(`field-${i}`, 'property-post', { level: i }),
    );
    const first = takePack(entries, new Map());
    assert.equal(first.entries.length, 10);
    assert.deepEqual(
      first.entries.map((entry) => entry.identity?.deviceName),
      Array.from({ length: 10 }, (_, i) => `field-${i}`),
    );
    assert.equal(first.members.length, 10);
    const second = takePack(
      entries.filter((entry) => !fullyTaken(entry)),
      new Map(),
    );
    assert.deepEqual(
      second.entries.map((entry) => entry.identity?.deviceName),
      ['field-10', 'field-11'],
    );
  });

  it('puts at most 100 points of one sub-device in one message', () => {
    const values = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`p${i}`, i]));
    const entry = subPost('field-0', 'property-post', values);
    const sentLive = new Map<string, number>();
    const first = takePack([entry], sentLive);
    assert.equal(Object.keys(first.entries[0]!.properties!).length, 100);
    assert.equal(fullyTaken(entry), false);
    const second = takePack([entry], sentLive);
    assert.equal(Object.keys(second.entries[0]!.properties!).length, 50);
    assert.equal(fullyTaken(entry), true);
  });

  it('packs the newest value of a property and the oldest event of an identifier, each with its time', () => {
    const older = subPost('field-0', 'property-post', { level: 1 }, 1000);
    const newer = subPost('field-0', 'property-post', { level: 2 }, 2000);
    const event = subPost('field-0', 'event-post', { overheat: { celsius: 91 } }, 1500);
    const later = subPost('field-0', 'event-post', { overheat: { celsius: 95 } }, 2500);
    const first = takePack([older, newer, event, later], new Map());
    assert.deepEqual(first.entries, [
      {
        identity: { productID: 'SubProd001', deviceName: 'field-0' },
        properties: { level: { value: 2, time: 2000 } },
        events: { overheat: { value: { celsius: 91 }, time: 1500 } },
      },
    ]);
    assert.deepEqual(first.members, [newer, event]);
    // What the scheduler publishes passes the protocol's own limits and shape checks.
    assert.doesNotThrow(() => buildPackPost('1', first.entries));
    // The overwritten value and the later event are left for history/post (uplink-pack-history.test.ts).
    assert.equal(fullyTaken(older), false);
    assert.equal(fullyTaken(later), false);
  });

  it("leaves a direct device's own posts alone", () => {
    const own = { ...subPost('field-0', 'property-post', { level: 1 }) };
    delete own.identity;
    const packed = takePack([own], new Map());
    assert.deepEqual(packed.entries, []);
    assert.deepEqual(packed.members, []);
  });
});
