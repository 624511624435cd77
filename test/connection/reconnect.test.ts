import assert from 'node:assert/strict';
import { OneNetRequestError, type ConnectionStatus } from '../../src/connection';
import type { ClientConnectedEvent, ClientDisconnectedEvent } from '../../src/emulator';
import { delay, eventually, Harness, newKey, record, waitForStatus } from './helpers';

function reasonOf(err: unknown): string {
  assert.ok(err instanceof OneNetRequestError, `expected a OneNetRequestError, got ${String(err)}`);
  return err.reason;
}

describe('connection / reconnects, tokens and offline policies', function () {
  let harness: Harness;

  beforeEach(async () => {
    harness = await Harness.start();
  });

  afterEach(async () => {
    await harness.close();
  });

  it('signs a new token for every reconnect', async () => {
    const device = harness.device();
    const logins = record<ClientConnectedEvent>(harness.emulator, 'client-connected');
    const connection = await harness.connected(device);
    harness.emulator.dropDevice(device.ref);
    await waitForStatus(connection, (s) => s.state !== 'connected');
    await waitForStatus(connection, (s) => s.state === 'connected');
    logins.stop();
    assert.equal(logins.values.length, 2);
    assert.notEqual(logins.values[0]!.token, logins.values[1]!.token);
    assert.equal((await connection.request('property-post', { t: 1 })).code, 200);
  });

  it('reconnects cleanly with a fresh token when the platform expires the token mid-session', async () => {
    const device = harness.device();
    const logins = record<ClientConnectedEvent>(harness.emulator, 'client-connected');
    const connection = await harness.connected(device);
    harness.emulator.expireTokens(device.ref); // revokes the token and disconnects the session
    await waitForStatus(connection, (s) => s.state !== 'connected');
    await waitForStatus(connection, (s) => s.state === 'connected');
    logins.stop();
    assert.equal(harness.emulator.stats.authFailures, 0, 'the expired token is never offered again');
    assert.equal(new Set(logins.values.map((login) => login.token)).size, 2);
    assert.equal((await connection.request('property-post', { t: 2 })).code, 200);
  });

  it('renews a short-lived token before it expires, without failing a request', async () => {
    const device = harness.device();
    const logins = record<ClientConnectedEvent>(harness.emulator, 'client-connected');
    const drops = record<ClientDisconnectedEvent>(harness.emulator, 'client-disconnected');
    const connection = await harness.connected(device, { tokenTtlSeconds: 2, offlinePolicy: 'fail' });
    const results: Array<Promise<unknown>> = [];
    const until = Date.now() + 3200;
    while (Date.now() < until) {
      results.push(connection.request('property-post', { n: results.length }));
      await delay(25);
    }
    const settled = await Promise.allSettled(results);
    logins.stop();
    drops.stop();
    const failures = settled
      .filter((r) => r.status === 'rejected')
      .map((r) => String((r as PromiseRejectedResult).reason));
    assert.deepEqual(failures, [], 'no request fails across renewals');
    assert.ok(logins.values.length >= 2, `renewed at least once (logins: ${logins.values.length})`);
    assert.equal(new Set(logins.values.map((login) => login.token)).size, logins.values.length);
    for (const drop of drops.values)
      assert.doesNotMatch(drop.reason, /expire/i, 'the platform never had to drop an expired session');
    assert.equal(harness.emulator.stats.kicks, 0);
  });

  it('after a broker restart delivers every queued QoS 1 request exactly once', async () => {
    const device = harness.device();
    const connection = await harness.connected(device, { offlinePolicy: 'queue' });
    await harness.emulator.stopListening();
    await waitForStatus(connection, (s) => s.state !== 'connected');
    const queued = Array.from({ length: 30 }, (_, i) => connection.request('property-post', { n: i }));
    await waitForStatus(connection, (s) => s.queueDepth === 30, 1000);
    await delay(300); // a few failed reconnect attempts while the broker is down
    const restartedAt = Date.now();
    await harness.emulator.startListening();
    const outcomes = await Promise.all(queued);
    assert.ok(Date.now() - restartedAt < 1500, 'the broker is reached again within the bounded backoff');
    const ids = outcomes.map((outcome) => outcome.id);
    const uplinkIds = harness.emulator.uplinks(device.ref).map((uplink) => uplink.id);
    assert.deepEqual(
      [...uplinkIds].sort(),
      [...ids].sort(),
      'each queued request reached the platform exactly once',
    );
    // In order: the queue is sent first-in-first-out.
    assert.deepEqual(uplinkIds, ids);
    assert.equal(connection.status().queueDepth, 0);
  });

  it('re-sends requests whose PUBACK was lost in a drop, so none is lost or doubled', async () => {
    await harness.close();
    harness = await Harness.start({ uplinkRateLimit: { perSecond: 5 } }); // holds PUBACKs beyond 5/s
    const device = harness.device();
    const connection = await harness.connected(device, { offlinePolicy: 'queue', requestTimeoutMs: 8000 });
    const requests = Array.from({ length: 8 }, (_, i) => connection.request('property-post', { n: i }));
    await Promise.all(requests.slice(0, 5));
    harness.emulator.dropDevice(device.ref); // the 3 held publishes die with the session, unacknowledged
    const outcomes = await Promise.all(requests);
    const uplinkIds = harness.emulator.uplinks(device.ref).map((uplink) => uplink.id);
    assert.equal(uplinkIds.length, 8);
    assert.deepEqual([...uplinkIds].sort(), outcomes.map((outcome) => outcome.id).sort());
  });

  it('in fail mode rejects at once while offline, and fails what was in flight when the link dropped', async () => {
    const device = harness.device();
    const connection = await harness.connected(device, {
      offlinePolicy: 'fail',
      reconnect: { initialDelayMs: 2000, maxDelayMs: 2000 },
    });
    harness.emulator.setReplyDelay(500);
    const inFlight = connection.request('property-post', { t: 1 });
    await eventually(() => harness.emulator.uplinks(device.ref).length === 1, 'the first post to arrive');
    harness.emulator.dropDevice(device.ref);
    await assert.rejects(inFlight, (err: unknown) => {
      assert.equal(reasonOf(err), 'disconnected');
      assert.match((err as Error).message, /received the request but before it replied/);
      return true;
    });
    await waitForStatus(connection, (s) => s.state === 'disconnected');
    const started = Date.now();
    await assert.rejects(connection.request('property-post', { t: 2 }), (err: unknown) => {
      assert.equal(reasonOf(err), 'offline');
      assert.match((err as Error).message, /not connected to OneNET/);
      return true;
    });
    assert.ok(Date.now() - started < 100, 'rejected at once');
  });

  it('in queue mode refuses posts beyond the queue limit at once and expires old ones, with clear errors', async () => {
    const device = harness.device();
    await harness.emulator.stopListening(); // nothing to connect to
    const connection = harness.connection(device, {
      offlinePolicy: 'queue',
      queueLimit: 3,
      queueMaxAgeMs: 300,
    });
    connection.connect();
    const requests = Array.from({ length: 5 }, (_, i) =>
      connection.request('property-post', { n: i }).catch((err: unknown) => err),
    );
    // The queued ones stay: nothing accepted is dropped to make room.
    const [fourth, fifth] = await Promise.all(requests.slice(3));
    for (const err of [fourth, fifth]) {
      assert.equal(reasonOf(err), 'queue-overflow');
      assert.match((err as Error).message, /offline queue is full \(3 requests/);
      assert.equal((err as { sent?: boolean }).sent, false);
    }
    await waitForStatus(connection, (s) => s.queueDepth === 3 && s.busy === true, 1000);
    const rest = await Promise.all(requests.slice(0, 3));
    for (const err of rest) {
      assert.equal(reasonOf(err), 'queue-expired');
      assert.match((err as Error).message, /waited longer than 300 ms/);
    }
    await waitForStatus(connection, (s) => s.queueDepth === 0, 1000);
    assert.equal(harness.emulator.uplinks().length, 0);
  });

  it('close() rejects queued requests with "closed" and ends on an empty queue', async () => {
    const device = harness.device();
    await harness.emulator.stopListening();
    const connection = harness.connection(device, { offlinePolicy: 'queue' });
    connection.connect();
    const queued = [1, 2, 3].map((n) =>
      connection.request('property-post', { n }).catch((err: unknown) => err),
    );
    await waitForStatus(connection, (s) => s.queueDepth === 3, 1000);
    const statuses = record<ConnectionStatus>(connection, 'status');
    await connection.close();
    statuses.stop();
    for (const err of await Promise.all(queued)) assert.equal(reasonOf(err), 'closed');
    const last = statuses.values.at(-1)!;
    assert.equal(last.state, 'closed');
    assert.equal(last.queueDepth, 0);
    assert.deepEqual(connection.status().queueDepth, 0);
  });

  it('stops fast on bad credentials and reports auth failed without a retry storm', async () => {
    const device = harness.device();
    const statuses = [] as ConnectionStatus[];
    const connection = harness.connection(
      { ...device, key: newKey() },
      { reconnect: { initialDelayMs: 10, maxDelayMs: 20, authFailedDelayMs: 600 } },
    );
    connection.on('status', (status: ConnectionStatus) => statuses.push(status));
    connection.connect();
    const failed = await waitForStatus(connection, (s) => s.state === 'auth-failed');
    assert.match(failed.lastError!, /^auth failed/);
    await assert.rejects(connection.request('property-post', { t: 1 }), (err: unknown) => {
      assert.equal(reasonOf(err), 'offline');
      assert.match((err as Error).message, /auth failed/);
      return true;
    });
    await delay(1500);
    const attempts = harness.emulator.stats.authFailures;
    assert.ok(
      attempts >= 2 && attempts <= 4,
      `${attempts} logins in 1.5 s (a 10 ms backoff would make ~100)`,
    );
    assert.ok(
      statuses.some((s) => s.state === 'connecting'),
      'it does keep trying, slowly',
    );
  });

  it('backs off when two clients with one identity kick each other', async () => {
    const device = harness.device();
    const options = { reconnect: { initialDelayMs: 40, maxDelayMs: 100, kickedDelayMs: 800 } };
    const a = harness.connection(device, options);
    const b = harness.connection(device, options);
    const kickedStatuses: ConnectionStatus[] = [];
    for (const connection of [a, b]) {
      connection.on('status', (status: ConnectionStatus) => {
        if (status.kicked) kickedStatuses.push(status);
      });
    }
    a.connect();
    b.connect();
    await delay(3000);
    const kicks = harness.emulator.stats.kicks;
    assert.ok(kicks >= 2, `they did kick each other (${kicks})`);
    assert.ok(kicks <= 10, `${kicks} kicks in 3 s; without backing off it would be ~40`);
    assert.ok(kickedStatuses.length > 0);
    assert.match(kickedStatuses[0]!.lastError!, /^kicked: another client uses this device/);
  });

  it('reports every state change as a status event', async () => {
    const device = harness.device();
    const connection = harness.connection(device, { reconnect: { kickWindowMs: 1 } });
    const statuses = record<ConnectionStatus>(connection, 'status');
    connection.connect();
    await waitForStatus(connection, (s) => s.state === 'connected');
    await delay(20);
    harness.emulator.dropDevice(device.ref);
    await waitForStatus(connection, (s) => s.state === 'disconnected');
    await waitForStatus(connection, (s) => s.state === 'connected');
    await connection.close();
    statuses.stop();
    assert.deepEqual(
      statuses.values.map((s) => s.state),
      ['connecting', 'connected', 'disconnected', 'connecting', 'connected', 'closed'],
    );
    const dropped = statuses.values[2]!;
    assert.match(dropped.lastError!, /^connection lost/);
    assert.equal(dropped.kicked, undefined, 'a drop long after login (here: > 1 ms) is not a kick');
    assert.equal(statuses.values[4]!.lastError, undefined, 'a good session clears the last error');
  });

  it('survives a status listener that throws', async () => {
    const device = harness.device();
    const connection = harness.connection(device);
    const warnings = record<Error>(process, 'warning');
    connection.on('status', () => {
      throw new Error('listener bug');
    });
    connection.connect();
    await eventually(() => connection.status().state === 'connected', 'connected');
    assert.equal((await connection.request('property-post', { t: 1 })).code, 200);
    await delay(10);
    warnings.stop();
    connection.removeAllListeners('status');
    assert.ok(warnings.values.some((w) => /listener bug/.test(w.message)));
  });

  it('disconnect() stays down until connect()', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    const connects = harness.emulator.stats.connects;
    await connection.disconnect();
    assert.equal(connection.status().state, 'disconnected');
    await eventually(() => harness.emulator.connections().length === 0, 'the session to end');
    await delay(300);
    assert.equal(harness.emulator.stats.connects, connects, 'no reconnect after a requested disconnect');
    await assert.rejects(
      connection.request('property-post', { t: 1 }),
      (err: unknown) => reasonOf(err) === 'offline',
    );
    connection.connect();
    await waitForStatus(connection, (s) => s.state === 'connected');
    assert.equal((await connection.request('property-post', { t: 1 })).code, 200);
  });

  it('keeps one subscription set and one delivery per downlink across reconnects', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    let calls = 0;
    connection.onDownlink((request) => {
      calls++;
      void connection.reply(request, 200);
    });
    for (let i = 0; i < 3; i++) {
      harness.emulator.dropDevice(device.ref);
      await waitForStatus(connection, (s) => s.state !== 'connected');
      await waitForStatus(connection, (s) => s.state === 'connected');
    }
    // Two exact topics, one filter for both desired replies, one for every service.
    assert.equal(harness.emulator.subscriptions(device.ref).length, 4);
    // And the three post replies, once this session's first post waits for one.
    assert.equal((await connection.request('property-post', { t: 1 })).code, 200);
    assert.equal(harness.emulator.subscriptions(device.ref).length, 7);
    const reply = await harness.emulator.setProperty(device.ref, { power: true });
    assert.equal(reply.code, 200);
    await delay(50);
    assert.equal(calls, 1);
  });
});
