import assert from 'node:assert/strict';
import type { DeviceConnection, DownlinkRequest } from '../../src/connection';
import { Harness, waitForStatus } from './helpers';
import { LinkProxy } from './link-proxy';

interface Failure {
  reason?: string;
  sent?: boolean;
  message: string;
}

function failureOf(promise: Promise<unknown>): Promise<Failure | 'resolved'> {
  return promise.then(
    () => 'resolved' as const,
    (err: unknown) => err as Failure,
  );
}

/** Back-pressure, whole-life timeouts, half-open links and what a failure says about where the post got to. */
describe('connection / back-pressure and timeouts', function () {
  this.timeout(20000);
  let harness: Harness;
  let proxy: LinkProxy | undefined;

  beforeEach(async () => {
    harness = await Harness.start();
  });
  afterEach(async () => {
    await harness.close();
    await proxy?.close();
    proxy = undefined;
  });

  /** A connected device whose link goes through a relay that can turn half-open. */
  async function throughProxy(
    options: Parameters<Harness['connected']>[1] = {},
  ): Promise<{ connection: DeviceConnection; device: ReturnType<Harness['device']> }> {
    proxy = await LinkProxy.start(harness.emulator.port);
    const device = harness.device(undefined, proxy.port);
    const connection = await harness.connected(device, { keepaliveSeconds: 60, ...options });
    return { connection, device };
  }

  it('refuses posts beyond the queue limit at once while online, as "busy", and says so in the status', async () => {
    const device = harness.device();
    const connection = await harness.connected(device, { queueLimit: 10 });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => failureOf(connection.request('property-post', { i }))),
    );
    const refused = results.filter((r): r is Failure => r !== 'resolved');
    assert.equal(results.filter((r) => r === 'resolved').length, 10, 'the first 10 were posted');
    assert.equal(refused.length, 20);
    for (const failure of refused) {
      assert.equal(failure.reason, 'busy');
      assert.equal(failure.sent, false);
      assert.match(failure.message, /busy, 10 requests already wait to be sent/);
    }
    assert.equal(harness.emulator.uplinks(device.ref).length, 10, 'nothing refused reached OneNET');
  });

  it('counts the timeout from acceptance: posts stuck behind unacknowledged ones fail as not sent', async () => {
    const { connection } = await throughProxy({ queueLimit: 1000 });
    proxy!.blackhole();
    const started = Date.now();
    // More than the publishes MQTT.js is given at once (256): the rest wait their turn, which never comes.
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        failureOf(connection.request('property-post', { i }, { timeoutMs: 400 })),
      ),
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 5000, `all settled within their timeout, not later (${elapsed} ms)`);
    const failures = results.filter((r): r is Failure => r !== 'resolved');
    assert.equal(failures.length, 300);
    const published = failures.filter((f) => f.reason === 'timeout');
    const neverSent = failures.filter((f) => f.reason === 'busy');
    assert.equal(published.length + neverSent.length, 300, JSON.stringify(failures[0]));
    assert.ok(published.length > 0 && neverSent.length > 0, `${published.length} / ${neverSent.length}`);
    for (const f of published) {
      assert.equal(f.sent, true);
      assert.match(f.message, /did not acknowledge \(PUBACK\).*may have reached OneNET/);
    }
    for (const f of neverSent) {
      assert.equal(f.sent, false);
      assert.match(f.message, /not sent within 400 ms/);
    }
  });

  it('ends a reply whose PUBACK never comes within the request timeout, not after 1.5 × keepalive', async () => {
    const { connection, device } = await throughProxy({ requestTimeoutMs: 500 });
    const replied = new Promise<Failure | 'resolved'>((resolve) => {
      connection.onDownlink((request: DownlinkRequest) => {
        proxy!.blackhole();
        resolve(failureOf(connection.reply(request, 200)));
      });
    });
    void harness.emulator.setProperty(device.ref, { power: 1 }).catch(() => undefined);
    const started = Date.now();
    const result = await replied;
    assert.notEqual(result, 'resolved');
    const failure = result as Failure;
    assert.equal(failure.reason, 'timeout');
    assert.equal(failure.sent, true);
    assert.match(failure.message, /did not acknowledge \(PUBACK\) the reply within 500 ms/);
    assert.ok(Date.now() - started < 5000, 'well before the 90 s keepalive would notice');
  });

  it('connect() during disconnect() fails what was in flight as disconnected at once, never as a late timeout', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    harness.emulator.setReplyDelay(3000);
    const pending = failureOf(connection.request('property-post', { t: 1 }, { timeoutMs: 4000 }));
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (harness.emulator.uplinks(device.ref).length > 0) resolve();
        else setTimeout(check, 10);
      };
      check();
    });
    const started = Date.now();
    const disconnecting = connection.disconnect();
    connection.connect();
    const result = await pending;
    assert.notEqual(result, 'resolved');
    assert.equal((result as Failure).reason, 'disconnected', (result as Failure).message);
    assert.ok(Date.now() - started < 2500, `settled when the old session ended (${Date.now() - started} ms)`);
    await disconnecting;
    await waitForStatus(connection, (s) => s.state === 'connected', 5000);
    harness.emulator.setReplyDelay(0);
    const after = await connection.request('property-post', { t: 2 });
    assert.equal(after.code, 200, 'the new session works');
  });

  it('stamps posts queued while offline with the time they were accepted', async () => {
    const device = harness.device();
    const connection = await harness.connected(device, { offlinePolicy: 'queue' });
    await harness.emulator.stopListening();
    await waitForStatus(connection, (s) => s.state !== 'connected', 5000);
    const acceptedAt = Date.now();
    const posted = connection.request('property-post', {
      queuedValue: 5,
      ownTime: { value: 1, time: 1700000000000 },
    });
    await waitForStatus(connection, (s) => s.queueDepth === 1, 2000);
    const backAt = Date.now();
    await harness.emulator.startListening();
    assert.equal((await posted).code, 200);
    const uplink = harness.emulator.uplinks(device.ref).at(-1)!;
    const params = (uplink.payload as { params: Record<string, { value: unknown; time?: number }> }).params;
    assert.equal(params.queuedValue!.value, 5);
    const time = params.queuedValue!.time!;
    assert.ok(
      time >= acceptedAt - 5 && time <= backAt,
      `time ${time} is when it was accepted, not when it arrived`,
    );
    assert.equal(params.ownTime!.time, 1700000000000, 'a value with its own time keeps it');
  });
});
