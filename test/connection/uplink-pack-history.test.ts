import assert from 'node:assert/strict';
import { fullyTaken } from '../../src/connection/uplink-merge';
import { overtakenInPack, takePack, takePackHistory } from '../../src/connection/uplink-pack';
import { UplinkScheduler } from '../../src/connection/uplink-scheduler';
import type { RequestEntry, UplinkMessage } from '../../src/connection/uplink-types';
import { buildHistoryPost, buildPackPost, parseHistoryPost } from '../../src/protocol';

/**
 * A sub-device's earlier values go out in the gateway's history/post, entries with `identity`
 * (onenet-next.md §Q2 step 6, §Q3), while its newest ones go in pack/post: first the merge rules on
 * entries built by hand, then the scheduler deciding which message goes out when.
 */

function noop(): void {}

const T = 1_700_000_000_000;
let seq = 0;

function subPost(
  deviceName: string,
  kind: 'property-post' | 'event-post',
  values: Record<string, unknown>,
  createdAt = T,
): RequestEntry {
  const timed: RequestEntry['values'] = {};
  for (const [identifier, value] of Object.entries(values)) timed[identifier] = { value, time: createdAt };
  const id = String(++seq);
  const identity = { productID: 'SubProd001', deviceName };
  const entry = kind === 'property-post' ? { identity, properties: timed } : { identity, events: timed };
  return {
    id,
    kind,
    topic: '$sys/GwProd001/gw-1/thing/pack/post',
    payload: Buffer.from(buildPackPost(id, [entry])),
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
    identity,
  };
}

describe('connection / history/post of sub-devices', () => {
  describe('merge rules', () => {
    it('sends the values a newer post overwrote by history/post with identity, oldest first, each with its time', () => {
      const posts = [1, 2, 3].map((level, i) => subPost('field-0', 'property-post', { level }, T + i * 100));
      const sentLive = new Map<string, number>();
      const pack = takePack(posts, sentLive);
      assert.deepEqual(pack.entries, [
        {
          identity: { productID: 'SubProd001', deviceName: 'field-0' },
          properties: { level: { value: 3, time: T + 200 } },
        },
      ]);
      const history = takePackHistory(posts, sentLive);
      assert.deepEqual(history.members, posts.slice(0, 2));
      assert.equal(
        buildHistoryPost('7', history.entries),
        '{"id":"7","version":"1.0","params":[{"identity":{"productID":"SubProd001","deviceName":"field-0"},' +
          `"properties":{"level":[{"value":1,"time":${T}},{"value":2,"time":${T + 100}}]}}]}`,
      );
      assert.ok(posts.every(fullyTaken));
    });

    it('gives each sub-device its own history entry, events after the first of an identifier included', () => {
      const a1 = subPost('field-a', 'property-post', { level: 1 }, T);
      const b1 = subPost('field-b', 'event-post', { overheat: { celsius: 90 } }, T + 10);
      const a2 = subPost('field-a', 'property-post', { level: 2 }, T + 20);
      const b2 = subPost('field-b', 'event-post', { overheat: { celsius: 95 } }, T + 30);
      const entries = [a1, b1, a2, b2];
      const history = takePackHistory(entries, new Map());
      assert.deepEqual(history.entries, [
        {
          identity: { productID: 'SubProd001', deviceName: 'field-a' },
          properties: { level: [{ value: 1, time: T }] },
        },
        {
          identity: { productID: 'SubProd001', deviceName: 'field-b' },
          events: { overheat: [{ value: { celsius: 95 }, time: T + 30 }] },
        },
      ]);
      assert.deepEqual(history.members, [a1, b2]);
      const pack = takePack(entries, new Map());
      assert.deepEqual(pack.entries, [
        {
          identity: { productID: 'SubProd001', deviceName: 'field-b' },
          events: { overheat: { value: { celsius: 90 }, time: T + 10 } },
        },
        {
          identity: { productID: 'SubProd001', deviceName: 'field-a' },
          properties: { level: { value: 2, time: T + 20 } },
        },
      ]);
      assert.ok(entries.every(fullyTaken));
    });

    it('keeps to 10 identities, 100 points per identity and 100 values per point in one history/post', () => {
      const manyDevices = Array.from({ length: 11 }, (_, i) => [
        subPost(`field-${i}`, 'property-post', { level: 0 }),
        subPost(`field-${i}`, 'property-post', { level: 1 }),
      ]).flat();
      const devices = takePackHistory(manyDevices, new Map());
      assert.equal(devices.entries.length, 10);
      assert.equal(takePackHistory(manyDevices, new Map()).entries[0]!.identity!.deviceName, 'field-10');

      const manyValues = Array.from({ length: 102 }, (_, i) =>
        subPost('field-0', 'property-post', { level: i }),
      );
      const values = takePackHistory(manyValues, new Map());
      assert.equal(values.entries[0]!.properties!.level!.length, 100);
      assert.deepEqual(takePackHistory(manyValues, new Map()).entries[0]!.properties!.level, [
        { value: 100, time: T },
      ]);

      // One post holds at most 100 points (its own pack/post is checked); two of 60 each, both overwritten.
      const points = (from: number) =>
        Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`p${from + i}`, i]));
      const manyPoints = [0, 60, 0, 60].map((from) => subPost('field-0', 'property-post', points(from)));
      const first = takePackHistory(manyPoints, new Map());
      assert.equal(Object.keys(first.entries[0]!.properties!).length, 100);
      assert.equal(Object.keys(takePackHistory(manyPoints, new Map()).entries[0]!.properties!).length, 20);
      // Every message passes the protocol's own limits and shape checks.
      for (const history of [devices, values, first])
        assert.ok(parseHistoryPost(buildHistoryPost('1', history.entries)).ok);
    });

    it('never lets an older value follow a newer one into pack/post: it goes to history instead', () => {
      const newer = subPost('field-0', 'property-post', { level: 2 }, T + 100);
      const sentLive = new Map<string, number>();
      takePack([newer], sentLive);
      const older = { ...subPost('field-0', 'property-post', { level: 1 }, T), seq: newer.seq - 1 };
      assert.equal(overtakenInPack(older, sentLive), true);
      assert.deepEqual(takePack([older], sentLive).entries, []);
      assert.deepEqual(takePackHistory([older], sentLive).entries[0]!.properties, {
        level: [{ value: 1, time: T }],
      });
    });
  });

  describe('scheduler', () => {
    function scheduler(rate = 1): { scheduler: UplinkScheduler; messages: () => UplinkMessage[] } {
      let id = 100;
      const s = new UplinkScheduler(
        rate,
        {
          nextId: () => String(++id),
          topicOf: (kind) => `$sys/GwProd001/gw-1/thing/${kind === 'history-post' ? 'history' : 'pack'}/post`,
          isExpired: () => false,
          expired: noop,
          unbuildable: (_, error) => assert.fail(error),
        },
        0,
      );
      return {
        scheduler: s,
        messages: () => {
          const out: UplinkMessage[] = [];
          for (let now = 0; now < 20_000 && s.hasWork(); now += 250) {
            const next = s.next(now);
            if (next && 'message' in next) out.push(next.message);
          }
          return out;
        },
      };
    }

    it('sends five posts of one property that came at once as one pack/post and one history/post', () => {
      const { scheduler: s, messages } = scheduler();
      const posts = [1, 2, 3, 4, 5].map((level, i) => subPost('field-0', 'property-post', { level }, T + i));
      for (const post of posts) s.add(post);
      const sent = messages();
      assert.deepEqual(
        sent.map((m) => [m.kind, m.topic, m.payload.toString()]),
        [
          [
            'pack-post',
            '$sys/GwProd001/gw-1/thing/pack/post',
            '{"id":"101","version":"1.0","params":[{"identity":{"productID":"SubProd001","deviceName":"field-0"},' +
              `"properties":{"level":{"value":5,"time":${T + 4}}}}]}`,
          ],
          [
            'history-post',
            '$sys/GwProd001/gw-1/thing/history/post',
            '{"id":"102","version":"1.0","params":[{"identity":{"productID":"SubProd001","deviceName":"field-0"},' +
              `"properties":{"level":[{"value":1,"time":${T}},{"value":2,"time":${T + 1}},` +
              `{"value":3,"time":${T + 2}},{"value":4,"time":${T + 3}}]}}]}`,
          ],
        ],
      );
      // Each post is carried by one message, which is the one reported as its id and topic.
      assert.deepEqual(
        posts.map((post) => [post.carriers, post.latestCarrier?.id]),
        [
          [1, '102'],
          [1, '102'],
          [1, '102'],
          [1, '102'],
          [1, '101'],
        ],
      );
      assert.deepEqual(
        sent.map((m) => m.members.length),
        [1, 4],
      );
    });

    it('reports as latest carrier the pack/post of a post whose values went in both messages', () => {
      const { scheduler: s, messages } = scheduler();
      const first = subPost('field-0', 'property-post', { level: 1, power: true }, T);
      const second = subPost('field-0', 'property-post', { level: 2 }, T + 1);
      const third = subPost('field-0', 'property-post', { level: 3 }, T + 2);
      for (const post of [first, second, third]) s.add(post);
      s.add(subPost('field-1', 'property-post', { level: 9 }, T + 3));
      const sent = messages();
      assert.deepEqual(
        sent.map((m) => m.kind),
        ['pack-post', 'history-post'],
      );
      assert.equal(first.carriers, 2);
      assert.equal(first.latestCarrier, sent[0]);
    });

    it('does not send an older post alone after a newer value of its property went live', () => {
      const { scheduler: s } = scheduler();
      // Spend the burst on three posts of another sub-device, each alone.
      for (let i = 0; i < 3; i++) {
        s.add(subPost('field-9', 'property-post', { level: i }));
        assert.equal((s.next(0) as { message: UplinkMessage }).message.alone, true);
      }
      const older = subPost('field-0', 'property-post', { level: 1 }, T);
      const newer = subPost('field-0', 'property-post', { level: 2 }, T + 1);
      s.add(older);
      s.add(newer);
      assert.equal(s.next(0), undefined, 'the budget is spent');
      const pack = (s.next(1000) as { message: UplinkMessage }).message;
      assert.equal(pack.kind, 'pack-post');
      assert.deepEqual(pack.members, [newer]);
      // One post waits and the budget would carry it alone, but its value is older than the live one.
      const next = (s.next(2000) as { message: UplinkMessage }).message;
      assert.equal(next.kind, 'history-post');
      assert.equal(
        next.payload.toString(),
        `{"id":"${next.id}","version":"1.0","params":[{"identity":{"productID":"SubProd001","deviceName":"field-0"},` +
          `"properties":{"level":[{"value":1,"time":${T}}]}}]}`,
      );
    });
  });
});
