import assert from 'node:assert/strict';
import type { ISubscriptionGrant } from 'mqtt';
import type { ClientDisconnectedEvent, SubscribedEvent } from '../../src/emulator';
import { PRODUCT, closeAll, closedWithin, connected, newDevice, nextEvent, startEmulator } from './helpers';

const OWN = `$sys/${PRODUCT}/dev1`;

/** SUBACK return codes for one SUBSCRIBE packet (MQTT.js rejects subscribeAsync when any is 0x80). */
async function suback(
  client: import('mqtt').MqttClient,
  filters: string[],
  qos: 0 | 1 = 1,
): Promise<number[]> {
  const granted = await new Promise<ISubscriptionGrant[]>((resolve, reject) => {
    client.subscribe(filters, { qos }, (error, result) => {
      const fromError = (error as (Error & { packet?: { granted?: number[] } }) | null)?.packet?.granted;
      if (fromError)
        resolve(fromError.map((qosGranted, i) => ({ topic: filters[i]!, qos: qosGranted as 0 })));
      else if (error) reject(error);
      else resolve(result ?? []);
    });
  });
  return granted.map((entry) => entry.qos);
}

describe('emulator SUBSCRIBE (§1.3, §1.5)', () => {
  afterEach(closeAll);

  it('grants own topics at QoS 0 even when QoS 1 is asked, and reports them', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device] });
    const client = await connected(emulator.port, device);
    const subscribed = nextEvent<SubscribedEvent>(emulator, 'subscribed');
    const filters = [
      `${OWN}/thing/property/post/reply`,
      `${OWN}/thing/#`,
      `${OWN}/thing/service/+/invoke`,
      `${OWN}/#`,
    ];
    assert.deepEqual(await suback(client, filters, 1), [0, 0, 0, 0]);
    assert.deepEqual(await subscribed, { productId: PRODUCT, deviceName: 'dev1', filters });
    assert.deepEqual(emulator.subscriptions(device), filters);
  });

  const refusals: Array<[string, string]> = [
    ["another device's topic", `$sys/${PRODUCT}/dev2/thing/property/post/reply`],
    ["another product's topic", '$sys/OtherProd1/dev1/thing/property/post/reply'],
    ['a wildcard at level 3', `$sys/${PRODUCT}/+/thing/property/post/reply`],
    ['a wildcard at level 2', '$sys/+/dev1/thing/#'],
    ['$sys/#', '$sys/#'],
    ['#', '#'],
    ['a non-$sys topic', 'devices/dev1/commands'],
    ['the bare device prefix', `${OWN}`],
    ['more than 8 levels', `${OWN}/a/b/c/d/e/f`],
    ['characters outside the allowed set', `${OWN}/thing/prop.erty`],
  ];
  for (const [name, filter] of refusals) {
    it(`refuses ${name} with 0x80 and keeps the connection`, async () => {
      const device = newDevice();
      const emulator = await startEmulator({ devices: [device] });
      const client = await connected(emulator.port, device);
      assert.deepEqual(await suback(client, [filter, `${OWN}/thing/property/set`]), [0x80, 0]);
      assert.deepEqual(emulator.subscriptions(device), [`${OWN}/thing/property/set`]);
      assert.ok(client.connected);
    });
  }

  it('disconnects a SUBSCRIBE with more than 8 filters', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device], maxSubscriptionsPerSession: 20 });
    const client = await connected(emulator.port, device);
    const disconnected = nextEvent<ClientDisconnectedEvent>(emulator, 'client-disconnected');
    const filters = Array.from({ length: 9 }, (_, i) => `${OWN}/thing/x${i}`);
    client.subscribe(filters, { qos: 0 }, () => undefined);
    await closedWithin(client);
    assert.match((await disconnected).reason, /9 filters/);
  });

  it('accepts exactly 8 filters in one packet', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device] });
    const client = await connected(emulator.port, device);
    const filters = Array.from({ length: 8 }, (_, i) => `${OWN}/thing/x${i}`);
    assert.deepEqual(await suback(client, filters), new Array(8).fill(0));
  });

  it('refuses subscriptions beyond the per-session cap (§1.4), re-subscribing a held one is free', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device], maxSubscriptionsPerSession: 3 });
    const client = await connected(emulator.port, device);
    assert.deepEqual(await suback(client, [`${OWN}/a`, `${OWN}/b`]), [0, 0]);
    assert.deepEqual(await suback(client, [`${OWN}/c`, `${OWN}/d`, `${OWN}/a`]), [0, 0x80, 0]);
    await client.unsubscribeAsync(`${OWN}/b`);
    assert.deepEqual(await suback(client, [`${OWN}/d`]), [0]);
    assert.deepEqual(emulator.subscriptions(device).sort(), [`${OWN}/a`, `${OWN}/c`, `${OWN}/d`]);
  });

  it('defaults the cap to 10 per session', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device] });
    const client = await connected(emulator.port, device);
    assert.deepEqual(
      await suback(
        client,
        Array.from({ length: 6 }, (_, i) => `${OWN}/a${i}`),
      ),
      new Array(6).fill(0),
    );
    assert.deepEqual(
      await suback(
        client,
        Array.from({ length: 5 }, (_, i) => `${OWN}/b${i}`),
      ),
      [0, 0, 0, 0, 0x80],
    );
  });

  it('starts every session with no subscriptions (clean session)', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device] });
    const first = await connected(emulator.port, device);
    await suback(first, [`${OWN}/thing/#`]);
    await first.endAsync();
    await connected(emulator.port, device);
    assert.deepEqual(emulator.subscriptions(device), []);
  });
});
