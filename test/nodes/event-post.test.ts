import assert from 'node:assert/strict';
import type { OneNetEmulator } from '../../src/emulator';
import {
  DEVICE,
  MESSAGES,
  catchAll,
  collect,
  delay,
  errorText,
  deviceConfig,
  flowNode,
  load,
  nextMessage,
  node,
  startEmulator,
  unloadAndCheckPool,
  waitConnected,
} from './support';

describe('onenet-event-post', function () {
  this.timeout(10000);
  let emulator: OneNetEmulator;

  before(async () => {
    emulator = await startEmulator();
  });
  after(async () => {
    await emulator.close();
  });
  afterEach(async () => {
    emulator.failReplies(undefined);
    await unloadAndCheckPool();
  });

  async function loadEvent(event: string): Promise<void> {
    await load([
      deviceConfig(emulator),
      flowNode('event', 'onenet-event-post', { device: 'cfg', event, waitReply: true, timeout: '2000' }, [
        ['out'],
      ]),
      flowNode('out', 'helper'),
      ...catchAll(),
    ]);
    await waitConnected(emulator);
  }

  it('posts msg.payload as the configured event and passes the msg on with msg.onenet', async () => {
    await loadEvent('alarm');
    const output = nextMessage('out');
    node('event').receive({ payload: { level: 2, temperature: 85.5 }, time: 1700000000000 });
    const msg = await output;
    assert.deepEqual(msg.payload, { level: 2, temperature: 85.5 });
    const onenet = msg.onenet as Record<string, unknown>;
    assert.equal(onenet.code, 200);
    assert.equal(onenet.topic, `$sys/${DEVICE.productId}/${DEVICE.deviceName}/thing/event/post`);
    const logged = emulator.eventLog(DEVICE).at(-1);
    assert.deepEqual(
      logged && { identifier: logged.identifier, value: logged.value, time: logged.time, id: logged.id },
      {
        identifier: 'alarm',
        value: { level: 2, temperature: 85.5 },
        time: 1700000000000,
        id: onenet.id,
      },
    );
  });

  it('takes the identifier from msg.event when the Event field is empty', async () => {
    await loadEvent('');
    const output = nextMessage('out');
    node('event').receive({ payload: { reason: 'door' }, event: 'intrusion' });
    await output;
    assert.equal(emulator.eventLog(DEVICE).at(-1)?.identifier, 'intrusion');
  });

  it('prefers the Event field over msg.event', async () => {
    await loadEvent('alarm');
    const output = nextMessage('out');
    node('event').receive({ payload: { level: 1 }, event: 'intrusion' });
    await output;
    assert.equal(emulator.eventLog(DEVICE).at(-1)?.identifier, 'alarm');
  });

  it('fails with a hint when there is no identifier at all', async () => {
    await loadEvent('');
    const caught = nextMessage('catch-out');
    node('event').receive({ payload: { level: 1 } });
    assert.equal(errorText(await caught), MESSAGES.noEvent);
  });

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a bad msg.event identifier', { payload: { level: 1 }, event: 'bad event!' }, /identifier "bad event!"/],
    ['a payload that is not an object', { payload: 42, event: 'alarm' }, /event output must be an object/],
    [
      'an Infinity value',
      { payload: { level: Number.POSITIVE_INFINITY }, event: 'alarm' },
      /payload\.level is Infinity/,
    ],
  ];
  for (const [what, msg, message] of invalid) {
    it(`rejects ${what} before publishing`, async () => {
      await loadEvent('');
      const before = emulator.uplinks(DEVICE).length;
      const caught = nextMessage('catch-out');
      node('event').receive(msg);
      const failed = await caught;
      assert.match(errorText(failed), message);
      assert.equal((failed.onenet as Record<string, unknown>).reason, 'invalid');
      await delay(50);
      assert.equal(emulator.uplinks(DEVICE).length, before);
    });
  }

  it('posts JSON text in msg.payload as the event output it holds', async () => {
    await loadEvent('alarm');
    const output = nextMessage('out');
    node('event').receive({ payload: '{"level":2,"zone":{"id":"B"}}' });
    const msg = await output;
    assert.equal(msg.payload, '{"level":2,"zone":{"id":"B"}}', 'the msg keeps its text');
    const logged = emulator.eventLog(DEVICE).at(-1);
    assert.deepEqual(logged && [logged.identifier, logged.value, logged.id], [
      'alarm',
      { level: 2, zone: { id: 'B' } },
      (msg.onenet as Record<string, unknown>).id,
    ]);
  });

  it('rejects JSON text that does not hold an object, naming what it holds', async () => {
    await loadEvent('alarm');
    const before = emulator.uplinks(DEVICE).length;
    for (const [payload, held] of [
      ['"door open"', /holds a string$/],
      ['not json', /this text is not JSON/],
    ] as const) {
      const caught = nextMessage('catch-out');
      node('event').receive({ payload });
      const failed = await caught;
      assert.match(
        errorText(failed),
        /msg\.payload must be an object of output parameters, or JSON text of one/,
      );
      assert.match(errorText(failed), held);
      assert.equal((failed.onenet as Record<string, unknown>).reason, 'invalid');
    }
    assert.equal(emulator.uplinks(DEVICE).length, before, 'nothing was published');
  });

  it('ends in done(err) with msg.onenet when OneNET replies with another code', async () => {
    await loadEvent('alarm');
    emulator.failReplies(309);
    const outputs = collect('out');
    const caught = nextMessage('catch-out');
    node('event').receive({ payload: { level: 3 } });
    const msg = await caught;
    assert.equal((msg.onenet as Record<string, unknown>).code, 309);
    assert.equal(outputs.length, 0);
  });
});
