import assert from 'node:assert/strict';
import { OneNetRequestError, type RequestOutcome } from '../../src/connection';
import {
  MAX_OUTBOX_BATCH,
  RequestPipeline,
  type PublishFn,
  type RequestEntry,
} from '../../src/connection/request-pipeline';

/**
 * The request pipeline's hot-path behaviour (issue 6): requests submitted while online go out
 * together on the next turn of the event loop, do not show up as queued meanwhile, are treated as
 * not sent if the session goes first, and the pipeline knows how many requests wait for a reply.
 */

interface Published {
  topic: string;
  done: (error?: Error) => void;
}

function pipelineWith(
  policy: 'fail' | 'queue' = 'fail',
  uplinkRate = 0,
): {
  pipeline: RequestPipeline;
  published: Published[];
  publish: PublishFn;
  depthChanges: number[];
} {
  const published: Published[] = [];
  const depthChanges: number[] = [];
  let ids = 1_000_000;
  const pipeline: RequestPipeline = new RequestPipeline(
    { offlinePolicy: policy, queueLimit: 1000, queueMaxAgeMs: 60_000, uplinkRate },
    {
      depthChanged: () => depthChanges.push(pipeline.depth),
      describeOffline: () => 'not connected (test)',
      nextId: () => String(ids++),
      topicOf: (kind) => `merged-${kind}`,
    },
  );
  const publish: PublishFn = (topic, _payload, _qos, done) => published.push({ topic, done });
  return { pipeline, published, publish, depthChanges };
}

let nextId = 1;
function entry(
  settle: { outcomes: RequestOutcome[]; errors: OneNetRequestError[] },
  waitReply = true,
): RequestEntry {
  const id = String(nextId++);
  return {
    id,
    kind: 'property-post',
    topic: `topic-${id}`,
    payload: Buffer.from('{}'),
    qos: 1,
    waitReply,
    timeoutMs: 5000,
    createdAt: Date.now(),
    resolve: (outcome) => settle.outcomes.push(outcome),
    reject: (error) => settle.errors.push(error),
    values: { temperature: { value: 20 } },
    seq: Number(id),
    carriers: 0,
    waiting: false,
    done: false,
    timer: undefined,
  };
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('connection / request pipeline batching', () => {
  it('hands requests submitted in one turn to MQTT.js together on the next turn, in order', async () => {
    const { pipeline, published, publish, depthChanges } = pipelineWith();
    const settled = { outcomes: [], errors: [] };
    pipeline.resume(publish);
    depthChanges.length = 0; // resume() reports the depth once by itself
    const entries = Array.from({ length: 10 }, () => entry(settled));
    for (const e of entries) pipeline.submit(e);
    assert.equal(published.length, 0, 'nothing is published synchronously');
    assert.equal(pipeline.depth, 0, 'requests about to go out are not shown as queued');
    await nextTurn();
    await nextTurn();
    assert.deepEqual(
      published.map((p) => p.topic),
      entries.map((e) => e.topic),
    );
    assert.deepEqual(depthChanges, [], 'no queue-depth status for requests that went straight out');
    pipeline.close();
  });

  it('hands a large burst over in batches, the first at once, so the broker can start on it', async () => {
    const { pipeline, published, publish } = pipelineWith();
    const settled = { outcomes: [] as RequestOutcome[], errors: [] as OneNetRequestError[] };
    pipeline.resume(publish);
    const entries = Array.from({ length: MAX_OUTBOX_BATCH + 72 }, () => entry(settled));
    for (const e of entries.slice(0, MAX_OUTBOX_BATCH - 1)) pipeline.submit(e);
    assert.equal(published.length, 0, 'below a batch, nothing is published synchronously');
    pipeline.submit(entries[MAX_OUTBOX_BATCH - 1]!);
    assert.equal(published.length, MAX_OUTBOX_BATCH, 'a full batch is handed over at once');
    for (const e of entries.slice(MAX_OUTBOX_BATCH)) pipeline.submit(e);
    assert.equal(published.length, MAX_OUTBOX_BATCH, 'the rest wait for the next turn');
    assert.equal(pipeline.depth, 0, 'and are not shown as queued');
    await nextTurn();
    await nextTurn();
    assert.deepEqual(
      published.map((p) => p.topic),
      entries.map((e) => e.topic),
      'every request once, in the order submitted',
    );
    assert.deepEqual(settled.errors, []);
    pipeline.close();
  });

  it('under an uplink rate, hands a large burst over together, so it merges as before', () => {
    const { pipeline, published, publish } = pipelineWith('fail', 1);
    const settled = { outcomes: [] as RequestOutcome[], errors: [] as OneNetRequestError[] };
    pipeline.resume(publish);
    for (let i = 0; i < MAX_OUTBOX_BATCH + 72; i++) pipeline.submit(entry(settled));
    assert.equal(published.length, 0, 'nothing is published synchronously');
    assert.equal(pipeline.depth, 0, 'nothing is shown as queued yet');
    pipeline.close();
  });

  it('treats requests not yet handed over as never sent when the session goes first', async () => {
    const { pipeline, published, publish } = pipelineWith('fail');
    const settled = { outcomes: [] as RequestOutcome[], errors: [] as OneNetRequestError[] };
    pipeline.resume(publish);
    pipeline.submit(entry(settled));
    pipeline.submit(entry(settled));
    pipeline.connectionLost();
    pipeline.applyOfflinePolicy('disconnected', 'connection lost');
    await nextTurn();
    assert.equal(published.length, 0, 'nothing goes to a client that is gone');
    assert.deepEqual(
      settled.errors.map((e) => [e.reason, e.message]),
      [
        ['disconnected', 'not sent: connection lost'],
        ['disconnected', 'not sent: connection lost'],
      ],
    );
  });

  it('keeps them, in order, under the queue policy and sends them after the next resume', async () => {
    const { pipeline, published, publish } = pipelineWith('queue');
    const settled = { outcomes: [] as RequestOutcome[], errors: [] as OneNetRequestError[] };
    pipeline.resume(publish);
    const first = entry(settled);
    const second = entry(settled);
    pipeline.submit(first);
    pipeline.submit(second);
    pipeline.pause('offline');
    assert.equal(pipeline.depth, 2, 'now they are queued');
    await nextTurn();
    assert.equal(published.length, 0);
    pipeline.resume(publish);
    await nextTurn();
    assert.deepEqual(
      published.map((p) => p.topic),
      [first.topic, second.topic],
    );
    assert.deepEqual(settled.errors, []);
    pipeline.close();
  });

  it('rejects requests still waiting to go out with "closed" when closed', async () => {
    const { pipeline, published, publish } = pipelineWith();
    const settled = { outcomes: [] as RequestOutcome[], errors: [] as OneNetRequestError[] };
    pipeline.resume(publish);
    pipeline.submit(entry(settled));
    pipeline.close();
    await nextTurn();
    assert.equal(published.length, 0);
    assert.deepEqual(
      settled.errors.map((e) => e.reason),
      ['closed'],
    );
  });

  it('settles a request not awaited at its PUBACK and an awaited one at its reply', async () => {
    const { pipeline, published, publish } = pipelineWith();
    const settled = { outcomes: [] as RequestOutcome[], errors: [] as OneNetRequestError[] };
    pipeline.resume(publish);
    const awaited = entry(settled, true);
    const notAwaited = entry(settled, false);
    pipeline.submit(awaited);
    pipeline.submit(notAwaited);
    await nextTurn();
    assert.equal(published.length, 2);
    for (const p of published) p.done(); // both PUBACKed: the one not awaited settles now
    assert.deepEqual(
      settled.outcomes.map((o) => [o.id, o.code, o.merged]),
      [[notAwaited.id, 0, 1]],
    );
    assert.equal(
      pipeline.handleReply({ id: notAwaited.id, code: 200, msg: 'success' }, 'property-post-reply'),
      false,
    );
    assert.ok(pipeline.handleReply({ id: awaited.id, code: 200, msg: 'success' }, 'property-post-reply'));
    assert.deepEqual(
      settled.outcomes.map((o) => [o.id, o.code]),
      [
        [notAwaited.id, 0],
        [awaited.id, 200],
      ],
    );
    assert.equal(
      pipeline.handleReply({ id: awaited.id, code: 200, msg: 'success' }, 'property-post-reply'),
      false,
      'a second reply finds nothing',
    );
    pipeline.close();
  });
});
