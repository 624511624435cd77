import assert from 'node:assert/strict';
import { OneNetRequestError, type DeviceConnection, type RequestOutcome } from '../../src/connection';
import type { DeviceRef, OneNetEmulator } from '../../src/emulator';
import { delay, Harness, waitForStatus } from './helpers';

/**
 * The uplink scheduler against the emulator (issue "Uplink scheduler"): the budget holds under a
 * flood of posts, events and replies together; merged messages carry every value with the time it
 * was accepted; every request settles once; waiting is bounded; a flow within the budget sees the
 * first release's messages; and a banned device backs off. The emulator disconnects a device on the
 * first publish beyond its allowance (mode 'disconnect'), so "no violation, no drop" is the proof.
 */

const CLIENT_BURST = 3;

interface Sent {
  values: Record<string, number>;
  acceptedFrom: number;
  acceptedTo: number;
  promise: Promise<RequestOutcome>;
}

function post(connection: DeviceConnection, values: Record<string, number>): Sent {
  const acceptedFrom = Date.now();
  const promise = connection.request('property-post', values);
  return { values, acceptedFrom, acceptedTo: Date.now(), promise };
}

/** Every value the emulator stored for `identifier`, with its time, in arrival order. */
function stored(
  emulator: OneNetEmulator,
  ref: DeviceRef,
  identifier: string,
): Array<{ value: unknown; time: number }> {
  return emulator.propertyHistory(ref, identifier).map(({ value, time }) => ({ value, time }));
}

/** The most uplinks the emulator received in any window of `windowMs`. */
function mostInWindow(times: number[], windowMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('connection / uplink scheduler against the emulator', function () {
  this.timeout(60_000);
  let harness: Harness;

  afterEach(async () => {
    await harness.close();
  });

  for (const rate of [1, 5]) {
    it(`keeps to ${rate}/s under a flood of posts, events and replies, storing every value with its time`, async () => {
      harness = await Harness.start({
        uplinkRateLimit: { perSecond: rate, burst: CLIENT_BURST, mode: 'disconnect' },
      });
      const device = harness.device();
      const connection = await harness.connected(device, { uplinkRate: rate, requestTimeoutMs: 8000 });
      let replies = 0;
      connection.onDownlink((request) => {
        replies++;
        void connection.reply(request, 200);
      });
      let drops = 0;
      connection.on('status', (status: { state: string }) => {
        if (status.state !== 'connected') drops++;
      });
      const posts: Sent[] = [];
      const events: Array<Promise<RequestOutcome>> = [];
      const platformReplies: Array<Promise<{ code: number }>> = [];
      const start = Date.now();
      for (let i = 0; i < 40; i++) {
        posts.push(post(connection, { temp: i, hum: 100 + i }));
        if (i % 4 === 0)
          events.push(connection.request('event-post', { identifier: 'alarm', output: { n: i } }));
        if (i % 10 === 5) platformReplies.push(harness.emulator.setProperty(device.ref, { power: i }));
        await delay(100);
      }
      const outcomes = await Promise.all(posts.map((p) => p.promise));
      const eventOutcomes = await Promise.all(events);
      const platform = await Promise.all(platformReplies);
      const elapsedS = (Date.now() - start) / 1000;

      assert.deepEqual(harness.emulator.rateViolations(device.ref), [], 'never beyond the allowance');
      assert.equal(drops, 0, 'never disconnected');
      const uplinks = harness.emulator.uplinks(device.ref).map((u) => u.receivedAt);
      assert.ok(
        uplinks.length <= CLIENT_BURST + rate * Math.ceil(elapsedS) + 1,
        `${uplinks.length} uplinks in ${elapsedS.toFixed(1)} s`,
      );
      assert.ok(mostInWindow(uplinks, 1000) <= CLIENT_BURST + rate, 'a second holds at most burst + rate');
      assert.ok(uplinks.length < posts.length + events.length, 'posts were merged into fewer messages');

      // Every value stored once, in order, with the time its post was accepted.
      for (const identifier of ['temp', 'hum'] as const) {
        const values = stored(harness.emulator, device.ref, identifier);
        const expected = posts.map((p) => p.values[identifier]);
        assert.deepEqual(
          [...values].sort((a, b) => a.time - b.time).map((v) => v.value),
          expected,
          `${identifier}: every value once`,
        );
        // A post sent alone carries no time (the first release's message): OneNET stamps its arrival.
        // A merged one carries the time it was accepted.
        for (const [i, p] of posts.entries()) {
          const value = values.find((v) => v.value === p.values[identifier])!;
          const within =
            outcomes[i]!.merged > 1
              ? value.time >= p.acceptedFrom && value.time <= p.acceptedTo
              : value.time >= p.acceptedFrom && value.time <= p.acceptedTo + 1000;
          assert.ok(within, `${identifier}[${i}] keeps its time`);
        }
      }
      const eventLog = harness.emulator.eventLog(device.ref).filter((e) => e.identifier === 'alarm');
      assert.equal(eventLog.length, events.length, 'every event once');
      assert.deepEqual(
        platform.map((r) => r.code),
        platform.map(() => 200),
        'replies went out within 5 s',
      );
      assert.equal(replies, platformReplies.length);

      // Each post settled with the message that carried its newest values.
      const byId = new Map(harness.emulator.uplinks(device.ref).map((u) => [u.id, u]));
      for (const outcome of [...outcomes, ...eventOutcomes]) {
        assert.equal(outcome.code, 200);
        assert.ok(byId.has(outcome.id), `outcome ${outcome.id} names a message OneNET received`);
        assert.ok(outcome.merged >= 1);
      }
      assert.ok(
        outcomes.some((o) => o.merged > 1),
        'some posts were reported merged',
      );
      assert.ok(
        harness.emulator.uplinks(device.ref).some((u) => u.kind === 'history-post'),
        'overwritten values went by history post',
      );
    });
  }

  it('sends each post of a flow within the budget alone, exactly as the first release did', async () => {
    harness = await Harness.start({
      uplinkRateLimit: { perSecond: 10, burst: CLIENT_BURST, mode: 'disconnect' },
    });
    const device = harness.device();
    const connection = await harness.connected(device, { uplinkRate: 10 });
    const outcomes: RequestOutcome[] = [];
    // Paced as a flow within the budget is: one post per 1/rate (the gap is the pace, not a wait for absence).
    for (let i = 0; i < 5; i++) {
      const acceptedAt = Date.now();
      outcomes.push(await connection.request('property-post', { temp: i }));
      await delay(Math.max(0, acceptedAt + 120 - Date.now()));
    }
    const uplinks = harness.emulator.uplinks(device.ref);
    assert.equal(uplinks.length, 5);
    for (const [i, uplink] of uplinks.entries()) {
      assert.equal(uplink.kind, 'property-post');
      assert.equal(
        uplink.payloadBytes.toString(),
        JSON.stringify({ id: outcomes[i]!.id, version: '1.0', params: { temp: { value: i } } }),
      );
      assert.equal(outcomes[i]!.merged, 1);
    }
    assert.deepEqual(harness.emulator.rateViolations(device.ref), []);
  });

  it('gives a post that waited for the budget and then went alone the time it was accepted', async () => {
    harness = await Harness.start();
    const device = harness.device();
    const connection = await harness.connected(device, { uplinkRate: 2 });
    for (let i = 0; i < CLIENT_BURST; i++) await connection.request('property-post', { n: i }); // the burst
    const acceptedFrom = Date.now();
    const outcome = await connection.request('property-post', { n: 99 }); // waits ~0.5 s, nothing to merge with
    const acceptedTo = Date.now();
    assert.equal(outcome.merged, 1);
    const uplink = harness.emulator.uplinks(device.ref).find((u) => u.id === outcome.id)!;
    const sent = (uplink.payload as { params: { n: { value: number; time?: number } } }).params.n;
    assert.equal(sent.value, 99);
    assert.ok(
      sent.time !== undefined && sent.time >= acceptedFrom && sent.time <= acceptedTo,
      JSON.stringify(sent),
    );
    assert.ok(uplink.receivedAt - sent.time >= 200, 'it did wait for the budget');
  });

  it('fails posts that wait past their timeout as busy, and never sends them later', async () => {
    harness = await Harness.start();
    const device = harness.device();
    // One message every 4 s: once the burst is spent, posts wait far longer than their 300 ms timeout.
    const connection = await harness.connected(device, { uplinkRate: 0.25, requestTimeoutMs: 300 });
    for (let i = 0; i < 3; i++) await connection.request('property-post', { seq: -1 - i });
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, (_, i) => connection.request('property-post', { seq: i })),
    );
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [[i, r.reason as OneNetRequestError] as const] : [],
    );
    assert.equal(failed.length, 4);
    for (const [, error] of failed) {
      assert.ok(error instanceof OneNetRequestError);
      assert.equal(error.reason, 'busy');
      assert.equal(error.sent, false);
      assert.match(error.message, /not sent within 300 ms/);
    }
    // A later post goes out with the next message the budget allows; the failed values must not.
    await connection.request('property-post', { seq: 100 }, { timeoutMs: 10_000 });
    const storedValues = stored(harness.emulator, device.ref, 'seq').map((v) => v.value);
    for (const [i] of failed) assert.ok(!storedValues.includes(i), `failed post ${i} was not sent`);
    assert.ok(storedValues.includes(100));
  });

  it('refuses posts beyond the queue limit at once, while paced, as busy', async () => {
    harness = await Harness.start();
    const device = harness.device();
    const connection = await harness.connected(device, { uplinkRate: 1, queueLimit: 5 });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => connection.request('property-post', { n: i })),
    );
    const reasons = results.map((r) =>
      r.status === 'rejected' ? (r.reason as OneNetRequestError).reason : 'ok',
    );
    assert.equal(reasons.filter((r) => r === 'ok').length, 5);
    assert.equal(reasons.filter((r) => r === 'busy').length, 15);
  });

  it('backs off after a ban instead of retrying every second', async () => {
    harness = await Harness.start({ uplinkRateLimit: { perSecond: 1, mode: 'ban', banMs: 60_000 } });
    const device = harness.device();
    // Unpaced, so the burst trips the ban.
    const connection = await harness.connected(device, {
      uplinkRate: 0,
      reconnect: { authFailedDelayMs: 60_000 },
    });
    await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => connection.request('property-post', { n: i })),
    );
    const refused = await waitForStatus(connection, (s) => s.state === 'auth-failed', 10_000);
    assert.equal(refused.state, 'auth-failed');
    assert.equal(harness.emulator.rateViolations(device.ref)[0]?.action, 'banned');
    const error = await connection.request('property-post', { n: 99 }).then(
      () => assert.fail('posted while banned'),
      (err: OneNetRequestError) => err,
    );
    const nextIn = Number(/next attempt in (\d+) s/.exec(error.message)?.[1]);
    assert.ok(nextIn >= 30, `next attempt in ${nextIn} s: ${error.message}`);
  });
});
