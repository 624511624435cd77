import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import {
  PlatformRequestError,
  type EmulatorDevice,
  type ReplyEvent,
  type ThingModel,
} from '../../src/emulator';
import {
  PRODUCT,
  closeAll,
  collectMessages,
  connected,
  newDevice,
  nextEvent,
  nextMessage,
  startEmulator,
  topicOf,
} from './helpers';

const MODEL: ThingModel = {
  properties: [
    { identifier: 'target', dataType: { type: 'int', min: 0, max: 100 } },
    { identifier: 'serial', accessMode: 'r', dataType: { type: 'string' } },
  ],
  services: [
    { identifier: 'reboot', inputs: [{ identifier: 'delay', dataType: { type: 'int' } }], outputs: [] },
  ],
};

/** A device that answers platform requests the way a well-behaved client does. */
function answerRequests(
  client: MqttClient,
  answer: (topic: string, request: { id: string; params: unknown }) => object,
): void {
  client.on('message', (topic, payload) => {
    const message = JSON.parse(payload.toString()) as { id: string; params: unknown };
    // set → set_reply, get → get_reply, invoke → invoke_reply (§3)
    client.publish(`${topic}_reply`, JSON.stringify({ id: message.id, ...answer(topic, message) }));
  });
}

async function subscribedDevice(options: Parameters<typeof startEmulator>[0] = {}): Promise<{
  emulator: Awaited<ReturnType<typeof startEmulator>>;
  device: EmulatorDevice;
  client: MqttClient;
}> {
  const device = newDevice();
  const emulator = await startEmulator({ devices: [device], ...options });
  const client = await connected(emulator.port, device);
  await client.subscribeAsync([
    topicOf(device, 'thing/property/set'),
    topicOf(device, 'thing/property/get'),
    topicOf(device, 'thing/service/+/invoke'),
  ]);
  return { emulator, device, client };
}

async function rejection(promise: Promise<unknown>): Promise<PlatformRequestError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PlatformRequestError, `expected a PlatformRequestError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the request to be rejected');
}

describe('emulator platform requests (§1.6, §3.1)', () => {
  afterEach(closeAll);

  it('setProperty publishes property/set at QoS 0 with a fresh numeric id and resolves with the reply', async () => {
    const { emulator, device, client } = await subscribedDevice();
    const received = collectMessages(client);
    answerRequests(client, () => ({ code: 200, msg: 'ok' }));
    const first = await emulator.setProperty(device, { target: 22 });
    const second = await emulator.setProperty(device, { target: 23 });
    assert.deepEqual(
      received.map((m) => [m.topic, m.qos, m.payload.version, m.payload.params]),
      [
        [topicOf(device, 'thing/property/set'), 0, '1.0', { target: 22 }],
        [topicOf(device, 'thing/property/set'), 0, '1.0', { target: 23 }],
      ],
    );
    assert.match(first.id, /^\d{1,13}$/);
    assert.notEqual(first.id, second.id);
    assert.deepEqual(first, { id: received[0]!.payload.id, code: 200, msg: 'ok' });
  });

  it('getProperty sends the identifiers and resolves with the data', async () => {
    const { emulator, device, client } = await subscribedDevice();
    answerRequests(client, (_topic, req) => ({
      code: 200,
      msg: 'success',
      data: { temperature: 21, echo: req.params },
    }));
    const reply = await emulator.getProperty(device, ['temperature']);
    assert.equal(reply.code, 200);
    assert.deepEqual(reply.data, { temperature: 21, echo: ['temperature'] });
  });

  it('invokeService publishes on service/{id}/invoke and resolves with the invoke_reply', async () => {
    const { emulator, device, client } = await subscribedDevice();
    const seen: string[] = [];
    answerRequests(client, (topic, req) => {
      seen.push(topic);
      return { code: 200, msg: 'done', data: { got: req.params } };
    });
    const replyEvent = nextEvent<ReplyEvent>(emulator, 'reply');
    const reply = await emulator.invokeService(device, 'reboot', { delay: 3 });
    assert.deepEqual(seen, [topicOf(device, 'thing/service/reboot/invoke')]);
    assert.deepEqual(reply.data, { got: { delay: 3 } });
    assert.deepEqual(await replyEvent, {
      productId: PRODUCT,
      deviceName: 'dev1',
      kind: 'service-invoke-reply',
      id: reply.id,
      code: 200,
    });
  });

  it('resolves with a failure code the device chose', async () => {
    const { emulator, device, client } = await subscribedDevice();
    answerRequests(client, () => ({ code: 100, msg: 'handler failed' }));
    const reply = await emulator.setProperty(device, { target: 1 });
    assert.equal(reply.code, 100);
    assert.equal(reply.msg, 'handler failed');
  });

  it('rejects at once when the device is not connected (308)', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device] });
    const started = Date.now();
    const error = await rejection(emulator.setProperty(device, { target: 1 }));
    assert.equal(error.code, 308);
    assert.ok(Date.now() - started < 1000);
  });

  it('rejects at once when the device has not subscribed to the request topic (1022)', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device] });
    await connected(emulator.port, device);
    const error = await rejection(emulator.invokeService(device, 'reboot', {}));
    assert.equal(error.code, 1022);
    assert.match(error.message, /thing\/service\/reboot\/invoke/);
  });

  it('rejects after the deadline when the device does not answer, and ignores a late reply', async () => {
    const lines: string[] = [];
    const { emulator, device, client } = await subscribedDevice({
      replyDeadlineMs: 200,
      log: (line) => lines.push(line),
    });
    const request = nextMessage(client, topicOf(device, 'thing/property/set'));
    const started = Date.now();
    const error = await rejection(emulator.setProperty(device, { target: 1 }));
    assert.equal(error.code, 306);
    assert.ok(Date.now() - started >= 190);
    const { payload } = await request;
    const replyEvent = nextEvent<ReplyEvent>(emulator, 'reply');
    client.publish(
      topicOf(device, 'thing/property/set_reply'),
      JSON.stringify({ id: payload.id, code: 200, msg: 'late' }),
    );
    await replyEvent;
    assert.ok(lines.some((line) => line.includes('after the deadline')));
  });

  it("defaults the deadline to OneNET's 5 s", async function () {
    this.timeout(8000);
    const { emulator, device } = await subscribedDevice();
    const started = Date.now();
    const error = await rejection(emulator.getProperty(device, ['a']));
    const waited = Date.now() - started;
    assert.equal(error.code, 306);
    assert.ok(waited >= 4900 && waited < 6500, `waited ${waited} ms`);
  });

  it('ignores a reply on the wrong reply topic and keeps waiting', async () => {
    const { emulator, device, client } = await subscribedDevice({ replyDeadlineMs: 300 });
    const request = nextMessage(client, topicOf(device, 'thing/property/set'));
    const failed = rejection(emulator.setProperty(device, { target: 1 }));
    const { payload } = await request;
    client.publish(
      topicOf(device, 'thing/property/get_reply'),
      JSON.stringify({ id: payload.id, code: 200, msg: 'wrong' }),
    );
    assert.equal((await failed).code, 306);
  });

  it('refuses requests the thing model does not allow, without sending them', async () => {
    const { emulator, device, client } = await subscribedDevice({
      products: [{ productId: PRODUCT, thingModel: MODEL }],
    });
    const received = collectMessages(client);
    assert.equal((await rejection(emulator.setProperty(device, { humidity: 1 }))).code, 309);
    assert.equal((await rejection(emulator.setProperty(device, { target: 'high' }))).code, 302);
    assert.equal((await rejection(emulator.setProperty(device, { serial: 'x' }))).code, 313);
    assert.equal((await rejection(emulator.getProperty(device, ['nope']))).code, 309);
    assert.equal((await rejection(emulator.invokeService(device, 'selfDestruct', {}))).code, 309);
    assert.equal((await rejection(emulator.invokeService(device, 'reboot', { delay: 'soon' }))).code, 302);
    assert.deepEqual(received, []);
  });

  it('refuses malformed requests (313)', async () => {
    const { emulator, device } = await subscribedDevice();
    assert.equal((await rejection(emulator.setProperty(device, {}))).code, 313);
    assert.equal((await rejection(emulator.getProperty(device, []))).code, 313);
    assert.equal((await rejection(emulator.invokeService(device, 'bad/id', {}))).code, 313);
    assert.equal((await rejection(emulator.setProperty(device, { 'bad-id': 1 }))).code, 313);
  });

  it('rejects pending requests when the emulator closes', async () => {
    const { emulator, device } = await subscribedDevice();
    const failed = rejection(emulator.setProperty(device, { target: 1 }));
    await emulator.close();
    assert.equal((await failed).code, 303);
  });
});
