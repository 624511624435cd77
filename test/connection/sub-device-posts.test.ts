import assert from 'node:assert/strict';
import type { OneNetRequestError } from '../../src/connection/errors';
import {
  admitPost,
  failHeld,
  releaseHeld,
  storeHeld,
  type PostHooks,
} from '../../src/connection/sub-device-posts';
import type { SubDeviceRecord } from '../../src/connection/sub-devices';
import type { RequestEntry } from '../../src/connection/uplink-types';
import { packPostEntry } from './entries';

/**
 * Posts of a sub-device that is being bound wait in its record; every change of that wait is
 * reported (heldChanged), so its nodes can show how many wait (SubDeviceStatus.waiting), and its
 * gateway's nodes how many wait for all its sub-devices (ConnectionStatus.subDevicesWaiting).
 */

function post(timeoutMs = 5000): RequestEntry {
  return packPostEntry({ timeoutMs });
}

function binding(): SubDeviceRecord {
  // admitPost reads the identity, the status and the held list only.
  return {
    identity: { productID: 'SubProd001', deviceName: 'field-0' },
    status: { state: 'binding' },
    held: [],
  } as unknown as SubDeviceRecord;
}

describe('connection / posts waiting for a sub-device binding', () => {
  function hooks(): PostHooks & {
    counts: number[];
    submitted: RequestEntry[];
    failed: OneNetRequestError[];
  } {
    const counts: number[] = [];
    let total = 0;
    const submitted: RequestEntry[] = [];
    const failed: OneNetRequestError[] = [];
    return {
      counts,
      submitted,
      failed,
      submit: (entry) => submitted.push(entry),
      fail: (entry, error) => {
        clearTimeout(entry.timer);
        entry.done = true;
        failed.push(error);
      },
      gatewayState: () => 'connected',
      offlinePolicy: 'fail',
      // The gateway's status adds up the changes (SubDevices.waiting): they must match what is held.
      heldChanged: (record, change) => {
        total += change;
        assert.equal(total, record.held.length, 'the changes add up to what is held');
        counts.push(total);
      },
    };
  }

  it('reports each post that starts waiting, and the release of all of them', () => {
    const h = hooks();
    const record = binding();
    for (let i = 0; i < 3; i++) admitPost(record, post(), h);
    assert.deepEqual(h.counts, [1, 2, 3]);
    releaseHeld(record, h);
    assert.deepEqual(h.counts, [1, 2, 3, 0]);
    assert.equal(h.submitted.length, 3);
    releaseHeld(record, h);
    assert.deepEqual(h.counts, [1, 2, 3, 0], 'nothing held, nothing reported');
  });

  it('reports a post whose timeout ended its wait, and the failure of the rest', async () => {
    const h = hooks();
    const record = binding();
    admitPost(record, post(30), h);
    admitPost(record, post(60_000), h);
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error('the first post did not time out')), 5000);
      const check = setInterval(() => {
        if (h.failed.length === 0) return;
        clearInterval(check);
        clearTimeout(deadline);
        resolve();
      }, 5);
    });
    assert.deepEqual(h.counts, [1, 2, 1]);
    assert.equal(h.failed[0]!.reason, 'busy', 'never sent: not a timeout, which may have arrived');
    assert.equal(h.failed[0]!.sent, false);
    failHeld(record, h.failed[0]!, h);
    assert.deepEqual(h.counts, [1, 2, 1, 0]);
    assert.equal(h.failed.length, 2);
  });

  it("hands the held posts to the store (offlinePolicy 'store'), keeping the one it does not take", () => {
    const h = hooks();
    const record = binding();
    const posts = [post(60_000), post(60_000), post(60_000)];
    for (const entry of posts) admitPost(record, entry, h);
    const refused = posts[1]!;
    const stored: RequestEntry[] = [];
    h.store = (entry) => {
      if (entry === refused) return false;
      clearTimeout(entry.timer);
      entry.done = true;
      stored.push(entry);
      return true;
    };
    storeHeld(record, h);
    assert.deepEqual(stored, [posts[0], posts[2]]);
    assert.deepEqual(record.held, [refused], 'the one the store did not take still waits');
    assert.deepEqual(h.counts, [1, 2, 3, 1]);
    assert.deepEqual(h.failed, [], 'none failed');
    storeHeld(record, h);
    assert.deepEqual(h.counts, [1, 2, 3, 1], 'nothing taken, nothing reported');
    failHeld(record, new Error('end') as OneNetRequestError, h);
  });
});
