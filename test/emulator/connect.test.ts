import assert from 'node:assert/strict';
import { deviceResource, productResource } from '../../src/protocol';
import type { ClientDisconnectedEvent, ClientRefusedEvent } from '../../src/emulator';
import {
  PRODUCT,
  closeAll,
  closedWithin,
  connectDevice,
  connected,
  newDevice,
  newKey,
  nextEvent,
  nowSeconds,
  startEmulator,
  tokenFor,
} from './helpers';

describe('emulator CONNECT (§1.3, §2, §7 item 2)', () => {
  afterEach(closeAll);

  describe('accepts', () => {
    for (const method of ['sha256', 'sha1', 'md5'] as const) {
      it(`a token signed with the device key (${method})`, async () => {
        const device = newDevice();
        const emulator = await startEmulator({ devices: [device] });
        const connectedEvent = nextEvent<{ productId: string; deviceName: string; token: string }>(
          emulator,
          'client-connected',
        );
        const token = tokenFor(device, { method });
        const outcome = await connectDevice(emulator.port, device, { token });
        assert.equal(outcome.kind, 'connected');
        assert.deepEqual(await connectedEvent, { productId: PRODUCT, deviceName: 'dev1', token });
        assert.equal(emulator.stats.connects, 1);
        assert.deepEqual(
          emulator.connections().map(({ productId, deviceName }) => ({ productId, deviceName })),
          [{ productId: PRODUCT, deviceName: 'dev1' }],
        );
      });
    }

    it('a device-resource token signed with the product access key (§2.3)', async () => {
      const device = newDevice();
      const accessKey = newKey();
      const emulator = await startEmulator({
        devices: [device],
        products: [{ productId: PRODUCT, accessKey }],
      });
      assert.equal(
        (await connectDevice(emulator.port, device, { token: tokenFor(device, { key: accessKey }) })).kind,
        'connected',
      );
    });

    it('a product-resource token signed with the product access key (一型一密, §2.3)', async () => {
      const device = newDevice();
      const accessKey = newKey();
      const emulator = await startEmulator({
        devices: [device],
        products: [{ productId: PRODUCT, accessKey }],
      });
      const token = tokenFor(device, { key: accessKey, res: productResource(PRODUCT) });
      assert.equal((await connectDevice(emulator.port, device, { token })).kind, 'connected');
    });

    it('a device added after start', async () => {
      const emulator = await startEmulator();
      const device = newDevice();
      emulator.addDevice(device);
      assert.equal((await connectDevice(emulator.port, device)).kind, 'connected');
    });
  });

  describe('refuses with CONNACK 4 (bad username or password, §2.6)', () => {
    const other = newDevice('dev2');
    const cases: Array<{
      name: string;
      reason: RegExp;
      attempt: (device: ReturnType<typeof newDevice>) => {
        token?: string;
        clientId?: string;
        username?: string;
      };
    }> = [
      {
        name: 'a wrong sign',
        reason: /sign/,
        attempt: (device) => ({ token: tokenFor(device, { key: newKey() }) }),
      },
      {
        name: 'an expired et',
        reason: /expired/,
        attempt: (device) => ({ token: tokenFor(device, { et: nowSeconds() - 10 }) }),
      },
      {
        name: 'a res naming another device',
        reason: /res/,
        attempt: (device) => ({
          token: tokenFor(device, { res: deviceResource(PRODUCT, other.deviceName) }),
        }),
      },
      {
        name: 'a client id that is not the token device',
        reason: /not found|res/,
        attempt: (device) => ({ token: tokenFor(device), clientId: 'dev2' }),
      },
      {
        name: 'a username that is not the product id',
        reason: /not found/,
        attempt: (device) => ({ token: tokenFor(device), username: 'OtherProd1' }),
      },
      {
        name: 'an unknown device',
        reason: /not found/,
        attempt: (device) => ({ token: tokenFor(device), clientId: 'ghost' }),
      },
      {
        name: 'a token version other than 2018-10-31',
        reason: /version/,
        attempt: (device) => ({ token: tokenFor(device, { version: '2022-05-01' }) }),
      },
      { name: 'a token that is not a token', reason: /invalid token/, attempt: () => ({ token: 'hello' }) },
      {
        name: 'a product-resource token signed with the device key',
        reason: /res|sign/,
        attempt: (device) => ({ token: tokenFor(device, { res: productResource(PRODUCT) }) }),
      },
    ];
    for (const testCase of cases) {
      it(testCase.name, async () => {
        const device = newDevice();
        const lines: string[] = [];
        const emulator = await startEmulator({ devices: [device, other], log: (line) => lines.push(line) });
        const refused = nextEvent<ClientRefusedEvent>(emulator, 'client-refused');
        const { token, ...overrides } = testCase.attempt(device);
        const outcome = await connectDevice(emulator.port, device, {
          ...(token ? { token } : {}),
          ...overrides,
        });
        assert.equal(outcome.kind, 'refused');
        assert.equal(outcome.kind === 'refused' && outcome.code, 4);
        const event = await refused;
        assert.match(event.reason, testCase.reason);
        assert.equal(emulator.stats.authFailures, 1);
        assert.equal(emulator.stats.connects, 0);
        const printed = lines.join('\n');
        assert.ok(!printed.includes(device.key), 'the key never reaches the log');
        if (token) {
          assert.ok(!printed.includes(token), 'the token never reaches the log');
          assert.ok(!event.reason.includes(token));
        }
      });
    }

    it('a device key pasted as the password, without printing any of it', async () => {
      const device = newDevice();
      const lines: string[] = [];
      const emulator = await startEmulator({ devices: [device], log: (line) => lines.push(line) });
      const refused = nextEvent<ClientRefusedEvent>(emulator, 'client-refused');
      const unpadded = device.key.replace(/=+$/, '');
      const outcome = await connectDevice(emulator.port, device, { token: unpadded });
      assert.equal(outcome.kind === 'refused' && outcome.code, 4);
      const { reason } = await refused;
      for (const text of [reason, ...lines]) assert.ok(!text.includes(unpadded.slice(0, 8)), text);
    });

    it('a missing password', async () => {
      const device = newDevice();
      const emulator = await startEmulator({ devices: [device] });
      const outcome = await connectDevice(emulator.port, device, { token: '' });
      assert.equal(outcome.kind === 'refused' && outcome.code, 4);
    });
  });

  describe('refuses protocol violations', () => {
    it('MQTT 3.1 (level 3) with CONNACK 1', async () => {
      const device = newDevice();
      const emulator = await startEmulator({ devices: [device] });
      const refused = nextEvent<ClientRefusedEvent>(emulator, 'client-refused');
      const outcome = await connectDevice(emulator.port, device, {
        protocolVersion: 3,
        protocolId: 'MQIsdp',
      });
      assert.equal(outcome.kind === 'refused' && outcome.code, 1);
      assert.match((await refused).reason, /level 3/);
      assert.equal(emulator.stats.authFailures, 0);
      assert.equal(emulator.stats.refusals, 1);
    });

    it('MQTT 5 is never connected', async () => {
      const device = newDevice();
      const emulator = await startEmulator({ devices: [device] });
      const refused = nextEvent<ClientRefusedEvent>(emulator, 'client-refused');
      const outcome = await connectDevice(emulator.port, device, { protocolVersion: 5 });
      assert.notEqual(outcome.kind, 'connected');
      assert.match((await refused).reason, /level 5/);
      assert.equal(emulator.connections().length, 0);
    });

    const closes: Array<{ name: string; options: Record<string, unknown>; reason: RegExp }> = [
      {
        name: 'a will message',
        options: { will: { topic: '$sys/x/y/z', payload: Buffer.from('bye'), qos: 0, retain: false } },
        reason: /will/,
      },
      {
        name: 'a retained will',
        options: { will: { topic: '$sys/x/y/z', payload: Buffer.from('bye'), qos: 0, retain: true } },
        reason: /will/,
      },
      { name: 'clean session 0', options: { clean: false }, reason: /clean session/ },
      { name: 'keepalive 9 s', options: { keepalive: 9 }, reason: /keepalive 9/ },
      { name: 'keepalive 0 (none)', options: { keepalive: 0 }, reason: /keepalive 0/ },
      { name: 'keepalive 1801 s', options: { keepalive: 1801 }, reason: /keepalive 1801/ },
    ];
    for (const testCase of closes) {
      it(`${testCase.name} by closing without CONNACK`, async () => {
        const device = newDevice();
        const emulator = await startEmulator({ devices: [device] });
        const refused = nextEvent<ClientRefusedEvent>(emulator, 'client-refused');
        const outcome = await connectDevice(emulator.port, device, testCase.options);
        assert.equal(outcome.kind, 'closed');
        assert.match((await refused).reason, testCase.reason);
        assert.equal(emulator.stats.connects, 0);
      });
    }

    it('accepts the keepalive bounds 10 and 1800', async () => {
      const first = newDevice('a');
      const second = newDevice('b');
      const emulator = await startEmulator({ devices: [first, second] });
      assert.equal((await connectDevice(emulator.port, first, { keepalive: 10 })).kind, 'connected');
      assert.equal((await connectDevice(emulator.port, second, { keepalive: 1800 })).kind, 'connected');
    });
  });

  describe('a second login of the same device (§1.3)', () => {
    it('kicks the older connection and keeps the newer one', async () => {
      const device = newDevice();
      const emulator = await startEmulator({ devices: [device] });
      const older = await connected(emulator.port, device);
      const kicked = nextEvent(emulator, 'kicked');
      const disconnected = nextEvent<ClientDisconnectedEvent>(emulator, 'client-disconnected');
      const olderClosed = closedWithin(older);
      const newer = await connected(emulator.port, device);
      await olderClosed;
      assert.deepEqual(await kicked, { productId: PRODUCT, deviceName: 'dev1' });
      assert.match((await disconnected).reason, /kicked/);
      assert.equal(emulator.stats.kicks, 1);
      assert.equal(emulator.connections().length, 1);
      assert.ok(newer.connected);
      await newer.publishAsync(
        `$sys/${PRODUCT}/dev1/thing/property/post`,
        '{"id":"1","params":{"a":{"value":1}}}',
        { qos: 1 },
      );
    });

    it('does not kick a device of the same name in another product', async () => {
      const first = newDevice('same', 'ProductAAA');
      const second = newDevice('same', 'ProductBBB');
      const emulator = await startEmulator({ devices: [first, second] });
      const a = await connected(emulator.port, first);
      const b = await connected(emulator.port, second);
      await b.publishAsync(
        `$sys/ProductBBB/same/thing/property/post`,
        '{"id":"1","params":{"a":{"value":1}}}',
        { qos: 1 },
      );
      assert.ok(a.connected && b.connected);
      assert.equal(emulator.stats.kicks, 0);
      assert.equal(emulator.connections().length, 2);
    });
  });

  it('reports a clean disconnect with its reason', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device] });
    const client = await connected(emulator.port, device);
    const disconnected = nextEvent<ClientDisconnectedEvent>(emulator, 'client-disconnected');
    await client.endAsync();
    assert.deepEqual(await disconnected, {
      productId: PRODUCT,
      deviceName: 'dev1',
      reason: 'the device sent DISCONNECT',
    });
    assert.equal(emulator.connections().length, 0);
  });
});
