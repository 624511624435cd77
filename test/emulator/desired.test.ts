import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { PlatformRequestError, type EmulatorDevice, type ThingModel } from '../../src/emulator';
import {
  closeAll,
  collectMessages,
  connected,
  newDevice,
  nextMessage,
  request,
  startEmulator,
  topicOf,
} from './helpers';

/**
 * The emulator's desired values (期望值, onenet-next.md §Q4, onenet-protocol.md §3.1 items 4–5):
 * versions from 1, one more per set, from 1 again after a delete; desired/get answers what exists;
 * desired/delete with a version clears only that version; setDesired pushes a property set to an
 * online device and keeps the value for an offline one.
 */

const MODEL: ThingModel = {
  properties: [
    { identifier: 'power', dataType: { type: 'string' } },
    { identifier: 'temperature', dataType: { type: 'int', min: 0, max: 40 } },
    { identifier: 'serial', accessMode: 'r', dataType: { type: 'string' } },
  ],
};

async function deviceWithDesiredReplies(): Promise<{
  emulator: Awaited<ReturnType<typeof startEmulator>>;
  device: EmulatorDevice;
  client: MqttClient;
}> {
  const device = newDevice();
  const emulator = await startEmulator({
    devices: [device],
    products: [{ productId: device.productId, thingModel: MODEL }],
  });
  const client = await connected(emulator.port, device);
  await client.subscribeAsync([
    topicOf(device, 'thing/property/desired/get/reply'),
    topicOf(device, 'thing/property/desired/delete/reply'),
  ]);
  return { emulator, device, client };
}

/** Ends the client and waits until the emulator no longer counts the device online. */
async function goOffline(
  emulator: Awaited<ReturnType<typeof startEmulator>>,
  client: MqttClient,
): Promise<void> {
  await client.endAsync();
  const deadline = Date.now() + 3000;
  while (emulator.connections().length > 0) {
    if (Date.now() > deadline) throw new Error('the device is still online after 3 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function ask(
  client: MqttClient,
  device: EmulatorDevice,
  kind: 'get' | 'delete',
  id: string,
  params: unknown,
): Promise<Record<string, unknown>> {
  const reply = nextMessage(client, topicOf(device, `thing/property/desired/${kind}/reply`));
  await client.publishAsync(topicOf(device, `thing/property/desired/${kind}`), request(id, params), {
    qos: 1,
  });
  return (await reply).payload;
}

describe('emulator desired values (§Q4)', () => {
  afterEach(closeAll);

  it('counts versions from 1 per set, answers get with what exists and omits the rest', async () => {
    const { emulator, device, client } = await deviceWithDesiredReplies();
    await goOffline(emulator, client);
    assert.deepEqual((await emulator.setDesired(device, { power: 'off' })).versions, { power: 1 });
    const second = await emulator.setDesired(device, { power: 'on' });
    assert.deepEqual(second, { versions: { power: 2 }, online: false });
    const again = await connected(emulator.port, device);
    await again.subscribeAsync(topicOf(device, 'thing/property/desired/get/reply'));
    // The documented exchange, literally: asked for power and temperature, only power has a value.
    const reply = await ask(again, device, 'get', '123', ['power', 'temperature']);
    assert.deepEqual(reply, {
      id: '123',
      code: 200,
      msg: 'success',
      data: { power: { value: 'on', version: 2 } },
    });
    assert.deepEqual(emulator.desiredValues(device), { power: { value: 'on', version: 2 } });
  });

  it('deletes a version only while it is the latest, without a version whatever it is, and restarts at 1', async () => {
    const { emulator, device, client } = await deviceWithDesiredReplies();
    // Online, but not subscribed to property/set: the push fails (1022), the values stay stored.
    const pushed = await emulator.setDesired(device, { power: 'on', temperature: 20 });
    assert.equal(pushed.pushError?.code, 1022);
    await emulator.setDesired(device, { power: 'off' });
    assert.deepEqual(emulator.desiredValues(device), {
      power: { value: 'off', version: 2 },
      temperature: { value: 20, version: 1 },
    });
    const stale = await ask(client, device, 'delete', '7', { power: { version: 1 } });
    assert.equal(stale.code, 200);
    assert.deepEqual(emulator.desiredValues(device).power, { value: 'off', version: 2 }, 'newer kept');
    const exact = await ask(client, device, 'delete', '8', { power: { version: 2 }, temperature: {} });
    assert.deepEqual(exact, { id: '8', code: 200, msg: 'success' });
    assert.deepEqual(emulator.desiredValues(device), {});
    const empty = await ask(client, device, 'get', '9', ['power', 'temperature']);
    assert.deepEqual(empty.data, {});
    assert.deepEqual((await emulator.setDesired(device, { power: 'on' })).versions, { power: 1 });
  });

  it('refuses a malformed delete with the codes of §3.2, clearing nothing', async () => {
    const { emulator, device, client } = await deviceWithDesiredReplies();
    await goOffline(emulator, client);
    await emulator.setDesired(device, { power: 'on' });
    const again = await connected(emulator.port, device);
    await again.subscribeAsync(topicOf(device, 'thing/property/desired/delete/reply'));
    assert.equal((await ask(again, device, 'delete', '1', { power: { version: '1' } })).code, 302);
    assert.equal((await ask(again, device, 'delete', '2', ['power'])).code, 301);
    assert.deepEqual(emulator.desiredValues(device), { power: { value: 'on', version: 1 } });
  });

  it('pushes an ordinary property set to an online device, with its reply in the result', async () => {
    const { emulator, device, client } = await deviceWithDesiredReplies();
    await client.subscribeAsync(topicOf(device, 'thing/property/set'));
    const received = collectMessages(client);
    client.on('message', (topic, payload) => {
      if (!topic.endsWith('/thing/property/set')) return;
      const { id } = JSON.parse(payload.toString()) as { id: string };
      void client.publishAsync(`${topic}_reply`, JSON.stringify({ id, code: 200, msg: 'ok' }));
    });
    const result = await emulator.setDesired(device, { temperature: 25 });
    assert.equal(result.online, true);
    assert.deepEqual(result.versions, { temperature: 1 });
    assert.equal(result.reply?.code, 200);
    const set = received.find((m) => m.topic.endsWith('/thing/property/set'));
    assert.deepEqual(set?.payload.params, { temperature: 25 });
    assert.deepEqual(emulator.desiredValues(device), { temperature: { value: 25, version: 1 } });
  });

  it('refuses values the thing model refuses, and unknown devices, before storing anything', async () => {
    const { emulator, device } = await deviceWithDesiredReplies();
    for (const values of [{ temperature: 99 }, { serial: 'x' }, { nope: 1 }, {}]) {
      await assert.rejects(emulator.setDesired(device, values), PlatformRequestError);
    }
    await assert.rejects(
      emulator.setDesired({ productId: device.productId, deviceName: 'ghost' }, { power: 'on' }),
      /does not exist/,
    );
    assert.deepEqual(emulator.desiredValues(device), {});
  });
});
