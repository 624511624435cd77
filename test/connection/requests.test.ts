import assert from 'node:assert/strict';
import { OneNetRequestError, type RequestOutcome } from '../../src/connection';
import { MAX_PAYLOAD_BYTES } from '../../src/protocol';
import { delay, Harness, waitForStatus } from './helpers';

function isRequestError(reason: string, pattern?: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof OneNetRequestError, `expected a OneNetRequestError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}

describe('connection / requests against the emulator', function () {
  let harness: Harness;

  beforeEach(async () => {
    harness = await Harness.start();
  });

  afterEach(async () => {
    await harness.close();
  });

  it('subscribes once to the fixed reply and downlink topics', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    // The post replies join on the first post that waits for one (reply-subscription.test.ts).
    assert.equal((await connection.request('property-post', { t: 1 })).code, 200);
    const prefix = `$sys/${device.ref.productId}/${device.ref.deviceName}/thing/`;
    assert.deepEqual(
      harness.emulator.subscriptions(device.ref).sort(),
      [
        'event/post/reply',
        'history/post/reply',
        'property/get',
        'property/post/reply',
        'property/set',
        // One filter for the replies to desired get and delete.
        'property/desired/+/reply',
        'service/+/invoke',
      ]
        .map((s) => prefix + s)
        .sort(),
    );
  });

  it('posts properties and resolves with the platform reply', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    const outcome = await connection.request('property-post', {
      temp: 21.5,
      label: { value: 'x', time: 1_700_000_000_000 },
    });
    assert.equal(outcome.code, 200);
    assert.equal(outcome.message, 'success');
    assert.equal(outcome.topic, `$sys/${device.ref.productId}/${device.ref.deviceName}/thing/property/post`);
    assert.match(outcome.id, /^\d{1,13}$/);
    assert.ok(outcome.latencyMs >= 0);
    const [uplink] = harness.emulator.uplinks(device.ref);
    assert.equal(uplink!.id, outcome.id);
    assert.equal(uplink!.qos, 1);
    assert.deepEqual(harness.emulator.latestProperties(device.ref).temp!.value, 21.5);
  });

  it('posts events', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    const outcome = await connection.request(
      'event-post',
      { identifier: 'alarm', output: { level: 3 } },
      { time: 1_700_000_000_000 },
    );
    assert.equal(outcome.code, 200);
    const [event] = harness.emulator.eventLog(device.ref);
    assert.deepEqual(event, {
      identifier: 'alarm',
      value: { level: 3 },
      time: 1_700_000_000_000,
      id: outcome.id,
    });
  });

  it('pipelines 100 requests, each resolving with its own reply', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    harness.emulator.setReplyDelay(20);
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        i % 2 === 0
          ? connection.request('property-post', { n: i })
          : connection.request('event-post', { identifier: 'tick', output: { n: i } }),
      ),
    );
    const ids = outcomes.map((outcome) => outcome.id);
    assert.equal(new Set(ids).size, 100, 'every request has its own id');
    const uplinks = harness.emulator.uplinks(device.ref);
    assert.equal(uplinks.length, 100);
    // Each outcome belongs to the uplink carrying the same id, which carried the request's own value.
    for (const [i, outcome] of outcomes.entries()) {
      const uplink = uplinks.find((candidate) => candidate.id === outcome.id)!;
      assert.ok(uplink, `uplink for ${outcome.id}`);
      const params = (uplink.payload as { params: Record<string, { value: unknown }> }).params;
      assert.deepEqual(i % 2 === 0 ? params.n!.value : params.tick!.value, i % 2 === 0 ? i : { n: i });
      assert.equal(outcome.topic.endsWith(i % 2 === 0 ? 'property/post' : 'event/post'), true);
      assert.equal(outcome.code, 200);
    }
  });

  it('rejects with reason "reply" and the code when the platform answers non-200', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    harness.emulator.failReplies(309);
    await assert.rejects(connection.request('property-post', { temp: 1 }), (err: unknown) => {
      isRequestError('reply', /309/)(err);
      const error = err as OneNetRequestError;
      assert.equal(error.code, 309);
      assert.match(error.message, /identifier not exist/);
      assert.match(error.id!, /^\d+$/);
      assert.ok(error.topic!.endsWith('thing/property/post'));
      return true;
    });
  });

  it('rejects invalid input before publishing anything', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    await assert.rejects(
      connection.request('property-post', 'not an object'),
      isRequestError('invalid', /payload must be an object/),
    );
    await assert.rejects(
      connection.request('property-post', { 'bad id!': 1 }),
      isRequestError('invalid', /identifier/),
    );
    await assert.rejects(
      connection.request('property-post', { t: Number.NaN }),
      isRequestError('invalid', /finite/),
    );
    await assert.rejects(
      connection.request('event-post', { identifier: 'e', output: 5 } as never),
      isRequestError('invalid', /object/),
    );
    await assert.rejects(
      connection.request('event-post', 'x' as never),
      isRequestError('invalid', /identifier, output/),
    );
    await assert.rejects(
      connection.request('property-post', { t: 1 }, { qos: 2 as never }),
      isRequestError('invalid', /qos must be 0 or 1/),
    );
    await assert.rejects(
      connection.request('property-post', { t: 1 }, { time: -5 }),
      isRequestError('invalid', /msg\.time/),
    );
    await assert.rejects(
      connection.request('desired-get' as never, {}),
      isRequestError('invalid', /request kind/),
    );
    const huge = 'x'.repeat(MAX_PAYLOAD_BYTES);
    await assert.rejects(
      connection.request('property-post', { blob: huge }),
      isRequestError('invalid', /at most 262144/),
    );
    await delay(50);
    assert.equal(harness.emulator.uplinks(device.ref).length, 0);
    assert.equal(
      harness.emulator.connections().length,
      1,
      'still connected: nothing OneNET disconnects for was sent',
    );
  });

  it('times out when no reply comes, saying the post may have been stored', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    harness.emulator.setReplyDelay(1000);
    const started = Date.now();
    await assert.rejects(
      connection.request('property-post', { t: 1 }, { timeoutMs: 150 }),
      (err: unknown) => {
        isRequestError('timeout', /did not reply within 150 ms; it may have been stored/)(err);
        assert.equal((err as { sent?: boolean }).sent, true, 'it left: a retry may post it twice');
        return true;
      },
    );
    assert.ok(Date.now() - started < 900);
  });

  it('with waitReply false resolves once the publish is handed over (code 0, "not awaited")', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    harness.emulator.setReplyDelay(2000);
    for (const qos of [0, 1] as const) {
      const outcome: RequestOutcome = await connection.request(
        'property-post',
        { q: qos },
        { waitReply: false, qos },
      );
      assert.equal(outcome.code, 0);
      assert.equal(outcome.message, 'not awaited');
    }
    await delay(50);
    assert.deepEqual(
      harness.emulator.uplinks(device.ref).map((uplink) => uplink.qos),
      [0, 1],
    );
  });

  it('sends QoS 0 requests and still matches their replies', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => connection.request('property-post', { i }, { qos: 0 })),
    );
    assert.equal(new Set(outcomes.map((o) => o.id)).size, 20);
    assert.ok(harness.emulator.uplinks(device.ref).every((uplink) => uplink.qos === 0));
  });

  it('pushes a large pipelined batch through without tripping MQTT.js listener warnings', async () => {
    const device = harness.device();
    const connection = await harness.connected(device, { queueLimit: 5000 });
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const statuses: number[] = [];
      const onStatus = (status: { queueDepth: number }): void => {
        statuses.push(status.queueDepth);
      };
      connection.on('status', onStatus);
      const outcomes = await Promise.all(
        Array.from({ length: 3000 }, (_, i) =>
          connection.request('property-post', { i }, { qos: i % 2 ? 1 : 0 }),
        ),
      );
      connection.removeListener('status', onStatus);
      assert.equal(outcomes.length, 3000);
      assert.equal(new Set(outcomes.map((o) => o.id)).size, 3000);
      assert.ok(statuses.length < 50, `status events are throttled (got ${statuses.length})`);
      assert.equal(connection.status().queueDepth, 0);
    } finally {
      process.removeListener('warning', onWarning);
    }
    assert.deepEqual(
      warnings.map((w) => w.message),
      [],
    );
  });

  it('rejects requests after close with reason "closed"', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    await connection.close();
    assert.equal(connection.status().state, 'closed');
    await assert.rejects(connection.request('property-post', { t: 1 }), isRequestError('closed'));
    connection.connect(); // no effect on a closed connection
    assert.equal((await waitForStatus(connection, () => true)).state, 'closed');
  });
});
