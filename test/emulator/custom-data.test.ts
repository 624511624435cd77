import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import {
  PlatformRequestError,
  type ClientDisconnectedEvent,
  type DownlinkEvent,
  type EmulatorDevice,
  type UplinkRecord,
} from '../../src/emulator';
import { MAX_PAYLOAD_BYTES } from '../../src/protocol';
import {
  closeAll,
  closedWithin,
  connected,
  newDevice,
  nextEvent,
  nextMessage,
  request,
  startEmulator,
} from './helpers';
import { RawMqttClient, closeRawClients } from './raw-client';

/**
 * The custom-data (透传) topics of onenet-protocol.md §3 rows 20–21, spelled "custome" as OneNET spells
 * them. The document gives topics but no payloads: custom data is the product's own format, so the
 * payloads here are arbitrary bytes, binary on purpose.
 */
const UP = '$sys/Ck2AF9QD2K/dev1/custome/up';
const UP_REPLY = '$sys/Ck2AF9QD2K/dev1/custome/up_reply';
const DOWN_FILTER = '$sys/Ck2AF9QD2K/dev1/custome/down/+';
const downTopic = (id: string): string => `$sys/Ck2AF9QD2K/dev1/custome/down/${id}`;
const downReplyTopic = (id: string): string => `$sys/Ck2AF9QD2K/dev1/custome/down_reply/${id}`;

/** Bytes no JSON parser would accept, and which a re-encoding as UTF-8 text would change. */
const BINARY = Buffer.from([0x01, 0x00, 0xff, 0x7b, 0x80, 0x0a]);

async function rejection(promise: Promise<unknown>): Promise<PlatformRequestError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PlatformRequestError, `expected a PlatformRequestError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the command to be rejected');
}

/** The next message on `topic`, as raw bytes. */
function nextBytes(
  client: MqttClient,
  topic: string,
  timeoutMs = 3000,
): Promise<{ payload: Buffer; qos: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.removeListener('message', onMessage);
      reject(new Error(`no message on ${topic} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (received: string, payload: Buffer, packet: { qos: number }): void => {
      if (received !== topic) return;
      clearTimeout(timer);
      client.removeListener('message', onMessage);
      resolve({ payload, qos: packet.qos });
    };
    client.on('message', onMessage);
  });
}

describe('emulator custom-data topics (§3 rows 20–21)', () => {
  let device: EmulatorDevice;
  let lines: string[];

  beforeEach(() => {
    device = newDevice('dev1', 'Ck2AF9QD2K');
    lines = [];
  });
  afterEach(async () => {
    closeRawClients();
    await closeAll();
  });

  async function start(options: { replyDeadlineMs?: number } = {}) {
    return startEmulator({ devices: [device], log: (line) => lines.push(line), ...options });
  }

  describe('custome/up (device to platform)', () => {
    it('records the bytes as sent, acknowledges QoS 1, and sends no custome/up_reply', async () => {
      const emulator = await start();
      const client = await connected(emulator.port, device);
      await client.subscribeAsync('$sys/Ck2AF9QD2K/dev1/#');
      const topics: string[] = [];
      client.on('message', (topic) => topics.push(topic));
      const uplink = nextEvent<UplinkRecord>(emulator, 'uplink');
      const acknowledged = await client.publishAsync(UP, BINARY, { qos: 1 });
      assert.equal(acknowledged?.cmd, 'publish', 'PUBACK received');
      const record = await uplink;
      assert.equal(record.kind, 'custom-up');
      assert.equal(record.topic, UP);
      assert.equal(record.qos, 1);
      assert.equal(record.id, undefined);
      assert.ok(record.payloadBytes.equals(BINARY));
      assert.ok(
        Buffer.isBuffer(record.payload) && record.payload.equals(BINARY),
        'kept as bytes, not parsed',
      );
      assert.deepEqual(emulator.latestProperties(device), {}, 'no script turns custom data into properties');
      // Replies leave in order: once the property post's reply is here, a custom reply would have been too.
      const postReply = nextMessage(client, '$sys/Ck2AF9QD2K/dev1/thing/property/post/reply');
      await client.publishAsync(
        '$sys/Ck2AF9QD2K/dev1/thing/property/post',
        request('1', { a: { value: 1 } }),
      );
      await postReply;
      assert.deepEqual(topics, ['$sys/Ck2AF9QD2K/dev1/thing/property/post/reply']);
      assert.ok(!topics.includes(UP_REPLY));
      assert.deepEqual(
        emulator.uplinks(device).map((r) => r.kind),
        ['custom-up', 'property-post'],
      );
      assert.ok(lines.includes('custom-up from Ck2AF9QD2K/dev1 0x0100ff7b800a (6 bytes)'), lines.join('\n'));
    });

    it('accepts text at QoS 0, even text that is not OneJSON', async () => {
      const emulator = await start();
      const client = await connected(emulator.port, device);
      const uplink = nextEvent<UplinkRecord>(emulator, 'uplink');
      client.publish(UP, 'temp=21.5;hum=40', { qos: 0 });
      const record = await uplink;
      assert.equal(record.qos, 0);
      assert.equal(record.payloadBytes.toString('utf8'), 'temp=21.5;hum=40');
      assert.ok(client.connected);
    });
  });

  describe('custome/down/{id} (platform to device)', () => {
    it('sendCustomCommand publishes the bytes at QoS 0 and resolves with the reply on custome/down_reply/{id}', async () => {
      const emulator = await start();
      const client = await connected(emulator.port, device);
      await client.subscribeAsync(DOWN_FILTER);
      const answer = Buffer.from([0xaa, 0x00, 0x55]);
      client.on('message', (topic) => {
        const id = topic.slice(downTopic('').length);
        client.publish(downReplyTopic(id), answer, { qos: 1 });
      });
      const received = new Promise<{ topic: string; payload: Buffer; qos: number }>((resolve) =>
        client.once('message', (topic, payload, packet) => resolve({ topic, payload, qos: packet.qos })),
      );
      const downlink = nextEvent<DownlinkEvent>(emulator, 'downlink');
      const reply = await emulator.sendCustomCommand(device, BINARY);
      const command = await received;
      assert.match(reply.id, /^\d{1,13}$/);
      assert.equal(command.topic, downTopic(reply.id));
      assert.equal(command.qos, 0);
      assert.ok(command.payload.equals(BINARY));
      assert.ok(reply.payload.equals(answer));
      assert.deepEqual(await downlink, {
        productId: 'Ck2AF9QD2K',
        deviceName: 'dev1',
        kind: 'custom-down',
        topic: downTopic(reply.id),
        id: reply.id,
      });
      const record = emulator.uplinks(device).at(-1)!;
      assert.deepEqual(
        [record.kind, record.topic, record.id, record.qos],
        ['custom-down-reply', downReplyTopic(reply.id), reply.id, 1],
      );
      assert.ok(record.payloadBytes.equals(answer));
    });

    it('uses the id it is given: custome/down/123', async () => {
      const emulator = await start();
      const client = await connected(emulator.port, device);
      await client.subscribeAsync(DOWN_FILTER);
      const command = nextBytes(client, downTopic('123'));
      const reply = emulator.sendCustomCommand(device, 'on', '123');
      assert.equal((await command).payload.toString(), 'on');
      client.publish(downReplyTopic('123'), 'ok');
      assert.deepEqual(await reply, { id: '123', payload: Buffer.from('ok') });
    });

    it('rejects when the device is offline (308) or has not subscribed (1022)', async () => {
      const emulator = await start();
      assert.equal((await rejection(emulator.sendCustomCommand(device, BINARY))).code, 308);
      const client = await connected(emulator.port, device);
      await client.subscribeAsync('$sys/Ck2AF9QD2K/dev1/thing/#');
      assert.equal((await rejection(emulator.sendCustomCommand(device, BINARY))).code, 1022);
      assert.ok(lines.some((line) => line.includes('custom-down → Ck2AF9QD2K/dev1 not sent')));
    });

    it('rejects an id that is not a message id (313), and one still waiting for its reply (1025)', async () => {
      const emulator = await start();
      const client = await connected(emulator.port, device);
      await client.subscribeAsync(DOWN_FILTER);
      for (const id of ['abc', '+', '12345678901234', '']) {
        assert.equal((await rejection(emulator.sendCustomCommand(device, BINARY, id))).code, 313, id);
      }
      const first = emulator.sendCustomCommand(device, BINARY, '77');
      assert.equal((await rejection(emulator.sendCustomCommand(device, BINARY, '77'))).code, 1025);
      client.publish(downReplyTopic('77'), 'done');
      assert.equal((await first).id, '77');
    });

    it('rejects a payload over 256 KB (313)', async () => {
      const emulator = await start();
      const client = await connected(emulator.port, device);
      await client.subscribeAsync(DOWN_FILTER);
      const error = await rejection(emulator.sendCustomCommand(device, Buffer.alloc(MAX_PAYLOAD_BYTES + 1)));
      assert.equal(error.code, 313);
    });

    it('times out (306) without a reply, and logs a late one as ignored', async () => {
      const emulator = await start({ replyDeadlineMs: 200 });
      const client = await connected(emulator.port, device);
      await client.subscribeAsync(DOWN_FILTER);
      const error = await rejection(emulator.sendCustomCommand(device, BINARY, '5'));
      assert.equal(error.code, 306);
      const late = nextEvent<UplinkRecord>(emulator, 'uplink');
      client.publish(downReplyTopic('5'), 'too late');
      await late;
      assert.ok(
        lines.some((line) =>
          line.startsWith('custom-down-reply from Ck2AF9QD2K/dev1 id 5 too late (after the deadline'),
        ),
      );
    });

    it('records and ignores a reply for an id it never sent, keeping the connection', async () => {
      const emulator = await start();
      const client = await connected(emulator.port, device);
      const uplink = nextEvent<UplinkRecord>(emulator, 'uplink');
      client.publish(downReplyTopic('999'), 'hello');
      assert.equal((await uplink).id, '999');
      assert.ok(
        lines.includes(
          'custom-down-reply from Ck2AF9QD2K/dev1 id 999 hello (no command with this id: ignored)',
        ),
        lines.join('\n'),
      );
      assert.ok(client.connected);
    });
  });

  describe('ACL: a device uses only its own custom topics (§1.5)', () => {
    it('grants its own custome/down/+ and refuses another device’s with 0x80', async () => {
      const emulator = await start();
      const raw = await RawMqttClient.login(emulator.port, device);
      const suback = raw.nextPacket('suback');
      raw.send({
        cmd: 'subscribe',
        messageId: 1,
        subscriptions: [
          { topic: DOWN_FILTER, qos: 0 },
          { topic: '$sys/Ck2AF9QD2K/dev2/custome/down/+', qos: 0 },
          { topic: '$sys/Ck2AF9QD2K/+/custome/down/+', qos: 0 },
        ],
      });
      const packet = await suback;
      assert.equal(packet.cmd, 'suback');
      assert.deepEqual(packet.cmd === 'suback' && packet.granted, [0, 128, 128]);
      assert.deepEqual(emulator.subscriptions(device), [DOWN_FILTER]);
    });

    const disconnects: Array<{
      name: string;
      topic: string;
      qos?: 0 | 1 | 2;
      payload?: Buffer;
      reason: RegExp;
    }> = [
      {
        name: "another device's custome/up",
        topic: '$sys/Ck2AF9QD2K/dev2/custome/up',
        reason: /another device/,
      },
      {
        name: "another product's custome/up",
        topic: '$sys/OtherProd1/dev1/custome/up',
        reason: /another device/,
      },
      {
        name: "another device's custome/down_reply/1",
        topic: '$sys/Ck2AF9QD2K/dev2/custome/down_reply/1',
        reason: /another device/,
      },
      {
        name: 'custome/down/1, which only the platform publishes',
        topic: downTopic('1'),
        reason: /only the platform publishes/,
      },
      {
        name: 'custome/up_reply, which only the platform publishes',
        topic: UP_REPLY,
        reason: /only the platform publishes/,
      },
      {
        name: 'custom/up (not OneNET’s spelling)',
        topic: '$sys/Ck2AF9QD2K/dev1/custom/up',
        reason: /unknown/,
      },
      { name: 'custome/up at QoS 2', topic: UP, qos: 2, reason: /QoS 2/ },
      {
        name: 'custome/up over 256 KB',
        topic: UP,
        payload: Buffer.alloc(MAX_PAYLOAD_BYTES + 1),
        reason: /exceeds/,
      },
    ];
    for (const testCase of disconnects) {
      it(`disconnects a device publishing to ${testCase.name}`, async () => {
        const emulator = await start();
        const client = await connected(emulator.port, device);
        const disconnected = nextEvent<ClientDisconnectedEvent>(emulator, 'client-disconnected');
        client.publish(
          testCase.topic,
          testCase.payload ?? BINARY,
          { qos: testCase.qos ?? 0 },
          () => undefined,
        );
        await closedWithin(client);
        assert.match((await disconnected).reason, testCase.reason);
        assert.deepEqual(emulator.uplinks(), []);
      });
    }
  });
});
