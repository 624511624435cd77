import assert from 'node:assert/strict';
import { TokenBucket } from '../../src/connection/token-bucket';
import { UplinkScheduler } from '../../src/connection/uplink-scheduler';
import {
  hasHistory,
  hasLive,
  takeEvents,
  takeHistory,
  takeLatestProperties,
} from '../../src/connection/uplink-merge';
import type { RequestEntry, UplinkMessage } from '../../src/connection/uplink-types';

/** The merge rules of the uplink scheduler, on entries built by hand (issue "Uplink scheduler"). */

function noop(): void {}

let seq = 0;
function entry(
  kind: 'property-post' | 'event-post',
  values: Record<string, unknown>,
  createdAt: number,
  times: Record<string, number> = {},
): RequestEntry {
  const timed: RequestEntry['values'] = {};
  for (const [identifier, value] of Object.entries(values))
    timed[identifier] = times[identifier] === undefined ? { value } : { value, time: times[identifier] };
  const id = String(++seq);
  return {
    id,
    kind,
    topic: kind,
    payload: Buffer.from('{}'),
    qos: 1,
    waitReply: true,
    timeoutMs: 5000,
    createdAt,
    resolve: noop,
    reject: noop,
    values: timed,
    seq: seq,
    carriers: 0,
    waiting: true,
    done: false,
    timer: undefined,
  };
}

describe('connection / uplink merge rules', () => {
  it('posts the newest value of each property live, each with its time, and keeps the overwritten ones for history', () => {
    const first = entry('property-post', { temp: 20, hum: 50 }, 1000);
    const second = entry('property-post', { temp: 21 }, 1100);
    const third = entry('property-post', { temp: 22, power: true }, 1200, { power: 999 });
    const entries = [first, second, third];
    const sentLive = new Map<string, number>();
    const live = takeLatestProperties(entries, sentLive);
    assert.deepEqual(live.params, {
      temp: { value: 22, time: 1200 },
      hum: { value: 50, time: 1000 },
      power: { value: true, time: 999 },
    });
    assert.deepEqual(
      live.members.map((m) => m.id),
      [third.id, first.id],
    );
    assert.equal(hasLive(entries, sentLive), false, 'nothing newer waits');
    assert.equal(hasHistory(entries, [], sentLive), true);
    const history = takeHistory(entries, [], sentLive);
    assert.deepEqual(history.properties, {
      temp: [
        { value: 20, time: 1000 },
        { value: 21, time: 1100 },
      ],
    });
    assert.deepEqual(history.events, {});
    assert.deepEqual(
      history.members.map((m) => m.id),
      [first.id, second.id],
    );
    assert.equal(hasHistory(entries, [], sentLive), false, 'every value went into one of the two');
  });

  it('never lets an older value follow a newer one live: it goes to history instead', () => {
    const older = entry('property-post', { temp: 1 }, 1000);
    const newer = entry('property-post', { temp: 2 }, 1100);
    const sentLive = new Map<string, number>();
    const live = takeLatestProperties([older, newer], sentLive);
    assert.deepEqual(live.params, { temp: { value: 2, time: 1100 } });
    // The older value is still waiting; no newer one came since, yet it must not be posted live.
    assert.equal(hasLive([older], sentLive), false);
    assert.deepEqual(takeLatestProperties([older], sentLive).params, {});
    assert.deepEqual(takeHistory([older], [], sentLive).properties, { temp: [{ value: 1, time: 1000 }] });
  });

  it('never sends an older post alone after a newer value of its property went live', () => {
    let id = 100;
    const scheduler = new UplinkScheduler(
      1,
      {
        nextId: () => String(++id),
        topicOf: (kind) => kind,
        isExpired: () => false,
        expired: noop,
        unbuildable: (_, error) => assert.fail(error),
      },
      0,
    );
    // The burst goes on three posts, each alone; two more then wait for the budget.
    for (let i = 0; i < 3; i++) {
      scheduler.add(entry('property-post', { hum: i }, 0));
      assert.equal((scheduler.next(0) as { message: UplinkMessage }).message.alone, true);
    }
    const older = entry('property-post', { temp: 1 }, 10);
    const newer = entry('property-post', { temp: 2 }, 20);
    scheduler.add(older);
    scheduler.add(newer);
    const live = (scheduler.next(1000) as { message: UplinkMessage }).message;
    assert.deepEqual([live.kind, live.members], ['property-post', [newer]]);
    // The budget would now carry the older post alone, as a property/post that would make it the latest.
    const next = (scheduler.next(2000) as { message: UplinkMessage }).message;
    assert.equal(next.kind, 'history-post');
    assert.equal(
      next.payload.toString(),
      `{"id":"${next.id}","version":"1.0","params":[{"properties":{"temp":[{"value":1,"time":10}]}}]}`,
    );
  });

  it('sends the oldest event of each identifier by event/post and later ones of that identifier by history', () => {
    const a1 = entry('event-post', { alarm: { level: 1 } }, 1000);
    const b1 = entry('event-post', { door: { open: true } }, 1050);
    const a2 = entry('event-post', { alarm: { level: 2 } }, 1100);
    const a3 = entry('event-post', { alarm: { level: 3 } }, 1200);
    const events = [a1, b1, a2, a3];
    const sentLive = new Map<string, number>();
    assert.equal(hasHistory([], events, sentLive), true);
    const history = takeHistory([], events, sentLive);
    assert.deepEqual(history.events, {
      alarm: [
        { value: { level: 2 }, time: 1100 },
        { value: { level: 3 }, time: 1200 },
      ],
    });
    const post = takeEvents(events);
    assert.deepEqual(post.params, {
      alarm: { value: { level: 1 }, time: 1000 },
      door: { value: { open: true }, time: 1050 },
    });
    assert.deepEqual(takeEvents(events).params, {}, 'each event went out once');
  });

  it('keeps to 100 values per property and 100 properties per history message', () => {
    const sentLive = new Map<string, number>();
    const many = Array.from({ length: 150 }, (_, i) => entry('property-post', { temp: i }, 1000 + i));
    const first = takeHistory(many, [], sentLive);
    assert.equal(first.properties.temp!.length, 100);
    assert.deepEqual(first.properties.temp![0], { value: 0, time: 1000 });
    const second = takeHistory(many, [], sentLive);
    assert.equal(second.properties.temp!.length, 49, 'the newest one is not history');
    const wide = Array.from({ length: 2 }, (_, round) =>
      entry(
        'property-post',
        Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`p${i}`, round])),
        2000 + round,
      ),
    );
    const history = takeHistory(wide, [], new Map());
    assert.equal(Object.keys(history.properties).length, 100);
  });

  it('splits values that would pass 256 KB together over several messages', () => {
    const big = 'x'.repeat(100 * 1024);
    const entries = [0, 1, 2].map((i) => entry('property-post', { [`text${i}`]: big }, 1000 + i));
    const sentLive = new Map<string, number>();
    const first = takeLatestProperties(entries, sentLive);
    assert.equal(Object.keys(first.params).length, 2);
    const second = takeLatestProperties(entries, sentLive);
    assert.deepEqual(Object.keys(second.params), ['text2']);
  });
});

describe('connection / uplink token bucket', () => {
  it('lets a burst through at once, then one per 1/rate, and never more than burst + rate × seconds', () => {
    const bucket = new TokenBucket(2, 3, 0);
    let sent = 0;
    for (let now = 0; now <= 10_000; now += 10) while (bucket.take(now)) sent++;
    assert.equal(sent, 3 + 2 * 10);
    assert.equal(bucket.waitMs(10_000), 500);
    assert.equal(new TokenBucket(0, 3, 0).take(0), true);
    assert.equal(new TokenBucket(0, 3, 0).waitMs(0), 0);
    assert.throws(() => new TokenBucket(-1, 3, 0));
  });
});
