import assert from 'node:assert/strict';
import type { OneNetEmulator } from '../../src/emulator';
import {
  DEVICE,
  KEY,
  MESSAGES,
  STATUS,
  catchAll,
  collect,
  delay,
  errorText,
  deviceConfig,
  flowNode,
  lastStatus,
  load,
  nextMessage,
  node,
  startEmulator,
  statusHistory,
  unloadAndCheckPool,
  waitConnected,
  waitFor,
  waitStatus,
} from './support';

describe('onenet-property-post', function () {
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
    emulator.setReplyDelay(0);
    await unloadAndCheckPool();
  });

  async function loadPost(
    props: Record<string, unknown> = {},
    cfg: Record<string, unknown> = {},
  ): Promise<void> {
    await load([
      deviceConfig(emulator, cfg),
      flowNode(
        'post',
        'onenet-property-post',
        { device: 'cfg', waitReply: true, timeout: '2000', ...props },
        [['out']],
      ),
      flowNode('out', 'helper'),
      ...catchAll(),
    ]);
  }

  function uplinkCount(): number {
    return emulator.uplinks(DEVICE).length;
  }

  it('shows connecting, then connected', async () => {
    await loadPost();
    await waitStatus('post', STATUS.connected);
    const texts = statusHistory('post').map((s) => s.text);
    assert.ok(texts.indexOf(STATUS.connecting) >= 0, `connecting shown first: ${texts.join(', ')}`);
    assert.ok(texts.indexOf(STATUS.connecting) < texts.indexOf(STATUS.connected));
    const connected = statusHistory('post').find((s) => s.text === STATUS.connected);
    assert.deepEqual(connected, { fill: 'green', shape: 'dot', text: STATUS.connected });
    assert.deepEqual(
      statusHistory('post').find((s) => s.text === STATUS.connecting),
      {
        fill: 'yellow',
        shape: 'ring',
        text: STATUS.connecting,
      },
    );
  });

  it('posts msg.payload and passes the msg on with msg.onenet once OneNET replied 200', async () => {
    await loadPost();
    await waitConnected(emulator);
    const output = nextMessage('out');
    node('post').receive({ payload: { temperature: 21.5, humidity: 40 }, topic: 'kept' });
    const msg = await output;
    assert.deepEqual(msg.payload, { temperature: 21.5, humidity: 40 }, 'payload unchanged');
    assert.equal(msg.topic, 'kept');
    const onenet = msg.onenet as Record<string, unknown>;
    assert.equal(onenet.code, 200);
    assert.equal(typeof onenet.message, 'string');
    assert.equal(onenet.topic, `$sys/${DEVICE.productId}/${DEVICE.deviceName}/thing/property/post`);
    assert.match(String(onenet.id), /^\d{1,13}$/);
    assert.equal(typeof onenet.latencyMs, 'number');
    const uplink = emulator.uplinks(DEVICE).at(-1);
    assert.equal(uplink?.kind, 'property-post');
    assert.equal(uplink?.id, onenet.id);
    assert.equal(emulator.latestProperties(DEVICE).temperature?.value, 21.5);
  });

  it('applies msg.time to values without their own time, and keeps {value, time} entries', async () => {
    await loadPost();
    await waitConnected(emulator);
    const output = nextMessage('out');
    node('post').receive({
      payload: { temperature: 20, humidity: { value: 41, time: 1700000000123 } },
      time: 1700000000000,
    });
    await output;
    const latest = emulator.latestProperties(DEVICE);
    assert.deepEqual(latest.temperature, { value: 20, time: 1700000000000 });
    assert.deepEqual(latest.humidity, { value: 41, time: 1700000000123 });
  });

  it('passes the msg on at once, without a reply code, when waitReply is off', async () => {
    await loadPost({ waitReply: false });
    await waitConnected(emulator);
    emulator.setReplyDelay(1500);
    const started = Date.now();
    const output = nextMessage('out');
    node('post').receive({ payload: { temperature: 19 } });
    const msg = await output;
    assert.ok(Date.now() - started < 1000, 'did not wait for the delayed reply');
    const onenet = msg.onenet as Record<string, unknown>;
    assert.equal(onenet.code, 0);
    assert.equal(onenet.message, 'not awaited');
  });

  it('ends in done(err) with msg.onenet when OneNET replies with another code', async () => {
    await loadPost();
    await waitConnected(emulator);
    const outputs = collect('out');
    emulator.failReplies(302);
    const caught = nextMessage('catch-out');
    node('post').receive({ payload: { temperature: 22 } });
    const msg = await caught;
    const onenet = msg.onenet as Record<string, unknown>;
    assert.equal(onenet.code, 302);
    assert.equal(onenet.reason, 'reply');
    assert.match(String(onenet.id), /^\d+$/);
    assert.match(errorText(msg), /302/);
    assert.deepEqual(msg.payload, { temperature: 22 });
    // The status text is composed in the runtime; this helper's RED._ returns the bare key.
    await waitStatus('post', STATUS.failedReply);
    assert.equal(outputs.length, 0, 'no output message after a failure');
  });

  it('ends in done(err) with reason timeout when the reply does not come in time', async () => {
    await loadPost({ timeout: '200' });
    await waitConnected(emulator);
    emulator.setReplyDelay(1000);
    const outputs = collect('out');
    const caught = nextMessage('catch-out');
    node('post').receive({ payload: { temperature: 23 } });
    const msg = await caught;
    const onenet = msg.onenet as Record<string, unknown>;
    assert.equal(onenet.reason, 'timeout');
    assert.match(String(onenet.id), /^\d+$/, 'the id of the request that timed out');
    await waitStatus('post', STATUS.failedTimeout);
    await delay(1000);
    assert.equal(outputs.length, 0, 'the late reply does not produce an output either');
  });

  it('ends in done(err) with reason offline while the platform is unreachable', async () => {
    await loadPost();
    await waitConnected(emulator);
    await emulator.stopListening();
    try {
      await waitStatus('post', STATUS.disconnected);
      const before = uplinkCount();
      const caught = nextMessage('catch-out');
      node('post').receive({ payload: { temperature: 24 } });
      const msg = await caught;
      assert.equal((msg.onenet as Record<string, unknown>).reason, 'offline');
      assert.equal(uplinkCount(), before);
    } finally {
      await emulator.startListening();
    }
  });

  it('with offlinePolicy "queue" holds posts while offline, shows "queued", and sends them after reconnect', async function () {
    this.timeout(15000);
    await loadPost({}, { offlinePolicy: 'queue' });
    await waitConnected(emulator);
    const outputs = collect('out');
    await emulator.stopListening();
    try {
      await waitStatus('post', STATUS.disconnected);
      for (const temperature of [1, 2, 3]) node('post').receive({ payload: { temperature } });
      await waitStatus('post', STATUS.queued);
      assert.deepEqual(lastStatus('post'), { fill: 'yellow', shape: 'dot', text: STATUS.queued });
    } finally {
      await emulator.startListening();
    }
    await waitFor(() => outputs.length === 3, 'the queued posts to go out', 12000);
    assert.deepEqual(
      outputs.map((m) => (m.onenet as Record<string, unknown>).code),
      [200, 200, 200],
    );
    assert.equal(emulator.latestProperties(DEVICE).temperature?.value, 3, 'sent in order');
    await waitStatus('post', STATUS.connected);
  });

  const invalidInputs: Array<[string, unknown, RegExp]> = [
    ['a string payload', 'hot', /payload must be an object/],
    ['an array payload', [1, 2], /payload must be an object/],
    ['an empty object', {}, /no properties/],
    ['a bad identifier', { 'bad id': 1 }, /identifier "bad id"/],
    ['NaN', { temperature: Number.NaN }, /temperature is NaN/],
    ['a function', { temperature: () => 1 }, /temperature is a function/],
    ['an oversize payload', { blob: 'x'.repeat(300 * 1024) }, /bytes/],
  ];
  for (const [what, payload, message] of invalidInputs) {
    it(`rejects ${what} before publishing, and a Catch node sees it`, async () => {
      await loadPost();
      await waitConnected(emulator);
      const before = uplinkCount();
      const caught = nextMessage('catch-out');
      node('post').receive({ payload });
      const msg = await caught;
      assert.match(errorText(msg), message);
      assert.equal((msg.onenet as Record<string, unknown>).reason, 'invalid');
      await delay(50);
      assert.equal(uplinkCount(), before, 'nothing was published');
    });
  }

  it('posts JSON text in msg.payload as the object it holds, and passes msg.payload on unchanged', async () => {
    await loadPost();
    await waitConnected(emulator);
    const output = nextMessage('out');
    const text = '{"temperature":21,"humidity":{"value":45,"time":1700000000123}}';
    node('post').receive({ payload: text, time: 1700000000000 });
    const msg = await output;
    assert.equal(msg.payload, text, 'the msg keeps its text');
    assert.equal((msg.onenet as Record<string, unknown>).code, 200);
    const latest = emulator.latestProperties(DEVICE);
    assert.deepEqual(latest.temperature, { value: 21, time: 1700000000000 });
    assert.deepEqual(latest.humidity, { value: 45, time: 1700000000123 });
  });

  const badText: Array<[string, string, RegExp]> = [
    ['text that is not JSON', 'temperature=21', /or JSON text of one; this text is not JSON \(/],
    ['JSON text of an array', '[{"temperature":21}]', /this JSON text holds an array$/],
    ['JSON text of a number', '21', /this JSON text holds a number$/],
    ['JSON text of null', 'null', /this JSON text holds null$/],
  ];
  for (const [what, payload, message] of badText) {
    it(`rejects ${what} in msg.payload before publishing, and a Catch node sees it`, async () => {
      await loadPost();
      await waitConnected(emulator);
      const before = uplinkCount();
      const outputs = collect('out');
      const caught = nextMessage('catch-out');
      node('post').receive({ payload });
      const msg = await caught;
      assert.match(
        errorText(msg),
        /msg\.payload must be an object of \{identifier: value\}, or JSON text of one/,
      );
      assert.match(errorText(msg), message);
      assert.equal(msg.payload, payload);
      assert.equal((msg.onenet as Record<string, unknown>).reason, 'invalid');
      assert.equal(uplinkCount(), before, 'nothing was published');
      assert.equal(outputs.length, 0);
    });
  }

  it('rejects a msg.time that is not a ms timestamp', async () => {
    await loadPost();
    await waitConnected(emulator);
    const caught = nextMessage('catch-out');
    node('post').receive({ payload: { temperature: 1 }, time: 'yesterday' });
    const msg = await caught;
    assert.match(errorText(msg), /msg\.time/);
  });

  it('follows msg.action disconnect and connect without publishing', async () => {
    await loadPost();
    await waitConnected(emulator);
    const before = uplinkCount();
    node('post').receive({ action: 'disconnect' });
    await waitStatus('post', STATUS.disconnected);
    await waitFor(() => emulator.connections().length === 0, 'the emulator to see the device go');
    const caught = nextMessage('catch-out');
    node('post').receive({ payload: { temperature: 25 } });
    assert.equal(
      ((await caught).onenet as Record<string, unknown>).reason,
      'offline',
      'stays down after disconnect',
    );
    node('post').receive({ action: 'connect' });
    await waitStatus('post', STATUS.connected, 5000);
    assert.equal(uplinkCount(), before, 'actions publish nothing');
    const output = nextMessage('out');
    node('post').receive({ payload: { temperature: 26 } });
    assert.equal(((await output).onenet as Record<string, unknown>).code, 200);
  });

  it('refuses an unknown msg.action like the core MQTT nodes', async () => {
    await loadPost();
    await waitConnected(emulator);
    const caught = nextMessage('catch-out');
    node('post').receive({ action: 'explode', payload: { temperature: 1 } });
    assert.equal(errorText(await caught), MESSAGES.invalidAction);
  });

  it('without a device config shows "no device" and fails each message', async () => {
    await load([
      flowNode('post', 'onenet-property-post', { device: '' }, [['out']]),
      flowNode('out', 'helper'),
      ...catchAll(),
    ]);
    await waitStatus('post', STATUS.noDevice);
    const caught = nextMessage('catch-out');
    node('post').receive({ payload: { temperature: 1 } });
    assert.equal(errorText(await caught), MESSAGES.noDevice);
  });

  it('shows auth failed (red dot) when the key is wrong, and never shows the key', async () => {
    const wrongKey = Buffer.from('definitely-not-the-device-key').toString('base64');
    await load(
      [
        deviceConfig(emulator),
        flowNode('post', 'onenet-property-post', { device: 'cfg' }, [['out']]),
        flowNode('out', 'helper'),
        ...catchAll(),
      ],
      { cfg: { key: wrongKey } },
    );
    await waitStatus('post', STATUS.authFailed, 5000);
    assert.deepEqual(statusHistory('post').at(-1), { fill: 'red', shape: 'dot', text: STATUS.authFailed });
    const shown = JSON.stringify(statusHistory('post'));
    assert.ok(!shown.includes(wrongKey) && !shown.includes(KEY));
  });
});
