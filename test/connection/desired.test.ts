import assert from 'node:assert/strict';
import { OneNetRequestError, type DesiredDelivery } from '../../src/connection';
import { resolveOptions } from '../../src/connection/options';
import { Harness, eventually, record, waitForStatus } from './helpers';

/**
 * The connection's desired sync (DesiredSync): after every login it asks for the configured
 * properties in pieces of desiredPerMessage, hands what exists to onDesired, and deleteDesired
 * settles on OneNET's reply. Against the embedded emulator.
 */
describe('connection / desired values', function () {
  this.timeout(15000);
  let harness: Harness;

  beforeEach(async () => {
    harness = await Harness.start();
  });
  afterEach(async () => {
    await harness.close();
  });

  const desiredGets = (deviceName: string): unknown[] =>
    harness.emulator
      .uplinks()
      .filter((u) => u.deviceName === deviceName && u.kind === 'desired-get')
      .map((u) => (u.payload as { params: unknown }).params);

  it('asks in pieces of at most desiredPerMessage identifiers and delivers each piece that found values', async () => {
    const device = harness.device();
    await harness.emulator.setDesired(device.ref, { a: 1, b: 2, e: 'five' });
    const connection = harness.connection(device, {
      syncDesired: ['a', 'b', 'c', 'd', 'e'],
      desiredPerMessage: 2,
    });
    const deliveries: DesiredDelivery[] = [];
    connection.onDesired((delivery) => deliveries.push(delivery));
    connection.connect();
    await eventually(() => deliveries.length === 2, 'two deliveries');
    assert.deepEqual(desiredGets(device.ref.deviceName), [['a', 'b'], ['c', 'd'], ['e']]);
    assert.deepEqual(
      deliveries.map((d) => [d.values, d.versions]),
      [
        [
          { a: 1, b: 2 },
          { a: 1, b: 1 },
        ],
        [{ e: 'five' }, { e: 1 }],
      ],
    );
  });

  it('spends the uplink budget like every other publish', async () => {
    const device = harness.device();
    const connection = harness.connection(device, {
      uplinkRate: 2,
      syncDesired: ['a', 'b', 'c', 'd', 'e', 'f'],
      desiredPerMessage: 1,
    });
    connection.connect();
    await eventually(() => desiredGets(device.ref.deviceName).length === 6, 'six desired gets', 10_000);
    const times = harness.emulator
      .uplinks(device.ref)
      .filter((u) => u.kind === 'desired-get')
      .map((u) => u.receivedAt);
    // A burst of 3, then one every 0.5 s: the sixth cannot leave before 1.5 s after the first.
    assert.ok(times[5]! - times[0]! >= 1400, `six gets within ${times[5]! - times[0]!} ms`);
  });

  it('delivers again after the next login while the values are not deleted (at least once)', async () => {
    const device = harness.device();
    await harness.emulator.setDesired(device.ref, { a: 1 });
    const connection = harness.connection(device, { syncDesired: ['a'] });
    const deliveries: DesiredDelivery[] = [];
    connection.onDesired((delivery) => deliveries.push(delivery));
    connection.connect();
    await eventually(() => deliveries.length === 1, 'the first delivery');
    harness.emulator.dropDevice(device.ref);
    await eventually(() => deliveries.length === 2, 'the delivery after the next login', 5000);
    assert.deepEqual(deliveries[1]!.versions, { a: 1 });
  });

  it('fails a delete waiting for its reply as disconnected when the session drops', async () => {
    const device = harness.device();
    const connection = await harness.connected(device, { requestTimeoutMs: 10_000 });
    harness.emulator.setReplyDelay(5000);
    const deleting = connection.deleteDesired({ a: 1 });
    await eventually(
      () => harness.emulator.uplinks(device.ref).some((u) => u.kind === 'desired-delete'),
      'the delete to reach the platform',
    );
    harness.emulator.dropDevice(device.ref);
    await assert.rejects(deleting, (err: OneNetRequestError) => {
      assert.equal(err.reason, 'disconnected');
      assert.equal(err.sent, true);
      return true;
    });
  });

  it('reports desired values nobody takes, and leaves them on OneNET', async () => {
    const device = harness.device();
    await harness.emulator.setDesired(device.ref, { a: 1 });
    const connection = harness.connection(device, { syncDesired: ['a'] });
    const errors = record<{ reason: string }>(connection, 'downlink-error');
    connection.connect();
    await eventually(() => errors.values.length === 1, 'the report');
    assert.match(errors.values[0]!.reason, /desired values of a arrived, but nothing takes them/);
    assert.deepEqual(harness.emulator.desiredValues(device.ref), { a: { value: 1, version: 1 } });
  });

  it('deletes exactly the given versions and resolves with the 200 reply', async () => {
    const device = harness.device();
    await harness.emulator.setDesired(device.ref, { a: 1, b: 2 });
    const connection = await harness.connected(device);
    const outcome = await connection.deleteDesired({ a: 1, b: 7 });
    assert.equal(outcome.code, 200);
    assert.match(outcome.topic, /\/thing\/property\/desired\/delete$/);
    assert.deepEqual(harness.emulator.desiredValues(device.ref), { b: { value: 2, version: 1 } });
  });

  it('fails a delete clearly: offline, refused versions, a refusing platform', async () => {
    const device = harness.device();
    const connection = harness.connection(device);
    await assert.rejects(connection.deleteDesired({ a: 1 }), (err: OneNetRequestError) => {
      assert.equal(err.reason, 'offline');
      return true;
    });
    connection.connect();
    await waitForStatus(connection, (s) => s.state === 'connected');
    await assert.rejects(connection.deleteDesired({ a: 0 }), (err: OneNetRequestError) => {
      assert.equal(err.reason, 'invalid');
      assert.match(err.message, /whole number from 1/);
      return true;
    });
    harness.emulator.failReplies(500);
    await assert.rejects(connection.deleteDesired({ a: 1 }), (err: OneNetRequestError) => {
      assert.equal(err.reason, 'reply');
      assert.equal(err.code, 500);
      return true;
    });
  });

  it('checks the option: identifiers only, deduplicated; a positive piece size', () => {
    const base = { key: Buffer.from('k').toString('base64') };
    assert.deepEqual(resolveOptions({ ...base, syncDesired: ['a', 'b', 'a'] }).syncDesired, ['a', 'b']);
    assert.deepEqual(resolveOptions(base).syncDesired, []);
    assert.equal(resolveOptions(base).desiredPerMessage, 100);
    assert.throws(() => resolveOptions({ ...base, syncDesired: ['bad id'] }), /syncDesired: identifier/);
    assert.throws(() => resolveOptions({ ...base, desiredPerMessage: 0 }), /identifiers per desired get/);
  });
});
