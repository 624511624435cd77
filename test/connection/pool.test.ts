import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import {
  ConnectionPool,
  defaultPool,
  OneNetRequestError,
  type DuplicateIdentityEvent,
} from '../../src/connection';
import { delay, eventually, Harness, newKey, openSockets, record, waitForStatus } from './helpers';

const FAST = { tls: false, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } } as const;

function listenerTotals(): Record<string, number> {
  return Object.fromEntries(process.eventNames().map((name) => [String(name), process.listenerCount(name)]));
}

describe('connection / ConnectionPool', function () {
  let harness: Harness;

  beforeEach(async () => {
    harness = await Harness.start();
  });

  afterEach(async () => {
    await harness.close();
  });

  it('gives two users of one identity the same connection: one TCP connection at the broker', async () => {
    const device = harness.device();
    const pool = harness.pool();
    const warnings = record<DuplicateIdentityEvent>(pool, 'duplicate-identity');
    const a = pool.acquire(device.identity, { key: device.key, ...FAST }, 'flow-node-1', 'config-A');
    const b = pool.acquire(device.identity, { key: device.key, ...FAST }, 'flow-node-2', 'config-B');
    assert.equal(a, b);
    assert.equal(pool.connectionCount(), 1);
    await waitForStatus(a, (s) => s.state === 'connected');
    await delay(100);
    assert.equal(harness.emulator.connections().length, 1);
    assert.equal(harness.emulator.stats.connects, 1);
    assert.equal(harness.emulator.stats.kicks, 0);
    warnings.stop();
    assert.deepEqual(warnings.values, [{ identity: device.identity, owners: ['config-A', 'config-B'] }]);
  });

  it('does not warn for several flow nodes of one config node, nor count a user twice', async () => {
    const device = harness.device();
    const pool = harness.pool();
    const warnings = record<DuplicateIdentityEvent>(pool, 'duplicate-identity');
    const a = pool.acquire(device.identity, { key: device.key, ...FAST }, 'n1', 'config-A');
    pool.acquire(device.identity, { key: device.key, ...FAST }, 'n2', 'config-A');
    assert.equal(pool.acquire(device.identity, { key: device.key, ...FAST }, 'n2', 'config-A'), a);
    await pool.release('n1');
    assert.notEqual(a.status().state, 'closed');
    await pool.release('n2'); // acquired twice, released once: it was one user
    assert.equal(a.status().state, 'closed');
    warnings.stop();
    assert.equal(warnings.values.length, 0);
  });

  it('reports differing login settings for one identity as an error that never shows the key', () => {
    const device = harness.device();
    const pool = harness.pool();
    pool.acquire(device.identity, { key: device.key, ...FAST }, 'n1');
    const otherKey = newKey();
    assert.throws(
      () => pool.acquire(device.identity, { key: otherKey, ...FAST }, 'n2'),
      (err: Error) => {
        assert.match(err.message, /already in use with a different key/);
        assert.ok(!err.message.includes(otherKey) && !err.message.includes(device.key));
        return true;
      },
    );
    assert.throws(
      () => pool.acquire(device.identity, { key: device.key, ...FAST, tls: true }, 'n3'),
      /different TLS/,
    );
    assert.throws(
      () => pool.acquire(device.identity, { key: device.key, ...FAST, keepaliveSeconds: 30 }, 'n4'),
      /keepalive/,
    );
    // Behavioural options are the first user's; they do not conflict.
    pool.acquire(
      device.identity,
      { key: device.key, ...FAST, offlinePolicy: 'queue', requestTimeoutMs: 100 },
      'n5',
    );
    assert.equal(pool.connectionCount(), 1);
  });

  it('closes the connection when the last user leaves', async () => {
    const device = harness.device();
    const pool = harness.pool();
    const connection = pool.acquire(device.identity, { key: device.key, ...FAST }, 'n1');
    pool.acquire(device.identity, { key: device.key, ...FAST }, 'n2');
    await waitForStatus(connection, (s) => s.state === 'connected');
    await pool.release('n1');
    assert.equal(connection.status().state, 'connected');
    await pool.release('n2');
    assert.equal(connection.status().state, 'closed');
    assert.equal(pool.connectionCount(), 0);
    await eventually(() => harness.emulator.connections().length === 0, 'the broker to see the session end');
    await pool.release('n2'); // unknown now: ignored
    await assert.rejects(
      connection.request('property-post', { t: 1 }),
      (err: unknown) => (err as OneNetRequestError).reason === 'closed',
    );
  });

  it('moves a user that acquires another identity, closing what it leaves behind', async () => {
    const first = harness.device();
    const second = harness.device();
    const pool = harness.pool();
    const a = pool.acquire(first.identity, { key: first.key, ...FAST }, 'n1');
    const b = pool.acquire(second.identity, { key: second.key, ...FAST }, 'n1');
    assert.notEqual(a, b);
    await waitForStatus(a, (s) => s.state === 'closed');
    assert.equal(pool.connectionCount(), 1);
    await pool.release('n1');
    assert.equal(b.status().state, 'closed');
  });

  it('leaves zero sockets and zero listeners after 200 acquire/release cycles', async () => {
    const device = harness.device();
    const pool = harness.pool();
    const socketsBefore = openSockets();
    const listenersBefore = listenerTotals();
    for (let i = 0; i < 200; i++) {
      const connection = pool.acquire(device.identity, { key: device.key, ...FAST }, `node-${i}`, 'config');
      const onStatus = (): void => undefined;
      connection.on('status', onStatus);
      // Every 10th cycle waits for a full session; the others release while still connecting.
      if (i % 10 === 0) await waitForStatus(connection, (s) => s.state === 'connected');
      connection.removeListener('status', onStatus);
      await pool.release(`node-${i}`);
      assert.equal(connection.status().state, 'closed');
      assert.equal(connection.listenerCount('status') + connection.listenerCount('downlink-error'), 0);
    }
    assert.equal(pool.connectionCount(), 0);
    await eventually(
      () => openSockets() === socketsBefore,
      `sockets back to ${socketsBefore} (now ${openSockets()})`,
    );
    await eventually(() => harness.emulator.connections().length === 0, 'no session left at the broker');
    assert.deepEqual(listenerTotals(), listenersBefore);
    for (const event of pool.eventNames()) assert.equal(pool.listenerCount(event), 0);
  });

  it('replaces a connection that was closed behind its back', async () => {
    const device = harness.device();
    const pool = harness.pool();
    const first = pool.acquire(device.identity, { key: device.key, ...FAST }, 'n1');
    await first.close();
    const second = pool.acquire(device.identity, { key: device.key, ...FAST }, 'n1');
    assert.notEqual(second, first);
    await waitForStatus(second, (s) => s.state === 'connected');
    assert.equal(pool.connectionCount(), 1);
  });

  it('exports one process-wide default pool', () => {
    assert.ok(defaultPool instanceof ConnectionPool);
    assert.equal(defaultPool.connectionCount(), 0);
  });
});

describe('connection / bounded close', function () {
  let harness: Harness;
  let silent: Server | undefined;
  const silentSockets = new Set<Socket>();

  beforeEach(async () => {
    harness = await Harness.start({ uplinkRateLimit: { perSecond: 1 } });
  });

  afterEach(async () => {
    await harness.close();
    for (const socket of silentSockets) socket.destroy();
    silentSockets.clear();
    if (silent) await new Promise<void>((resolve) => silent!.close(() => resolve()));
    silent = undefined;
  });

  it('closeAll() finishes within 2 s against a broker that never answers', async () => {
    silent = createServer((socket) => {
      silentSockets.add(socket); // accepts TCP, never sends a CONNACK
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent!.listen(0, '127.0.0.1', () => resolve()));
    const port = (silent.address() as { port: number }).port;
    const pool = harness.pool();
    const connections = ['m1', 'm2'].map((name) =>
      pool.acquire(
        { host: '127.0.0.1', port, productId: 'P1', deviceName: name },
        { key: newKey(), ...FAST },
        name,
      ),
    );
    await eventually(() => silentSockets.size === 2, 'both connections to reach the silent broker');
    const started = Date.now();
    await pool.closeAll();
    assert.ok(Date.now() - started < 2000, `closeAll took ${Date.now() - started} ms`);
    for (const connection of connections) assert.equal(connection.status().state, 'closed');
    assert.equal(pool.connectionCount(), 0);
  });

  it('in fail mode holds a request only while an attempt runs, and never longer than its timeout', async () => {
    silent = createServer((socket) => {
      silentSockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent!.listen(0, '127.0.0.1', () => resolve()));
    const port = (silent.address() as { port: number }).port;
    const connection = harness.connection(
      {
        identity: { host: '127.0.0.1', port, productId: 'P1', deviceName: 'slow' },
        ref: { productId: 'P1', deviceName: 'slow' },
        key: newKey(),
      },
      { offlinePolicy: 'fail' },
    );
    connection.connect();
    assert.equal(connection.status().state, 'connecting');
    const started = Date.now();
    await assert.rejects(
      connection.request('property-post', { t: 1 }, { timeoutMs: 200 }),
      (err: unknown) => {
        assert.equal((err as OneNetRequestError).reason, 'offline');
        assert.match((err as Error).message, /still not connected to OneNET after 200 ms/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 600);
  });

  it('in fail mode sends a request made while the first attempt is still connecting', async () => {
    const device = harness.device();
    const connection = harness.connection(device, { offlinePolicy: 'fail' });
    connection.connect();
    const outcome = await connection.request('property-post', { early: true });
    assert.equal(outcome.code, 200);
  });

  it('close() finishes within 2 s while PUBACKs are held back, rejecting what was pending', async () => {
    const device = harness.device();
    const connection = await harness.connected(device, { offlinePolicy: 'queue' });
    const pending = Array.from({ length: 20 }, (_, i) =>
      connection.request('property-post', { i }).catch((err: unknown) => err),
    );
    await delay(100);
    const started = Date.now();
    await connection.close();
    assert.ok(Date.now() - started < 2000, `close took ${Date.now() - started} ms`);
    const results = await Promise.all(pending);
    const reasons = results.map((result) =>
      result instanceof OneNetRequestError ? result.reason : 'resolved',
    );
    assert.ok(
      reasons.filter((r) => r === 'closed').length >= 18,
      `most were still pending: ${reasons.join(',')}`,
    );
    assert.ok(reasons.every((r) => r === 'closed' || r === 'resolved'));
  });
});
