import assert from 'node:assert/strict';
import type { OneNetEmulator } from '../../src/emulator';
import type { DeviceNodeApi } from '../../src/node-red/device-node';
import { MESSAGE_KEYS } from '../../src/node-red/i18n';
import {
  DEVICE,
  KEY,
  MESSAGES,
  STATUS,
  callHistory,
  catchAll,
  collect,
  credentials,
  delay,
  errorText,
  deviceConfig,
  flowNode,
  helper,
  load,
  nextCall,
  nextMessage,
  node,
  startEmulator,
  unloadAndCheckPool,
  waitConnected,
  waitFor,
  waitStatus,
  type FlowNode,
} from './support';
import { loadTranslated } from './translated';

type Msg = Record<string, unknown>;

/** A second device of the test product, for requests that come from another device. */
const OTHER_DEVICE = { productId: DEVICE.productId, deviceName: 'node-test-2' };

describe('onenet-command-in and onenet-command-reply', function () {
  this.timeout(15000);
  let emulator: OneNetEmulator;
  let replies: Array<{ kind: string; id: string; code: number }>;

  before(async () => {
    emulator = await startEmulator();
    emulator.addDevice({ ...OTHER_DEVICE, key: KEY });
    emulator.on('reply', (reply: { kind: string; id: string; code: number }) => replies.push(reply));
  });
  after(async () => {
    await emulator.close();
  });
  beforeEach(() => {
    replies = [];
  });
  afterEach(async () => {
    await unloadAndCheckPool();
  });

  /** command-in -> helper "requests"; the test plays the user's flow and hands the msg to "reply". */
  async function loadCommands(
    commandIn: Record<string, unknown> = {},
    reply: Record<string, unknown> = {},
    extra: FlowNode[] = [],
  ): Promise<void> {
    await load([
      deviceConfig(emulator),
      flowNode(
        'in',
        'onenet-command-in',
        { device: 'cfg', kind: 'all', service: '', autoReply: false, ...commandIn },
        [['requests']],
      ),
      flowNode('requests', 'helper'),
      flowNode('reply', 'onenet-command-reply', { device: '', ...reply }, []),
      ...catchAll(),
      ...extra,
    ]);
    await waitConnected(emulator);
  }

  it('round-trips a property set: request out, reply 200 back to the platform', async () => {
    await loadCommands();
    const request = nextMessage('requests');
    const platform = emulator.setProperty(DEVICE, { targetTemperature: 21 });
    const msg = await request;
    assert.deepEqual(msg.payload, { targetTemperature: 21 });
    assert.equal(msg.topic, 'property-set');
    const onenet = msg.onenet as Msg;
    assert.equal(onenet.kind, 'property-set');
    assert.equal(onenet.device, 'cfg');
    assert.match(String(onenet.id), /^\d+$/);
    assert.ok(Math.abs(Number(onenet.receivedAt) - Date.now()) < 2000);
    assert.equal(onenet.identifier, undefined);
    node('reply').receive(msg);
    const reply = await platform;
    assert.equal(reply.code, 200);
    assert.equal(reply.msg, 'success');
    assert.equal(reply.id, onenet.id);
    await waitStatus('reply', STATUS.replied);
  });

  it('round-trips a property get with {identifier: value} data', async () => {
    await loadCommands();
    const request = nextMessage('requests');
    const platform = emulator.getProperty(DEVICE, ['temperature', 'humidity']);
    const msg = await request;
    assert.deepEqual(msg.payload, ['temperature', 'humidity']);
    assert.equal(msg.topic, 'property-get');
    node('reply').receive({ ...msg, payload: { temperature: 20.5, humidity: 44 } });
    const reply = await platform;
    assert.equal(reply.code, 200);
    assert.deepEqual(reply.data, { temperature: 20.5, humidity: 44 });
  });

  it('round-trips a service invoke with the output as data, msg.topic = service identifier', async () => {
    await loadCommands();
    const request = nextMessage('requests');
    const platform = emulator.invokeService(DEVICE, 'reboot', { delaySeconds: 1 });
    const msg = await request;
    assert.deepEqual(msg.payload, { delaySeconds: 1 });
    assert.equal(msg.topic, 'reboot');
    assert.equal((msg.onenet as Msg).identifier, 'reboot');
    node('reply').receive({ ...msg, payload: { accepted: true } });
    const reply = await platform;
    assert.equal(reply.code, 200);
    assert.deepEqual(reply.data, { accepted: true });
    assert.equal(replies.at(-1)?.kind, 'service-invoke-reply');
  });

  it('gives each command-in node of a device its own copy of the request', async () => {
    await loadCommands({}, {}, [
      flowNode('in2', 'onenet-command-in', { device: 'cfg', kind: 'all', service: '', autoReply: false }, [
        ['requests2'],
      ]),
      flowNode('requests2', 'helper'),
    ]);
    const first = nextMessage('requests');
    const second = nextMessage('requests2');
    const platform = emulator.invokeService(DEVICE, 'configure', { schedule: { on: 8, off: 20 } });
    const [one, two] = await Promise.all([first, second]);
    // One flow changes its msg in place, as a change or function node does.
    const changed = one.payload as { schedule: { on: number }; extra?: boolean };
    changed.schedule.on = 99;
    changed.extra = true;
    (one.onenet as Msg).identifier = 'changed';
    assert.deepEqual(two.payload, { schedule: { on: 8, off: 20 } }, 'the other flow still sees the request');
    assert.equal((two.onenet as Msg).identifier, 'configure');
    assert.notEqual(one._msgid, two._msgid, 'two messages, not one sent twice');
    node('reply').receive({ ...two, payload: {} });
    assert.equal((await platform).code, 200);
  });

  it('answers with msg.code and msg.message, or the code meaning by default', async () => {
    await loadCommands();
    let request = nextMessage('requests');
    let platform = emulator.setProperty(DEVICE, { targetTemperature: 99 });
    node('reply').receive({ ...(await request), code: 302, message: 'targetTemperature out of range' });
    assert.deepEqual(await platform.then((r) => [r.code, r.msg]), [302, 'targetTemperature out of range']);
    request = nextMessage('requests');
    platform = emulator.getProperty(DEVICE, ['nope']);
    node('reply').receive({ ...(await request), code: 309, payload: {} });
    assert.deepEqual(await platform.then((r) => [r.code, r.msg]), [309, 'identifier not exist']);
  });

  it('takes msg.code as text ("200", "302") like msg.qos, and fails other text clearly', async () => {
    await loadCommands();
    let request = nextMessage('requests');
    let platform = emulator.setProperty(DEVICE, { targetTemperature: 98 });
    node('reply').receive({ ...(await request), code: '302' });
    assert.deepEqual(await platform.then((r) => [r.code, r.msg]), [302, 'data type error']);

    request = nextMessage('requests');
    platform = emulator.getProperty(DEVICE, ['temperature']);
    const msg = await request;
    const caught = nextMessage('catch-out');
    node('reply').receive({ ...msg, payload: { temperature: 20 }, code: 'OK' });
    const failed = await caught;
    assert.match(
      errorText(failed),
      /msg\.code must be a whole number such as 200 \(or "200"\), not the text "OK"/,
    );
    assert.equal(replies.length, 1, 'nothing was sent for the bad code');
    node('reply').receive({ ...msg, payload: { temperature: 20 }, code: '200' });
    const reply = await platform;
    assert.deepEqual([reply.code, reply.data], [200, { temperature: 20 }]);
  });

  it('replies once to a msg that arrives twice, and warns about the second', async () => {
    await loadCommands();
    const request = nextMessage('requests');
    const platform = emulator.setProperty(DEVICE, { targetTemperature: 20 });
    const msg = await request;
    const caught = collect('catch-out');
    node('reply').receive(msg);
    await platform;
    const warned = nextCall('reply', 'warn');
    node('reply').receive({ ...msg });
    assert.deepEqual(await warned, [MESSAGES.duplicateReply]);
    await delay(100);
    assert.equal(replies.length, 1, 'the platform got one reply');
    assert.equal(caught.length, 0, 'a duplicate is a warning, not an error');
  });

  it('fails a msg without msg.onenet, so a Catch node sees it', async () => {
    await loadCommands();
    const caught = nextMessage('catch-out');
    node('reply').receive({ payload: { temperature: 1 } });
    assert.equal(errorText(await caught), MESSAGES.noOnenet);
  });

  it('fails invalid reply data before sending (a property get answered with a non-object)', async () => {
    await loadCommands();
    const request = nextMessage('requests');
    const platform = emulator.getProperty(DEVICE, ['temperature']).catch((err: Error) => err);
    const msg = await request;
    const caught = nextMessage('catch-out');
    node('reply').receive({ ...msg, payload: 'twenty' });
    const failed = await caught;
    assert.match(errorText(failed), /object/);
    await delay(100);
    assert.equal(replies.length, 0, 'nothing was sent');
    // Answer properly so the platform request does not wait for its deadline.
    node('reply').receive({ ...msg, payload: { temperature: 20 } });
    assert.equal(((await platform) as { code: number }).code, 200);
  });

  it('answers property sets at once with autoReply, and still passes the msg on', async () => {
    await loadCommands({ kind: 'property-set', autoReply: true });
    const request = nextMessage('requests');
    const reply = await emulator.setProperty(DEVICE, { targetTemperature: 22 });
    assert.equal(reply.code, 200);
    assert.deepEqual((await request).payload, { targetTemperature: 22 });
  });

  it('passes on only the chosen kind and service', async () => {
    await loadCommands({ kind: 'service-invoke', service: 'reboot' });
    const requests = collect('requests');
    const refused = [
      emulator.setProperty(DEVICE, { targetTemperature: 22 }),
      emulator.invokeService(DEVICE, 'calibrate', {}),
    ];
    const platform = emulator.invokeService(DEVICE, 'reboot', {});
    await waitFor(() => requests.length > 0, 'the reboot request');
    node('reply').receive({ ...requests[0], payload: {} });
    assert.equal((await platform).code, 200);
    // The others were answered by the connection; a msg for them would have been sent before that.
    assert.deepEqual(
      (await Promise.all(refused)).map((r) => r.code),
      [100, 100],
    );
    assert.deepEqual(
      requests.map((m) => m.topic),
      ['reboot'],
    );
  });

  it('answers a request kind no command-in node accepts with 100 at once, not a timeout', async () => {
    await loadCommands({ kind: 'property-set' });
    const requests = collect('requests');
    const started = Date.now();
    // The emulator waits OneNET's 5 s for a reply: an answer well before that came from the device.
    const reply = await emulator.getProperty(DEVICE, ['temperature']);
    assert.ok(Date.now() - started < 2000, `answered after ${Date.now() - started} ms`);
    assert.equal(reply.code, 100);
    assert.equal(reply.msg, 'the device does not handle property get requests');
    assert.equal(reply.data, undefined);
    // A request the node does accept still reaches the flow, and only that one does.
    const accepted = nextMessage('requests');
    const set = emulator.setProperty(DEVICE, { targetTemperature: 19 });
    node('reply').receive(await accepted);
    assert.equal((await set).code, 200);
    assert.deepEqual(
      requests.map((m) => m.topic),
      ['property-set'],
    );
  });

  it('answers a service that no command-in node filters for with 100 at once, naming the service', async () => {
    await loadCommands({ kind: 'service-invoke', service: 'reboot' }, {}, [
      flowNode('in2', 'onenet-command-in', { device: 'cfg', kind: 'service-invoke', service: 'calibrate' }, [
        ['requests'],
      ]),
    ]);
    const started = Date.now();
    const reply = await emulator.invokeService(DEVICE, 'selfTest', { level: 2 });
    assert.ok(Date.now() - started < 2000, `answered after ${Date.now() - started} ms`);
    assert.deepEqual([reply.code, reply.msg], [100, 'the device does not handle service selfTest']);
    const accepted = nextMessage('requests');
    const calibrate = emulator.invokeService(DEVICE, 'calibrate', {});
    const msg = await accepted;
    assert.equal(msg.topic, 'calibrate');
    node('reply').receive({ ...msg, payload: {} });
    assert.equal((await calibrate).code, 200);
  });

  it('uses its own device config when set, whatever msg.onenet.device says', async () => {
    await loadCommands({}, { device: 'cfg' });
    const request = nextMessage('requests');
    const platform = emulator.setProperty(DEVICE, { targetTemperature: 23 });
    const msg = await request;
    node('reply').receive({ ...msg, onenet: { ...(msg.onenet as Msg), device: 'not-a-config-node' } });
    assert.equal((await platform).code, 200);
  });

  it('refuses a request from another device than its own, naming both, and sends nothing', async () => {
    const other = OTHER_DEVICE;
    await loadTranslated(
      'en-US',
      [
        deviceConfig(emulator),
        deviceConfig(emulator, { id: 'cfg2', name: 'second device', deviceName: other.deviceName }),
        flowNode('in', 'onenet-command-in', { device: 'cfg2', kind: 'all', service: '' }, [['requests']]),
        flowNode('requests', 'helper'),
        flowNode('reply', 'onenet-command-reply', { device: 'cfg' }, []),
        flowNode('reply-any', 'onenet-command-reply', { device: '' }, []),
        ...catchAll(),
      ],
      credentials(KEY, ['cfg', 'cfg2']),
    );
    await waitConnected(emulator, other);
    const request = nextMessage('requests');
    const platform = emulator.invokeService(other, 'reboot', {});
    const msg = await request;
    const caught = nextMessage('catch-out');
    node('reply').receive({ ...msg, payload: {} });
    const failed = await caught;
    assert.equal(
      errorText(failed),
      `reply not sent: the request came from OneNET device ${DEVICE.productId}/${other.deviceName} ` +
        `(msg.onenet.device), but this node replies as device ${DEVICE.productId}/${DEVICE.deviceName}; ` +
        "leave the node's Device field empty to reply through the device each request came from",
    );
    assert.ok(!errorText(failed).includes(KEY), 'the key is never in a message');
    assert.deepEqual(failed.onenet, msg.onenet, 'the msg reaches Catch as it came');
    assert.deepEqual(
      emulator.uplinks().filter((u) => u.kind === 'service-invoke-reply' && u.id === (msg.onenet as Msg).id),
      [],
      'no reply went out, on either device',
    );
    // The same msg answered through the device it came from still works.
    node('reply-any').receive({ ...msg, payload: {} });
    assert.equal((await platform).code, 200);
  });

  it('fails when msg.onenet.device names no device config and the node has none', async () => {
    await loadCommands();
    const caught = nextMessage('catch-out');
    node('reply').receive({
      payload: {},
      onenet: { kind: 'property-set', id: '5', device: 'gone', receivedAt: Date.now() },
    });
    assert.equal(errorText(await caught), MESSAGES.noDevice);
  });

  it('warns about malformed platform requests the connection reports, once per report', async () => {
    await loadCommands();
    const device = helper.getNode('cfg') as unknown as DeviceNodeApi;
    const connection = device.acquireConnection('probe');
    try {
      const warned = nextCall('in', 'warn');
      connection.emit('downlink-error', {
        topic: '$sys/p/d/thing/property/set',
        reason: 'malformed JSON',
        id: '7',
      });
      // The text itself (topic and reason filled in) is checked in runtime-messages.test.ts.
      assert.deepEqual(await warned, [MESSAGE_KEYS.platformMessage]);
      await delay(50);
      assert.equal(callHistory('in', 'warn').length, 1);
    } finally {
      await device.releaseConnection('probe');
    }
  });

  it('still sends a reply after the 5 s deadline, with a warning', async function () {
    this.timeout(12000);
    await loadCommands();
    const request = nextMessage('requests');
    const platform = emulator.setProperty(DEVICE, { targetTemperature: 24 }).catch((err: Error) => err);
    const msg = await request;
    await platform; // the emulator gives up at its 5 s deadline
    await delay(5100 - (Date.now() - Number((msg.onenet as Msg).receivedAt)));
    const warned = nextCall('reply', 'warn');
    const sent = new Promise<void>((resolve) => emulator.once('uplink', () => resolve()));
    node('reply').receive(msg);
    assert.deepEqual(await warned, [MESSAGES.lateReply]);
    await sent;
  });
});
