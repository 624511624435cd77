import assert from 'node:assert/strict';
import { eventually, Harness, newKey, PRODUCT, waitForStatus, type TestDevice } from './helpers';

/**
 * The post-reply topics are subscribed on a session's first post that waits for a reply
 * (reply-subscription.ts): a device whose posts never wait receives no answers at all.
 */
describe('connection / post replies subscribed on the first awaited post', function () {
  let harness: Harness;

  beforeEach(async () => {
    harness = await Harness.start();
  });

  afterEach(async () => {
    await harness.close();
  });

  const DOWNLINKS = ['property/get', 'property/set', 'property/desired/+/reply', 'service/+/invoke'];
  const POST_REPLIES = ['property/post/reply', 'event/post/reply', 'history/post/reply'];

  function subscribed(ref: { productId: string; deviceName: string }): string[] {
    const prefix = `$sys/${ref.productId}/${ref.deviceName}/thing/`;
    return harness.emulator
      .subscriptions(ref)
      .map((filter) => (filter.startsWith(prefix) ? filter.slice(prefix.length) : filter))
      .sort();
  }

  it('subscribes the downlinks at login and never the post replies while no post waits for one', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    assert.deepEqual(subscribed(device.ref), [...DOWNLINKS].sort());
    for (let i = 0; i < 10; i++) {
      const outcome = await connection.request('property-post', { t: i }, { waitReply: false });
      assert.equal(outcome.message, 'not awaited');
    }
    // The emulator has all ten posts, each published after the login's SUBSCRIBE: none subscribed more.
    await eventually(() => harness.emulator.propertyHistory(device.ref, 't').length === 10, 'ten posts');
    assert.deepEqual(subscribed(device.ref), [...DOWNLINKS].sort());
    // A platform request needs nothing more.
    connection.onDownlink((request) => void connection.reply(request, 200));
    assert.equal((await harness.emulator.setProperty(device.ref, { power: true })).code, 200);
  });

  it('subscribes the post replies before the first post that waits for one, and answers it', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    assert.equal((await connection.request('property-post', { t: 1 })).code, 200);
    assert.deepEqual(subscribed(device.ref), [...DOWNLINKS, ...POST_REPLIES].sort());
    assert.equal((await connection.request('event-post', { identifier: 'alarm', output: {} })).code, 200);
    assert.equal(harness.emulator.subscriptions(device.ref).length, 7, 'each filter once');
  });

  it('keeps the order of posts made while the subscription is under way', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    // The first waits for the SUBACK; the second, made in the same tick, must not overtake it, or
    // the older value would become OneNET's latest.
    const first = connection.request('property-post', { t: 1 });
    const second = connection.request('property-post', { t: 2 }, { waitReply: false });
    assert.equal((await first).code, 200);
    await second;
    await eventually(() => harness.emulator.propertyHistory(device.ref, 't').length === 2, 'both posts');
    assert.deepEqual(
      harness.emulator.propertyHistory(device.ref, 't').map((record) => record.value),
      [1, 2],
    );
    assert.equal(harness.emulator.latestProperties(device.ref).t?.value, 2);
  });

  it('subscribes them again on the first awaited post after a reconnect', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    assert.equal((await connection.request('property-post', { t: 1 })).code, 200);
    harness.emulator.dropDevice(device.ref);
    await waitForStatus(connection, (s) => s.state !== 'connected');
    await waitForStatus(connection, (s) => s.state === 'connected');
    assert.deepEqual(subscribed(device.ref), [...DOWNLINKS].sort());
    assert.equal((await connection.request('property-post', { t: 2 })).code, 200);
    assert.deepEqual(subscribed(device.ref), [...DOWNLINKS, ...POST_REPLIES].sort());
  });

  /** A gateway device of the test product, and one sub-device the emulator knows (not bound). */
  function gatewayAndSub(): {
    gateway: TestDevice;
    sub: { productID: string; deviceName: string };
    subKey: string;
  } {
    const key = newKey();
    harness.emulator.addDevice({ productId: PRODUCT, deviceName: 'gw1', key, nodeType: 'gateway' });
    const subKey = newKey();
    harness.emulator.addDevice({ productId: PRODUCT, deviceName: 'sub1', key: subKey });
    return {
      gateway: {
        identity: { host: '127.0.0.1', port: harness.emulator.port, productId: PRODUCT, deviceName: 'gw1' },
        ref: { productId: PRODUCT, deviceName: 'gw1' },
        key,
      },
      sub: { productID: PRODUCT, deviceName: 'sub1' },
      subKey,
    };
  }

  it('a device that becomes a gateway with its replies subscribed subscribes the pack reply at once', async () => {
    const { gateway, sub, subKey } = gatewayAndSub();
    const connection = await harness.connected(gateway);
    assert.equal((await connection.request('property-post', { t: 1 })).code, 200);
    const handle = connection.subDevice(sub, subKey, 'user1');
    await eventually(() => harness.emulator.subscriptions(gateway.ref).length === 9, 'nine subscriptions');
    assert.deepEqual(
      subscribed(gateway.ref),
      [...DOWNLINKS, ...POST_REPLIES, 'pack/post/reply', 'sub/#'].sort(),
    );
    assert.equal((await handle.request('property-post', { t: 2 }, { timeoutMs: 5000 })).code, 200);
  });

  it('a device that becomes a gateway before any awaited post subscribes the pack reply with the others', async () => {
    const { gateway, sub, subKey } = gatewayAndSub();
    const connection = await harness.connected(gateway);
    const handle = connection.subDevice(sub, subKey, 'user1');
    await eventually(() => subscribed(gateway.ref).includes('sub/#'), 'the sub/# filter');
    assert.deepEqual(subscribed(gateway.ref), [...DOWNLINKS, 'sub/#'].sort());
    assert.equal((await handle.request('property-post', { t: 2 }, { timeoutMs: 5000 })).code, 200);
    assert.deepEqual(
      subscribed(gateway.ref),
      [...DOWNLINKS, ...POST_REPLIES, 'pack/post/reply', 'sub/#'].sort(),
    );
  });
});
