import assert from 'node:assert/strict';
import type { OneNetRequestError, RequestOutcome } from '../../src/connection';
import { RequestPipeline, type RequestEntry } from '../../src/connection/request-pipeline';
import { packPostEntry } from './entries';

/**
 * offlinePolicy 'store': a request that reaches the pipeline while there is no session is never
 * refused as offline; it goes to the store (the `divert` hook). A gateway's sub-device's post
 * released after its binding ended with the gateway's session takes this path.
 */

function entry(settled: { outcomes: RequestOutcome[]; errors: OneNetRequestError[] }): RequestEntry {
  return packPostEntry({
    resolve: (outcome) => settled.outcomes.push(outcome),
    reject: (error) => settled.errors.push(error),
  });
}

function offlinePipeline(
  policy: 'fail' | 'store',
  divert: (entry: RequestEntry) => boolean,
): RequestPipeline {
  // A new pipeline has no session: it is offline until resume().
  return new RequestPipeline(
    { offlinePolicy: policy, queueLimit: 1000, queueMaxAgeMs: 60_000, uplinkRate: 0 },
    {
      depthChanged: () => undefined,
      describeOffline: () => 'not connected (test)',
      nextId: () => '2',
      topicOf: (kind) => `merged-${kind}`,
      divert,
    },
  );
}

describe('connection / request pipeline under offlinePolicy store', () => {
  it('stores a request submitted while offline instead of failing it', () => {
    const settled = { outcomes: [], errors: [] };
    const diverted: RequestEntry[] = [];
    const post = entry(settled);
    offlinePipeline('store', (taken) => diverted.push(taken) > 0).submit(post);
    assert.deepEqual(diverted, [post]);
    assert.deepEqual(settled.errors, [], 'not refused as offline');
  });

  it('fails it as offline when the store does not take it, and under offlinePolicy fail', () => {
    for (const [policy, divert] of [
      ['store', () => false],
      ['fail', () => true],
    ] as const) {
      const settled = { outcomes: [] as RequestOutcome[], errors: [] as OneNetRequestError[] };
      offlinePipeline(policy, divert).submit(entry(settled));
      assert.deepEqual(
        settled.errors.map((error) => [error.reason, error.message]),
        [['offline', 'not sent: not connected (test)']],
        policy,
      );
    }
  });
});
