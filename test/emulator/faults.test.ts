import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import type { ClientDisconnectedEvent } from '../../src/emulator';
import {
  closeAll,
  closedWithin,
  collectMessages,
  connectDevice,
  connected,
  newDevice,
  nextEvent,
  nextMessage,
  nowSeconds,
  request,
  startEmulator,
  tokenFor,
  topicOf,
} from './helpers';

function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('emulator fault hooks', () => {
  afterEach(closeAll);

  it('dropDevice closes that device only, like a network drop', async () => {
    const first = newDevice('a');
    const second = newDevice('b');
    const emulator = await startEmulator({ devices: [first, second] });
    const a = await connected(emulator.port, first);
    const b = await connected(emulator.port, second);
    const disconnected = nextEvent<ClientDisconnectedEvent>(emulator, 'client-disconnected');
    assert.equal(emulator.dropDevice(first), true);
    await closedWithin(a);
    assert.match((await disconnected).reason, /dropDevice/);
    assert.ok(b.connected);
    assert.equal(emulator.dropDevice(first), false);
    assert.deepEqual(
      emulator.connections().map((c) => c.deviceName),
      ['b'],
    );
  });

  it('stopListening closes every connection and the port, keeps state; startListening reuses the port', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device] });
    const port = emulator.port;
    const client = await connected(emulator.port, device);
    await client.subscribeAsync(topicOf(device, 'thing/property/post/reply'));
    const reply = nextMessage(client, topicOf(device, 'thing/property/post/reply'));
    await client.publishAsync(topicOf(device, 'thing/property/post'), request('1', { a: { value: 5 } }));
    await reply;
    const disconnected = nextEvent<ClientDisconnectedEvent>(emulator, 'client-disconnected');
    await emulator.stopListening();
    await closedWithin(client);
    assert.match((await disconnected).reason, /stopped listening/);
    assert.equal(await portRefuses(port), true);
    assert.deepEqual(emulator.connections(), []);
    await emulator.startListening();
    assert.equal(emulator.port, port);
    assert.equal((await connectDevice(port, device)).kind, 'connected');
    assert.equal(emulator.latestProperties(device).a?.value, 5);
    assert.equal(emulator.uplinks(device).length, 1);
  });

  it('setReplyDelay holds the platform replies', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device] });
    const client = await connected(emulator.port, device);
    await client.subscribeAsync(topicOf(device, 'thing/property/post/reply'));
    emulator.setReplyDelay(300);
    const started = Date.now();
    const reply = nextMessage(client, topicOf(device, 'thing/property/post/reply'));
    await client.publishAsync(topicOf(device, 'thing/property/post'), request('1', { a: { value: 1 } }));
    assert.equal((await reply).payload.code, 200);
    assert.ok(Date.now() - started >= 290, `replied after ${Date.now() - started} ms`);
    emulator.setReplyDelay(0);
    const quick = Date.now();
    const second = nextMessage(client, topicOf(device, 'thing/property/post/reply'));
    await client.publishAsync(topicOf(device, 'thing/property/post'), request('2', { a: { value: 1 } }));
    await second;
    assert.ok(Date.now() - quick < 250);
  });

  it('failReplies answers every device request with the given code, until reset', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device] });
    const client = await connected(emulator.port, device);
    await client.subscribeAsync(topicOf(device, 'thing/#'));
    const replies = collectMessages(client);
    emulator.failReplies(303);
    const first = nextMessage(client, topicOf(device, 'thing/property/post/reply'));
    await client.publishAsync(topicOf(device, 'thing/property/post'), request('1', { a: { value: 1 } }));
    await first;
    emulator.failReplies(undefined);
    const second = nextMessage(client, topicOf(device, 'thing/event/post/reply'));
    await client.publishAsync(topicOf(device, 'thing/event/post'), request('2', { e: { value: { x: 1 } } }));
    await second;
    assert.deepEqual(
      replies.map((m) => [m.payload.id, m.payload.code, m.payload.msg]),
      [
        ['1', 303, 'internal error'],
        ['2', 200, 'success'],
      ],
    );
    assert.deepEqual(emulator.latestProperties(device), {}, 'a failed post stores nothing');
  });

  it('expireTokens disconnects sessions and refuses their token afterwards; a fresh token connects', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device] });
    const token = tokenFor(device, { et: nowSeconds() + 3600 });
    const client = await connected(emulator.port, device, { token });
    const disconnected = nextEvent<ClientDisconnectedEvent>(emulator, 'client-disconnected');
    emulator.expireTokens(device);
    await closedWithin(client);
    assert.match((await disconnected).reason, /token expired/);
    const again = await connectDevice(emulator.port, device, { token });
    assert.equal(again.kind === 'refused' && again.code, 4);
    assert.equal(
      (await connectDevice(emulator.port, device, { token: tokenFor(device, { et: nowSeconds() + 7200 }) }))
        .kind,
      'connected',
    );
  });

  it('expireTokens without a device expires every session', async () => {
    const first = newDevice('a');
    const second = newDevice('b');
    const emulator = await startEmulator({ devices: [first, second] });
    const a = await connected(emulator.port, first);
    const b = await connected(emulator.port, second);
    emulator.expireTokens();
    await Promise.all([closedWithin(a), closedWithin(b)]);
    assert.deepEqual(emulator.connections(), []);
  });

  it('disconnects a session when its token et passes', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device] });
    const client = await connected(emulator.port, device, {
      token: tokenFor(device, { et: nowSeconds() + 1 }),
    });
    const disconnected = nextEvent<ClientDisconnectedEvent>(emulator, 'client-disconnected', 3000);
    await closedWithin(client, 3000);
    assert.match((await disconnected).reason, /et passed/);
  });

  it('keeps a session past its et when disconnectOnTokenExpiry is false', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device], disconnectOnTokenExpiry: false });
    const client = await connected(emulator.port, device, { token: tokenFor(device, { et: nowSeconds() }) });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    await client.publishAsync(topicOf(device, 'thing/property/post'), request('1', { a: { value: 1 } }), {
      qos: 1,
    });
    assert.ok(client.connected);
  });

  it('removeDevice closes the session and refuses later logins', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device] });
    const client = await connected(emulator.port, device);
    emulator.removeDevice(device);
    await closedWithin(client);
    const again = await connectDevice(emulator.port, device);
    assert.equal(again.kind === 'refused' && again.code, 4);
  });
});

describe('emulator uplink rate limit (§1.4)', () => {
  afterEach(closeAll);

  it('is off by default', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device] });
    const client = await connected(emulator.port, device);
    const started = Date.now();
    for (let i = 1; i <= 20; i++)
      await client.publishAsync(
        topicOf(device, 'thing/property/post'),
        request(String(i), { a: { value: i } }),
        { qos: 1 },
      );
    assert.equal(emulator.uplinks(device).length, 20);
    assert.ok(Date.now() - started < 1000);
  });

  it('holds publishes beyond the per-second allowance until the next second', async function () {
    this.timeout(8000);
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device], uplinkRateLimit: { perSecond: 2 } });
    const client = await connected(emulator.port, device);
    await client.subscribeAsync(topicOf(device, 'thing/property/post/reply'));
    const replies = collectMessages(client);
    const acks = [];
    for (let i = 1; i <= 5; i++) {
      acks.push(
        client.publishAsync(topicOf(device, 'thing/property/post'), request(String(i), { a: { value: i } }), {
          qos: 1,
        }),
      );
    }
    await Promise.all(acks);
    const perSecond = new Map<number, number>();
    for (const record of emulator.uplinks(device)) {
      const second = Math.floor(record.receivedAt / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    assert.ok(
      [...perSecond.values()].every((count) => count <= 2),
      JSON.stringify([...perSecond]),
    );
    assert.ok(perSecond.size >= 3);
    assert.deepEqual(
      emulator.uplinks(device).map((r) => r.id),
      ['1', '2', '3', '4', '5'],
    );
    while (replies.length < 5) await nextMessage(client, topicOf(device, 'thing/property/post/reply'));
    assert.deepEqual(
      replies.map((m) => m.payload.id),
      ['1', '2', '3', '4', '5'],
    );
  });

  it('counts per device', async () => {
    const first = newDevice('a');
    const second = newDevice('b');
    const emulator = await startEmulator({ devices: [first, second], uplinkRateLimit: { perSecond: 1 } });
    const a = await connected(emulator.port, first);
    const b = await connected(emulator.port, second);
    const started = Date.now();
    await Promise.all([
      a.publishAsync(topicOf(first, 'thing/property/post'), request('1', { x: { value: 1 } }), { qos: 1 }),
      b.publishAsync(topicOf(second, 'thing/property/post'), request('1', { x: { value: 1 } }), { qos: 1 }),
    ]);
    assert.ok(Date.now() - started < 500);
  });
});
