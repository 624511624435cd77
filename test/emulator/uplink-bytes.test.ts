import assert from 'node:assert/strict';
import type { UplinkRecord } from '../../src/emulator';
import { closeAll, connected, newDevice, nextEvent, nextMessage, startEmulator, topicOf } from './helpers';

/**
 * uplinks() and the log keep what the device sent, byte for byte: a JSON parse followed by
 * JSON.stringify would lose the spacing, the key order, `\u` escapes and `23.60`'s trailing zero.
 */
describe('emulator keeps uplink payloads byte for byte', () => {
  afterEach(closeAll);

  async function publishAndRecord(
    suffix: string,
    payload: Buffer,
  ): Promise<{ record: UplinkRecord; lines: string[]; reply: Record<string, unknown> }> {
    const device = newDevice();
    const lines: string[] = [];
    const emulator = await startEmulator({ devices: [device], log: (line) => lines.push(line) });
    const client = await connected(emulator.port, device);
    await client.subscribeAsync(topicOf(device, 'thing/property/post/reply'));
    const uplink = nextEvent<UplinkRecord>(emulator, 'uplink');
    const reply = nextMessage(client, topicOf(device, 'thing/property/post/reply'));
    await client.publishAsync(topicOf(device, suffix), payload, { qos: 1 });
    const record = await uplink;
    assert.deepEqual(emulator.uplinks(device), [record]);
    return { record, lines, reply: (await reply).payload };
  }

  it('keeps a JSON payload with odd spacing, key order, unicode escapes and a trailing zero', async () => {
    // The property post of §3.1 item 1, written the way a hand-rolled device firmware might.
    const literal =
      '{ "params" :{"WF":{"time":1524448722123 ,"value":23.60},"Power":{ "value":"\\u006f\\u006e"}} ,' +
      '"version":"1.0",   "id":"123", "温":"\\u6e29"}';
    const sent = Buffer.from(literal, 'utf8');
    assert.ok(literal.length <= 160, 'short enough for the log to show it whole');
    const { record, lines, reply } = await publishAndRecord('thing/property/post', sent);
    assert.equal(reply.code, 200, 'the payload is a valid property post');
    assert.ok(Buffer.isBuffer(record.payloadBytes));
    assert.ok(record.payloadBytes.equals(sent), record.payloadBytes.toString('utf8'));
    assert.equal(record.payloadBytes.toString('utf8'), literal);
    const parsed = record.payload as { params: { Power: { value: unknown } } };
    assert.equal(parsed.params.Power.value, 'on', 'payload is still the parsed message');
    const line = lines.find((l) => l.startsWith('property-post from '));
    assert.ok(line, lines.join('\n'));
    assert.ok(line.endsWith(` id 123 ${literal}`), line);
  });

  it('keeps bytes that are not UTF-8, and logs them in hex', async () => {
    const sent = Buffer.from([0x7b, 0xff, 0x00, 0xfe, 0x7d]);
    const { record, lines, reply } = await publishAndRecord('thing/property/post', sent);
    assert.equal(reply.code, 301, 'not JSON: json format error');
    assert.ok(record.payloadBytes.equals(sent));
    const line = lines.find((l) => l.startsWith('property-post from '));
    assert.ok(line?.includes(' 0x7bff00fe7d (5 bytes) refused (301'), line);
  });

  it('logs a payload with a newline in hex, so the log line stays one line', async () => {
    const literal = '{\n  "id": "5",\n  "params": {"a": {"value": 1}}\n}';
    const sent = Buffer.from(literal);
    const { record, lines, reply } = await publishAndRecord('thing/property/post', sent);
    assert.equal(reply.code, 200);
    assert.equal(record.payloadBytes.toString('utf8'), literal);
    const line = lines.find((l) => l.startsWith('property-post from '));
    assert.ok(line, lines.join('\n'));
    assert.ok(!line.includes('\n'));
    assert.ok(line.includes(`0x${sent.subarray(0, 20).toString('hex')}`), line);
  });

  it('logs the exact start of a long payload and its length', async () => {
    const literal = `{"id":"6","params":{"s":{"value":"${'é'.repeat(300)}"}}}`;
    const sent = Buffer.from(literal);
    const { record, lines } = await publishAndRecord('thing/property/post', sent);
    assert.ok(record.payloadBytes.equals(sent));
    const line = lines.find((l) => l.startsWith('property-post from '));
    assert.ok(line?.includes(` ${literal.slice(0, 160)}… (${sent.length} bytes)`), line);
  });
});
