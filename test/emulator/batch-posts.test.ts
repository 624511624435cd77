import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import type { EmulatorDevice, EmulatorOptions, OneNetEmulator, ThingModel } from '../../src/emulator';
import {
  PRODUCT,
  closeAll,
  connected,
  newDevice,
  nextMessage,
  request,
  startEmulator,
  topicOf,
} from './helpers';

/** shared/onenet-next.md §Q3 3.1, the history example verbatim. */
const HISTORY_EXAMPLE = `{"id":"123","version":"1.0","params":[{"identity":{"productID":"","deviceName":""},
    "properties":{"Power":[{"value":"on","time":1524448722000},{"value":"off","time":1524448723000}],
                  "WF":[{"value":"3","time":1524448723000},{"value":"3","time":1524448724000}]},
    "events":{"alarmEvent1":[{"value":{"Power":"on","WF":"2"},"time":1524448722000},{"value":{"Power":"off","WF":"3"},"time":1524448723000}]}}]}`;

/** shared/onenet-protocol.md §3.1 #8 verbatim. */
const PACK_EXAMPLE = `{"id":"123","version":"1.0","params":[{"identity":{"productID":"","deviceName":""},
 "properties":{"Power":{"value":"on","time":1524448722000}},
 "events":{"alarmEvent1":{"value":{"Power":"on","WF":"2"},"time":1524448722000}}}]}`;

const T = 1_700_000_000_000;

const MODEL: ThingModel = {
  properties: [{ identifier: 'temperature', dataType: { type: 'float', min: -40, max: 120 } }],
  events: [{ identifier: 'overheat', outputs: [{ identifier: 'level', dataType: { type: 'int' } }] }],
};

interface Setup {
  emulator: OneNetEmulator;
  device: EmulatorDevice;
  client: MqttClient;
}

async function setup(options: EmulatorOptions = {}): Promise<Setup> {
  const device = newDevice();
  const emulator = await startEmulator({ devices: [device], ...options });
  const client = await connected(emulator.port, device);
  await client.subscribeAsync(topicOf(device, 'thing/#'));
  return { emulator, device, client };
}

/** Publishes on thing/{suffix} and resolves with the reply's payload. */
async function post(
  { device, client }: Setup,
  suffix: 'pack/post' | 'history/post' | 'property/post',
  payload: string,
): Promise<Record<string, unknown>> {
  const reply = nextMessage(client, topicOf(device, `thing/${suffix}/reply`));
  await client.publishAsync(topicOf(device, `thing/${suffix}`), payload, { qos: 1 });
  return (await reply).payload;
}

function history(entries: unknown): string {
  return request('9', entries);
}

function values(n: number, start = T): Array<{ value: number; time: number }> {
  return Array.from({ length: n }, (_, i) => ({ value: i, time: start + i * 1000 }));
}

describe('emulator pack/post and history/post (§3.1 #8, #9)', () => {
  afterEach(closeAll);

  it('stores every value of the documented history example with its own time', async () => {
    const s = await setup();
    assert.deepEqual(await post(s, 'history/post', HISTORY_EXAMPLE), {
      id: '123',
      code: 200,
      msg: 'success',
    });
    assert.deepEqual(
      s.emulator.propertyHistory(s.device).map(({ identifier, value, time, via, id }) => ({
        identifier,
        value,
        time,
        via,
        id,
      })),
      [
        { identifier: 'Power', value: 'on', time: 1524448722000, via: 'history-post', id: '123' },
        { identifier: 'Power', value: 'off', time: 1524448723000, via: 'history-post', id: '123' },
        { identifier: 'WF', value: '3', time: 1524448723000, via: 'history-post', id: '123' },
        { identifier: 'WF', value: '3', time: 1524448724000, via: 'history-post', id: '123' },
      ],
    );
    assert.deepEqual(
      s.emulator.propertyHistory(s.device, 'WF').map((r) => r.time),
      [1524448723000, 1524448724000],
    );
    assert.deepEqual(s.emulator.eventLog(s.device), [
      { identifier: 'alarmEvent1', value: { Power: 'on', WF: '2' }, time: 1524448722000, id: '123' },
      { identifier: 'alarmEvent1', value: { Power: 'off', WF: '3' }, time: 1524448723000, id: '123' },
    ]);
    // The latest values are property/post's and pack/post's (docs/emulator.md).
    assert.deepEqual(s.emulator.latestProperties(s.device), {});
    const record = s.emulator.uplinks(s.device).at(-1)!;
    assert.equal(record.kind, 'history-post');
    assert.equal(record.id, '123');
  });

  it('stores the documented pack example as latest values, in the history and the event log', async () => {
    const s = await setup();
    assert.equal((await post(s, 'pack/post', PACK_EXAMPLE)).code, 200);
    assert.deepEqual(s.emulator.latestProperties(s.device), { Power: { value: 'on', time: 1524448722000 } });
    assert.deepEqual(
      s.emulator.propertyHistory(s.device).map((r) => [r.identifier, r.value, r.time, r.via]),
      [['Power', 'on', 1524448722000, 'pack-post']],
    );
    assert.deepEqual(s.emulator.eventLog(s.device), [
      { identifier: 'alarmEvent1', value: { Power: 'on', WF: '2' }, time: 1524448722000, id: '123' },
    ]);
  });

  it('keeps every value with its original time whichever topic carried it, in arrival order', async () => {
    const s = await setup();
    const before = Date.now();
    await post(s, 'property/post', request('1', { t: { value: 1, time: T }, u: { value: 'x' } }));
    await post(
      s,
      'pack/post',
      request('2', [{ properties: { t: { value: 2, time: T + 1000 }, u: { value: 'y' } } }]),
    );
    await post(
      s,
      'history/post',
      history([
        {
          identity: { productID: PRODUCT, deviceName: s.device.deviceName },
          properties: { t: values(3, T - 5000) },
        },
      ]),
    );
    const after = Date.now();
    const stored = s.emulator.propertyHistory(s.device);
    assert.deepEqual(
      stored.map((r) => [r.identifier, r.value, r.via, r.id]),
      [
        ['t', 1, 'property-post', '1'],
        ['u', 'x', 'property-post', '1'],
        ['t', 2, 'pack-post', '2'],
        ['u', 'y', 'pack-post', '2'],
        ['t', 0, 'history-post', '9'],
        ['t', 1, 'history-post', '9'],
        ['t', 2, 'history-post', '9'],
      ],
    );
    assert.deepEqual(
      s.emulator.propertyHistory(s.device, 't').map((r) => r.time),
      [T, T + 1000, T - 5000, T - 4000, T - 3000],
    );
    // A value sent without a time gets the time it arrived.
    for (const record of stored.filter((r) => r.identifier === 'u')) {
      assert.ok(record.time >= before && record.time <= after, String(record.time));
    }
    // history/post does not move the latest value back in time.
    assert.deepEqual(s.emulator.latestProperties(s.device).t, { value: 2, time: T + 1000 });
  });

  describe('refusals (nothing is stored)', () => {
    async function refused(
      s: Setup,
      suffix: 'pack/post' | 'history/post',
      payload: string,
      code: number,
    ): Promise<void> {
      const reply = await post(s, suffix, payload);
      assert.equal(reply.code, code, JSON.stringify(reply));
      assert.deepEqual(s.emulator.propertyHistory(s.device), []);
      assert.deepEqual(s.emulator.eventLog(s.device), []);
      assert.deepEqual(s.emulator.latestProperties(s.device), {});
    }
    const own = (s: Setup) => ({ productID: PRODUCT, deviceName: s.device.deviceName });
    const others = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        identity: { productID: PRODUCT, deviceName: `sub${i}` },
        properties: { t: values(1) },
      }));

    it('11 device entries: 301 by default', async () => {
      const s = await setup();
      await refused(s, 'history/post', history(others(11)), 301);
    });

    it('over a limit: the configured code', async () => {
      const s = await setup({ batchPosts: { limitCode: 313, valuesPerPoint: 5 } });
      await refused(s, 'history/post', history([{ properties: { t: values(6) } }]), 313);
      assert.equal((await post(s, 'history/post', history([{ properties: { t: values(5) } }]))).code, 200);
    });

    it('101 values for one identifier, 101 points in one entry', async () => {
      const s = await setup();
      await refused(s, 'history/post', history([{ properties: { t: values(101) } }]), 301);
      const points = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, { value: i }]));
      await refused(s, 'pack/post', history([{ properties: points }]), 301);
    });

    it('events count as points unless eventsArePoints is false', async () => {
      const entry = {
        properties: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${i}`, { value: i }])),
        events: { alarm: { value: { level: 1 } } },
      };
      const strict = await setup();
      await refused(strict, 'pack/post', history([entry]), 301);
      await closeAll();
      const lenient = await setup({ batchPosts: { eventsArePoints: false } });
      assert.equal((await post(lenient, 'pack/post', history([entry]))).code, 200);
      assert.equal(lenient.emulator.propertyHistory(lenient.device).length, 100);
    });

    it("another device's identity: 307 (a direct device posts only its own data)", async () => {
      const s = await setup();
      await refused(
        s,
        'pack/post',
        history([
          { properties: { t: { value: 1 } } },
          { identity: { productID: PRODUCT, deviceName: 'sub0' }, properties: { t: { value: 1 } } },
        ]),
        307,
      );
      const configured = await setup({ batchPosts: { foreignIdentityCode: 313 } });
      await refused(configured, 'history/post', history(others(1)), 313);
    });

    it('the own device in two entries (with and without identity): 301', async () => {
      const s = await setup();
      await refused(
        s,
        'pack/post',
        history([{ properties: { t: { value: 1 } } }, { identity: own(s), properties: { u: { value: 2 } } }]),
        301,
      );
    });

    it('shape and value errors with the codes property/post uses', async () => {
      const s = await setup();
      await refused(s, 'history/post', '{"id":"5","params":', 301);
      await refused(s, 'history/post', history([{ properties: { t: [{ value: 1 }] } }]), 302);
      await refused(s, 'history/post', history([{ properties: { 'a-b': values(1) } }]), 309);
      await refused(s, 'pack/post', '{"id":"x","params":[]}', 312);
    });

    it('with a thing model: unknown identifiers 309, wrong types 302, anywhere in the message', async () => {
      const s = await setup({ products: [{ productId: PRODUCT, thingModel: MODEL }] });
      await refused(s, 'history/post', history([{ properties: { humidity: values(1) } }]), 309);
      await refused(
        s,
        'history/post',
        history([
          {
            properties: {
              temperature: [
                { value: 20, time: T },
                { value: 500, time: T + 1 },
              ],
            },
          },
        ]),
        302,
      );
      await refused(s, 'pack/post', history([{ events: { overheat: { value: { level: 'high' } } } }]), 302);
      const ok = await post(
        s,
        'history/post',
        history([
          {
            properties: { temperature: values(2) },
            events: { overheat: [{ value: { level: 2 }, time: T }] },
          },
        ]),
      );
      assert.equal(ok.code, 200);
      assert.equal(s.emulator.propertyHistory(s.device, 'temperature').length, 2);
      assert.equal(s.emulator.eventLog(s.device).length, 1);
    });
  });

  it('keeps at most propertyHistoryLimit values per device, the newest', async () => {
    const s = await setup({ propertyHistoryLimit: 3 });
    await post(s, 'history/post', history([{ properties: { t: values(5) } }]));
    assert.deepEqual(
      s.emulator.propertyHistory(s.device).map((r) => r.value),
      [2, 3, 4],
    );
  });

  it('refuses nonsense batch options at start', async () => {
    await assert.rejects(
      startEmulator({ batchPosts: { valuesPerPoint: 0 } }),
      /valuesPerPoint must be a positive integer/,
    );
  });
});
