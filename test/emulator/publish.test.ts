import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import type { ClientDisconnectedEvent, EmulatorDevice, ThingModel, UplinkRecord } from '../../src/emulator';
import { MAX_PAYLOAD_BYTES } from '../../src/protocol';
import {
  PRODUCT,
  closeAll,
  closedWithin,
  collectMessages,
  connected,
  newDevice,
  nextEvent,
  nextMessage,
  request,
  startEmulator,
  topicOf,
} from './helpers';

const MODEL: ThingModel = {
  properties: [
    { identifier: 'temperature', dataType: { type: 'float', min: -40, max: 120 } },
    { identifier: 'power', dataType: { type: 'bool' } },
  ],
  events: [{ identifier: 'overheat', outputs: [{ identifier: 'level', dataType: { type: 'int' } }] }],
};

async function deviceWithReplies(options: Parameters<typeof startEmulator>[0] = {}): Promise<{
  emulator: Awaited<ReturnType<typeof startEmulator>>;
  device: EmulatorDevice;
  client: MqttClient;
}> {
  const device = newDevice();
  const emulator = await startEmulator({ devices: [device], ...options });
  const client = await connected(emulator.port, device);
  await client.subscribeAsync([
    topicOf(device, 'thing/property/post/reply'),
    topicOf(device, 'thing/event/post/reply'),
  ]);
  return { emulator, device, client };
}

describe('emulator PUBLISH from a device (§1.3, §1.5, §3)', () => {
  afterEach(closeAll);

  describe('valid requests', () => {
    it('answers a property post on the reply topic with 200 success, at QoS 0, and stores the values', async () => {
      const { emulator, device, client } = await deviceWithReplies();
      const reply = nextMessage(client, topicOf(device, 'thing/property/post/reply'));
      const before = Date.now();
      await client.publishAsync(
        topicOf(device, 'thing/property/post'),
        request('17', { temperature: { value: 21.5 }, power: { value: true, time: 1700000000000 } }),
      );
      const received = await reply;
      assert.deepEqual(received.payload, { id: '17', code: 200, msg: 'success' });
      assert.equal(received.qos, 0);
      const latest = emulator.latestProperties(device);
      assert.equal(latest.temperature?.value, 21.5);
      assert.ok(latest.temperature!.time >= before);
      assert.deepEqual(latest.power, { value: true, time: 1700000000000 });
    });

    it('accepts a system point ($OneNET_LBS, onenet-next.md §1.2), posted as the literal JSON a 4G module sends', async () => {
      const { emulator, device, client } = await deviceWithReplies();
      const reply = nextMessage(client, topicOf(device, 'thing/property/post/reply'));
      await client.publishAsync(
        topicOf(device, 'thing/property/post'),
        '{"id":"18","version":"1.0","params":{"$OneNET_LBS":{"value":[{"mnc":0,"mcc":460,"lac":4352,"cid":1234}]}}}',
      );
      assert.deepEqual((await reply).payload, { id: '18', code: 200, msg: 'success' });
      assert.deepEqual(emulator.latestProperties(device).$OneNET_LBS?.value, [
        { mnc: 0, mcc: 460, lac: 4352, cid: 1234 },
      ]);
    });

    it('acknowledges a QoS 1 publish with PUBACK', async () => {
      const { emulator, device, client } = await deviceWithReplies();
      const pubacks: number[] = [];
      client.on('packetreceive', (packet) => {
        if (packet.cmd === 'puback') pubacks.push(packet.messageId ?? -1);
      });
      const sent = await client.publishAsync(
        topicOf(device, 'thing/property/post'),
        request('1', { a: { value: 1 } }),
        { qos: 1 },
      );
      assert.deepEqual(pubacks, [sent?.messageId]);
      assert.equal(emulator.uplinks(device)[0]?.qos, 1);
    });

    it('answers an event post and logs the event', async () => {
      const { emulator, device, client } = await deviceWithReplies();
      const reply = nextMessage(client, topicOf(device, 'thing/event/post/reply'));
      await client.publishAsync(
        topicOf(device, 'thing/event/post'),
        request('5', { overheat: { value: { level: 3 }, time: 1700000000123 } }),
      );
      assert.deepEqual((await reply).payload, { id: '5', code: 200, msg: 'success' });
      assert.deepEqual(emulator.eventLog(device), [
        { identifier: 'overheat', value: { level: 3 }, time: 1700000000123, id: '5' },
      ]);
    });

    it('records every accepted publish in order, with an uplink event each', async () => {
      const { emulator, device, client } = await deviceWithReplies();
      const events: UplinkRecord[] = [];
      emulator.on('uplink', (record) => events.push(record));
      const reply = nextMessage(client, topicOf(device, 'thing/event/post/reply'));
      await client.publishAsync(topicOf(device, 'thing/property/post'), request('1', { a: { value: 1 } }));
      await client.publishAsync(
        topicOf(device, 'thing/event/post'),
        request('2', { e: { value: { x: 1 } } }),
        { qos: 1 },
      );
      await reply;
      const records = emulator.uplinks(device);
      assert.deepEqual(
        records.map((r) => [r.kind, r.id, r.qos, r.topic]),
        [
          ['property-post', '1', 0, topicOf(device, 'thing/property/post')],
          ['event-post', '2', 1, topicOf(device, 'thing/event/post')],
        ],
      );
      assert.deepEqual((records[0]!.payload as { params: unknown }).params, { a: { value: 1 } });
      assert.deepEqual(events, records);
      assert.equal(emulator.stats.publishes, 2);
      assert.deepEqual(emulator.uplinks(), records);
      assert.deepEqual(emulator.uplinks({ productId: PRODUCT, deviceName: 'other' }), []);
    });

    it('sends no reply when the reply topic is not subscribed, but keeps the data (§1.5)', async () => {
      const device = newDevice();
      const lines: string[] = [];
      const emulator = await startEmulator({ devices: [device], log: (line) => lines.push(line) });
      const client = await connected(emulator.port, device);
      await client.subscribeAsync(topicOf(device, 'thing/event/post/reply'));
      const received = collectMessages(client);
      const eventReply = nextMessage(client, topicOf(device, 'thing/event/post/reply'));
      await client.publishAsync(topicOf(device, 'thing/property/post'), request('1', { a: { value: 7 } }));
      await client.publishAsync(
        topicOf(device, 'thing/event/post'),
        request('2', { e: { value: { x: 1 } } }),
      );
      // Replies leave in request order, so once the event reply is here the property reply would have been too.
      await eventReply;
      assert.deepEqual(
        received.map((m) => m.topic),
        [topicOf(device, 'thing/event/post/reply')],
      );
      assert.equal(emulator.latestProperties(device).a?.value, 7);
      assert.ok(
        lines.some((line) => line.includes('not subscribed to') && line.includes('property/post/reply')),
      );
    });

    it('answers through a wildcard subscription', async () => {
      const device = newDevice();
      const emulator = await startEmulator({ devices: [device] });
      const client = await connected(emulator.port, device);
      await client.subscribeAsync(topicOf(device, 'thing/#'));
      const reply = nextMessage(client, topicOf(device, 'thing/property/post/reply'));
      await client.publishAsync(topicOf(device, 'thing/property/post'), request('9', { a: { value: 1 } }));
      assert.equal((await reply).payload.code, 200);
    });

    it('never echoes a device its own uplink, even when its filter matches it', async () => {
      const device = newDevice();
      const emulator = await startEmulator({ devices: [device] });
      const client = await connected(emulator.port, device);
      await client.subscribeAsync(topicOf(device, '#'));
      const received = collectMessages(client);
      const reply = nextMessage(client, topicOf(device, 'thing/property/post/reply'));
      await client.publishAsync(topicOf(device, 'thing/property/post'), request('3', { a: { value: 1 } }));
      await reply;
      assert.deepEqual(
        received.map((m) => m.topic),
        [topicOf(device, 'thing/property/post/reply')],
      );
    });

    it('accepts a payload of exactly 256 KB', async () => {
      const { device, client } = await deviceWithReplies();
      const skeleton = request('4', { s: { value: '' } });
      const payload = request('4', {
        s: { value: 'x'.repeat(MAX_PAYLOAD_BYTES - Buffer.byteLength(skeleton)) },
      });
      assert.equal(Buffer.byteLength(payload), MAX_PAYLOAD_BYTES);
      const reply = nextMessage(client, topicOf(device, 'thing/property/post/reply'));
      await client.publishAsync(topicOf(device, 'thing/property/post'), payload);
      assert.equal((await reply).payload.code, 200);
    });

    it('does not deliver one device the replies meant for another', async () => {
      const first = newDevice('a');
      const second = newDevice('b');
      const emulator = await startEmulator({ devices: [first, second] });
      const a = await connected(emulator.port, first);
      const b = await connected(emulator.port, second);
      await a.subscribeAsync(topicOf(first, 'thing/property/post/reply'));
      await b.subscribeAsync(topicOf(second, 'thing/property/post/reply'));
      const onB = collectMessages(b);
      const replyB = nextMessage(b, topicOf(second, 'thing/property/post/reply'));
      await a.publishAsync(topicOf(first, 'thing/property/post'), request('1', { x: { value: 1 } }));
      await b.publishAsync(topicOf(second, 'thing/property/post'), request('2', { x: { value: 2 } }));
      assert.equal((await replyB).payload.id, '2');
      assert.equal(onB.length, 1);
    });
  });

  describe('invalid requests get the matching error code (§3.2)', () => {
    const cases: Array<{ name: string; payload: string; code: number; id: string; model?: boolean }> = [
      { name: 'malformed JSON: 301 json format error', payload: '{"id":"1",', code: 301, id: '' },
      { name: 'params missing: 301', payload: '{"id":"6"}', code: 301, id: '6' },
      {
        name: 'a numeric id: 312 invalid msg id',
        payload: '{"id":123,"params":{"a":{"value":1}}}',
        code: 312,
        id: '123',
      },
      {
        name: 'a 14-digit id: 312',
        payload: '{"id":"12345678901234","params":{"a":{"value":1}}}',
        code: 312,
        id: '12345678901234',
      },
      {
        name: 'a non-numeric id: 312',
        payload: '{"id":"abc","params":{"a":{"value":1}}}',
        code: 312,
        id: 'abc',
      },
      { name: 'no id: 312', payload: '{"params":{"a":{"value":1}}}', code: 312, id: '' },
      {
        name: 'an unknown identifier with a thing model: 309',
        payload: request('7', { humidity: { value: 1 } }),
        code: 309,
        id: '7',
        model: true,
      },
      {
        name: 'a wrong value type with a thing model: 302',
        payload: request('8', { temperature: { value: 'hot' } }),
        code: 302,
        id: '8',
        model: true,
      },
      {
        name: 'a value out of range with a thing model: 302',
        payload: request('9', { temperature: { value: 500 } }),
        code: 302,
        id: '9',
        model: true,
      },
      {
        name: 'a value without {value}: 301',
        payload: request('10', { temperature: 21 }),
        code: 301,
        id: '10',
      },
      {
        name: 'a bad time: 302',
        payload: request('11', { temperature: { value: 1, time: 'now' } }),
        code: 302,
        id: '11',
      },
    ];
    for (const testCase of cases) {
      it(testCase.name, async () => {
        const options = testCase.model ? { products: [{ productId: PRODUCT, thingModel: MODEL }] } : {};
        const { emulator, device, client } = await deviceWithReplies(options);
        const reply = nextMessage(client, topicOf(device, 'thing/property/post/reply'));
        await client.publishAsync(topicOf(device, 'thing/property/post'), testCase.payload);
        const received = await reply;
        assert.equal(received.payload.code, testCase.code);
        assert.equal(received.payload.id, testCase.id);
        assert.equal(typeof received.payload.msg, 'string');
        assert.deepEqual(emulator.latestProperties(device), {});
        assert.ok(client.connected, 'a bad payload is answered, not disconnected');
      });
    }

    it('checks event identifiers and output types against the thing model', async () => {
      const { emulator, device, client } = await deviceWithReplies({
        products: [{ productId: PRODUCT, thingModel: MODEL }],
      });
      const received = collectMessages(client);
      const last = nextMessage(client, topicOf(device, 'thing/event/post/reply'));
      await client.publishAsync(
        topicOf(device, 'thing/event/post'),
        request('1', { meltdown: { value: {} } }),
      );
      await client.publishAsync(
        topicOf(device, 'thing/event/post'),
        request('2', { overheat: { value: { level: 1.5 } } }),
      );
      await client.publishAsync(
        topicOf(device, 'thing/event/post'),
        request('3', { overheat: { value: { level: 2 } } }),
      );
      await last;
      while (received.length < 3) await nextMessage(client, topicOf(device, 'thing/event/post/reply'));
      assert.deepEqual(
        received.map((m) => [m.payload.id, m.payload.code]),
        [
          ['1', 309],
          ['2', 302],
          ['3', 200],
        ],
      );
      assert.deepEqual(
        emulator.eventLog(device).map((e) => e.id),
        ['3'],
      );
    });

    it('accepts any identifier when the product has no thing model', async () => {
      const { device, client } = await deviceWithReplies();
      const reply = nextMessage(client, topicOf(device, 'thing/property/post/reply'));
      await client.publishAsync(
        topicOf(device, 'thing/property/post'),
        request('1', { anything_goes: { value: [1, 'a', { b: true }] } }),
      );
      assert.equal((await reply).payload.code, 200);
    });
  });

  describe('disconnects (§1.3, §1.5)', () => {
    const cases: Array<{
      name: string;
      topic: (device: EmulatorDevice) => string;
      options?: { qos?: 0 | 1 | 2; retain?: boolean };
      payload?: string;
      reason: RegExp;
    }> = [
      {
        name: 'QoS 2',
        topic: (d) => topicOf(d, 'thing/property/post'),
        options: { qos: 2 },
        reason: /QoS 2/,
      },
      {
        name: 'retain',
        topic: (d) => topicOf(d, 'thing/property/post'),
        options: { retain: true },
        reason: /retain/,
      },
      {
        name: "another device's topic",
        topic: () => `$sys/${PRODUCT}/dev2/thing/property/post`,
        reason: /another device/,
      },
      {
        name: "another product's topic",
        topic: (d) => `$sys/OtherProd1/${d.deviceName}/thing/property/post`,
        reason: /another device/,
      },
      { name: 'an unknown thing topic', topic: (d) => topicOf(d, 'thing/property/push'), reason: /unknown/ },
      { name: 'a non-$sys topic', topic: () => 'hello/world', reason: /not a \$sys topic/ },
      {
        name: 'a platform-to-device topic',
        topic: (d) => topicOf(d, 'thing/property/set'),
        reason: /only the platform publishes/,
      },
      {
        name: 'a reply topic of its own request',
        topic: (d) => topicOf(d, 'thing/property/post/reply'),
        reason: /only the platform publishes/,
      },
      {
        name: 'a payload over 256 KB',
        topic: (d) => topicOf(d, 'thing/property/post'),
        payload: 'x'.repeat(MAX_PAYLOAD_BYTES + 1),
        reason: /exceeds/,
      },
    ];
    for (const testCase of cases) {
      it(testCase.name, async () => {
        const { emulator, device, client } = await deviceWithReplies();
        const disconnected = nextEvent<ClientDisconnectedEvent>(emulator, 'client-disconnected');
        client.publish(
          testCase.topic(device),
          testCase.payload ?? request('1', { a: { value: 1 } }),
          testCase.options ?? {},
          () => undefined,
        );
        await closedWithin(client);
        const event = await disconnected;
        assert.equal(event.deviceName, device.deviceName);
        assert.match(event.reason, testCase.reason);
        assert.deepEqual(emulator.uplinks(device), []);
        assert.equal(emulator.stats.publishes, 0);
      });
    }

    it('does not acknowledge a refused QoS 1 publish', async () => {
      const { client } = await deviceWithReplies();
      const received: string[] = [];
      client.on('packetreceive', (packet) => received.push(packet.cmd));
      client.publish(
        `$sys/${PRODUCT}/dev2/thing/property/post`,
        request('1', { a: { value: 1 } }),
        { qos: 1 },
        () => undefined,
      );
      await closedWithin(client);
      assert.ok(!received.includes('puback'), `received ${received.join(', ')}`);
    });
  });
});
