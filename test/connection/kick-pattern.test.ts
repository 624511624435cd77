import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import type { ConnectionStatus } from '../../src/connection';
import { deviceResource, signToken } from '../../src/protocol';
import { delay, Harness, record, waitForStatus, type TestDevice } from './helpers';

/**
 * Kicks are told from network drops by their pattern (the client cannot see why a socket closed).
 * Time runs 20 times faster than in the field: the shipped 1 s / 10 s / 30 s delays become 50 ms /
 * 500 ms / 1.5 s, ten minutes become 30 s. The kick window is wider than a 20th of 3 s so a loaded
 * machine's slow logins still end inside it.
 */
const SCALE = 20;
const RECONNECT = {
  initialDelayMs: 1000 / SCALE,
  maxDelayMs: 10_000 / SCALE,
  kickedDelayMs: 30_000 / SCALE,
  kickWindowMs: 400,
};
const TEN_MINUTES = (10 * 60_000) / SCALE;

/** A deterministic PRNG (mulberry32), so a failure can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('connection / kicks told from network drops by their pattern', function () {
  this.timeout(90_000);
  let harness: Harness;

  beforeEach(async () => {
    harness = await Harness.start();
  });
  afterEach(async () => {
    await harness.close();
  });

  /** Another client with the device's credentials that logs in again `delayMs` after every kick. */
  function twin(device: TestDevice, delayMs: number): mqtt.MqttClient {
    return mqtt.connect({
      host: '127.0.0.1',
      port: harness.emulator.port,
      protocolVersion: 4,
      clientId: device.ref.deviceName,
      username: device.ref.productId,
      password: signToken({
        key: device.key,
        res: deviceResource(device.ref.productId, device.ref.deviceName),
        et: Math.floor(Date.now() / 1000) + 3600,
      }),
      keepalive: 60,
      reconnectPeriod: delayMs,
    });
  }

  it('with a twin that logs in 1 s after every kick: at most 10 logins in 10 minutes, then it waits, until connect()', async () => {
    const device = harness.device();
    const connection = harness.connection(device, { reconnect: RECONNECT });
    const statuses = record<ConnectionStatus>(connection, 'status');
    const kickedEvents = record<{ reason: string }>(connection, 'kicked');
    connection.connect();
    await waitForStatus(connection, (s) => s.state === 'connected');
    const other = twin(device, 1000 / SCALE);
    other.on('error', () => undefined);
    try {
      await delay(TEN_MINUTES);
      const logins = statuses.values.filter(
        (s, i, all) => s.state === 'connected' && all[i - 1]?.state !== 'connected',
      ).length;
      assert.ok(logins <= 10, `${logins} logins in ten (scaled) minutes`);
      assert.ok(harness.emulator.stats.kicks >= 3, 'the two did kick each other');
      const now = connection.status();
      assert.equal(now.kicked, true, 'it says kicked');
      assert.match(now.lastError!, /^kicked: another client uses this device/);
      assert.equal(kickedEvents.values.length, 1, 'one log warning for the episode');

      // The user asks (msg.action "connect", or a deploy) while it waits out the back-off: it tries at
      // once. (Between two kicks it may be logged in for a moment; connect() then has nothing to do.)
      await waitForStatus(connection, (s) => s.state === 'disconnected' && s.kicked === true, 10_000);
      const connectsBefore = harness.emulator.stats.connects;
      const askedAt = Date.now();
      connection.connect();
      await waitForStatus(connection, (s) => s.state === 'connected', 5000);
      assert.ok(harness.emulator.stats.connects > connectsBefore);
      assert.ok(Date.now() - askedAt < RECONNECT.kickedDelayMs, 'at once, not after the kicked delay');
    } finally {
      other.end(true);
    }
  });

  it('with 20 random network drops and no twin: every reconnect within the normal back-off, never "kicked"', async () => {
    const random = seeded(20261201);
    // Drops from right after login to a second and a half later; some land in the kick window.
    const dropAfter = Array.from({ length: 20 }, () => 20 + Math.floor(random() * 1500));
    const short = dropAfter.map((ms) => ms < RECONNECT.kickWindowMs);
    const longestShortRun = short.reduce(
      (acc, isShort) => {
        const run = isShort ? acc.run + 1 : 0;
        return { run, max: Math.max(acc.max, run) };
      },
      { run: 0, max: 0 },
    ).max;
    assert.ok(short.some(Boolean), 'some drops come right after login');
    assert.ok(longestShortRun <= 2, 'the schedule has no three short sessions in a row (a twin pattern)');

    const device = harness.device();
    const connection = harness.connection(device, { reconnect: RECONNECT });
    const statuses = record<ConnectionStatus>(connection, 'status');
    connection.connect();
    const gaps: number[] = [];
    for (const wait of dropAfter) {
      await waitForStatus(connection, (s) => s.state === 'connected', 5000);
      await delay(wait);
      assert.ok(harness.emulator.dropDevice(device.ref), 'dropped');
      const droppedAt = Date.now();
      await waitForStatus(connection, (s) => s.state !== 'connected', 5000);
      await waitForStatus(connection, (s) => s.state === 'connected', 5000);
      gaps.push(Date.now() - droppedAt);
    }
    assert.ok(
      statuses.values.every((s) => !s.kicked),
      `never kicked; errors: ${[...new Set(statuses.values.map((s) => s.lastError))].join(' | ')}`,
    );
    const longest = Math.max(...gaps);
    // The normal back-off is at most maxDelayMs; a login adds a little on a busy machine.
    assert.ok(
      longest <= RECONNECT.maxDelayMs + 700,
      `longest reconnect ${longest} ms; gaps ${gaps.join(', ')}`,
    );
  });
});
