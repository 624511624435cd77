import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { SUB_PRODUCT, T, answer, bind, call, identity, rejection, setup } from './gateway-helpers';
import { closeAll, nextEvent, request, topicOf } from './helpers';

describe('emulator gateways: sub-device data and commands (onenet-next.md §Q2)', () => {
  afterEach(closeAll);

  describe('sub-device data', () => {
    it('stores pack/post values of a bound sub-device under the sub-device', async () => {
      const s = await setup();
      const sub = s.subs[0]!;
      await bind(s, sub);
      const payload = request('7', [
        { identity: identity(s.gateway), properties: { uptime: { value: 5, time: T } } },
        {
          identity: identity(sub),
          properties: { Power: { value: 'on', time: T + 1 } },
          events: { alarm: { value: { level: 2 }, time: T + 2 } },
        },
      ]);
      assert.deepEqual(await call(s, 'pack/post', payload), { id: '7', code: 200, msg: 'success' });
      assert.deepEqual(s.emulator.latestProperties(sub), { Power: { value: 'on', time: T + 1 } });
      assert.deepEqual(s.emulator.latestProperties(s.gateway), { uptime: { value: 5, time: T } });
      assert.deepEqual(
        s.emulator.propertyHistory(sub).map(({ identifier, via, id }) => [identifier, via, id]),
        [['Power', 'pack-post', '7']],
      );
      assert.deepEqual(s.emulator.eventLog(sub), [
        { identifier: 'alarm', value: { level: 2 }, time: T + 2, id: '7' },
      ]);
      assert.equal(s.emulator.uplinks(s.gateway).filter((record) => record.kind === 'pack-post').length, 1);
    });

    it('refuses a pack/post with an unbound sub-device with 307 and stores none of it', async () => {
      const s = await setup();
      await bind(s, s.subs[0]!);
      const payload = request('8', [
        { identity: identity(s.subs[0]!), properties: { t: { value: 1 } } },
        { identity: identity(s.subs[1]!), properties: { t: { value: 2 } } },
      ]);
      const reply = await call(s, 'pack/post', payload);
      assert.equal(reply.code, 307);
      assert.deepEqual(s.emulator.propertyHistory(s.subs[0]!), []);
      assert.match(s.logs.join('\n'), /field-1 is not bound to gateway/);
    });

    it('uses the configured code for unbound sub-devices', async () => {
      const s = await setup({ gateways: { codes: { notBound: 308 } } });
      const payload = request('8', [{ identity: identity(s.subs[1]!), properties: { t: { value: 2 } } }]);
      assert.equal((await call(s, 'pack/post', payload)).code, 308);
    });

    it('stores history/post values of a sub-device, each with its time', async () => {
      const s = await setup();
      const sub = s.subs[2]!;
      await bind(s, sub);
      const payload = request('9', [
        {
          identity: identity(sub),
          properties: {
            t: [
              { value: 1, time: T },
              { value: 2, time: T + 1000 },
            ],
          },
        },
      ]);
      assert.equal((await call(s, 'history/post', payload)).code, 200);
      assert.deepEqual(
        s.emulator.propertyHistory(sub).map(({ value, time, via }) => [value, time, via]),
        [
          [1, T, 'history-post'],
          [2, T + 1000, 'history-post'],
        ],
      );
    });

    it('stores the documented history/post of two sub-devices, each value with its time; an unbound one refuses it all', async () => {
      const s = await setup();
      const [first, second, unbound] = s.subs;
      await bind(s, first!);
      await bind(s, second!);
      // onenet-next.md §Q3: the documentation's example, one entry per sub-device.
      const entry = (sub: typeof first) => ({
        identity: identity(sub!),
        properties: {
          Power: [
            { value: 'on', time: 1524448722000 },
            { value: 'off', time: 1524448723000 },
          ],
          WF: [
            { value: '3', time: 1524448723000 },
            { value: '3', time: 1524448724000 },
          ],
        },
        events: {
          alarmEvent1: [
            { value: { Power: 'on', WF: '2' }, time: 1524448722000 },
            { value: { Power: 'off', WF: '3' }, time: 1524448723000 },
          ],
        },
      });
      assert.equal((await call(s, 'history/post', request('21', [entry(first), entry(second)]))).code, 200);
      for (const sub of [first!, second!]) {
        assert.deepEqual(
          s.emulator.propertyHistory(sub).map(({ identifier, value, time }) => [identifier, value, time]),
          [
            ['Power', 'on', 1524448722000],
            ['Power', 'off', 1524448723000],
            ['WF', '3', 1524448723000],
            ['WF', '3', 1524448724000],
          ],
        );
        assert.deepEqual(
          s.emulator.eventLog(sub).map(({ identifier, value, time }) => [identifier, value, time]),
          [
            ['alarmEvent1', { Power: 'on', WF: '2' }, 1524448722000],
            ['alarmEvent1', { Power: 'off', WF: '3' }, 1524448723000],
          ],
        );
      }
      const refused = await call(s, 'history/post', request('22', [entry(first), entry(unbound)]));
      assert.equal(refused.code, 307);
      assert.equal(s.emulator.propertyHistory(first!).length, 4, 'nothing of the refused message stored');
    });

    it('takes 10 identities in one message and refuses 11 with 301', async () => {
      const s = await setup({}, 11);
      for (const sub of s.subs) s.emulator.bindSubDevice(s.gateway, sub);
      const entries = s.subs.map((sub, i) => ({ identity: identity(sub), properties: { t: { value: i } } }));
      assert.equal((await call(s, 'pack/post', request('10', entries.slice(0, 10)))).code, 200);
      assert.equal((await call(s, 'pack/post', request('11', entries))).code, 301);
      assert.deepEqual(s.emulator.propertyHistory(s.subs[10]!), []);
    });

    it("counts sub-device traffic against the gateway's uplink limit", async () => {
      const s = await setup({ uplinkRateLimit: { perSecond: 1, mode: 'disconnect' } });
      s.emulator.bindSubDevice(s.gateway, s.subs[0]!);
      const closed = nextEvent(s.client as unknown as EventEmitter, 'close');
      const topic = topicOf(s.gateway, 'thing/pack/post');
      for (let i = 0; i < 3; i++)
        s.client.publish(
          topic,
          request(String(20 + i), [{ identity: identity(s.subs[0]!), properties: { t: { value: i } } }]),
        );
      await closed;
      const violations = s.emulator.rateViolations(s.gateway);
      assert.ok(violations.length >= 1);
      assert.equal(violations[0]!.topic, topic);
      assert.deepEqual(s.emulator.rateViolations(s.subs[0]!), []);
    });
  });

  describe('sub-device commands', () => {
    it('sets a property through the gateway on sub/property/set, answered on set_reply', async () => {
      const s = await setup();
      const sub = s.subs[0]!;
      await bind(s, sub);
      const seen = answer(s, 'sub/property/set', (request) => ({ id: request.id, code: 200, msg: 'ok' }));
      const reply = await s.emulator.setSubProperty(s.gateway, sub, { temperature: '30.5' });
      const received = await seen;
      assert.deepEqual(received.params, {
        deviceName: 'field-0',
        productID: SUB_PRODUCT,
        params: { temperature: '30.5' },
      });
      assert.deepEqual(reply, { id: received.id, code: 200, msg: 'ok' });
    });

    it('gets properties on sub/property/get; a get_reply without data is a response error (304)', async () => {
      const s = await setup();
      const sub = s.subs[0]!;
      await bind(s, sub);
      const seen = answer(s, 'sub/property/get', (request) => ({
        id: request.id,
        code: 200,
        msg: 'ok',
        data: { temperature: 39.5 },
      }));
      const reply = await s.emulator.getSubProperty(s.gateway, sub, ['temperature']);
      assert.deepEqual((await seen).params, {
        deviceName: 'field-0',
        productID: SUB_PRODUCT,
        params: ['temperature'],
      });
      assert.deepEqual(reply.data, { temperature: 39.5 });
      void answer(s, 'sub/property/get', (request) => ({ id: request.id, code: 200, msg: 'ok' }));
      assert.equal((await rejection(s.emulator.getSubProperty(s.gateway, sub, ['temperature']))).code, 304);
    });

    it('invokes a service on sub/service/invoke; the reply must echo the sub-device and identifier', async () => {
      const s = await setup();
      const sub = s.subs[1]!;
      await bind(s, sub);
      const echo = (request: Record<string, unknown>, deviceName?: string): unknown => {
        const params = request.params as Record<string, unknown>;
        return {
          id: request.id,
          code: 200,
          msg: 'ok',
          data: {
            deviceName: deviceName ?? params.deviceName,
            productID: params.productID,
            identifier: params.identifier,
            output: { result: 'on' },
          },
        };
      };
      const seen = answer(s, 'sub/service/invoke', (request) => echo(request));
      const reply = await s.emulator.invokeSubService(s.gateway, sub, 'reboot', { delay: 1 });
      assert.deepEqual((await seen).params, {
        deviceName: 'field-1',
        productID: SUB_PRODUCT,
        identifier: 'reboot',
        input: { delay: 1 },
      });
      assert.deepEqual(reply.data, {
        deviceName: 'field-1',
        productID: SUB_PRODUCT,
        identifier: 'reboot',
        output: { result: 'on' },
      });
      void answer(s, 'sub/service/invoke', (request) => echo(request, 'field-0'));
      const wrong = await rejection(s.emulator.invokeSubService(s.gateway, sub, 'reboot', {}));
      assert.equal(wrong.code, 304);
      assert.match(wrong.message, /deviceName/);
    });

    it('passes a failure code on unchanged', async () => {
      const s = await setup();
      await bind(s, s.subs[0]!);
      void answer(s, 'sub/property/set', (request) => ({ id: request.id, code: 100, msg: 'device failed' }));
      assert.equal((await s.emulator.setSubProperty(s.gateway, s.subs[0]!, { t: 1 })).code, 100);
    });

    it('rejects: 307 not its sub-device, 313 over 50 properties, 306 no reply in time, 308 gateway offline', async () => {
      const s = await setup({ replyDeadlineMs: 300 });
      const sub = s.subs[0]!;
      assert.equal((await rejection(s.emulator.setSubProperty(s.gateway, sub, { t: 1 }))).code, 307);
      await bind(s, sub);
      const many = Array.from({ length: 51 }, (_, i) => `p${i}`);
      assert.equal((await rejection(s.emulator.getSubProperty(s.gateway, sub, many))).code, 313);
      assert.equal((await rejection(s.emulator.setSubProperty(s.gateway, sub, { t: 1 }))).code, 306);
      const gone = nextEvent(s.emulator as unknown as EventEmitter, 'client-disconnected');
      s.emulator.dropDevice(s.gateway);
      await gone;
      assert.equal((await rejection(s.emulator.invokeSubService(s.gateway, sub, 'x', {}))).code, 308);
    });
  });

  describe("the sub-device product's thing model", () => {
    const products = [
      {
        productId: SUB_PRODUCT,
        thingModel: {
          properties: [
            { identifier: 'temperature', dataType: { type: 'float' as const, min: -40, max: 120 } },
          ],
        },
      },
    ];

    it('checks pack/post entries of the sub-device against it', async () => {
      const s = await setup({ products });
      await bind(s, s.subs[0]!);
      const entry = (properties: unknown): string =>
        request('30', [{ identity: identity(s.subs[0]!), properties }]);
      assert.equal((await call(s, 'pack/post', entry({ temperature: { value: 21.5 } }))).code, 200);
      assert.equal((await call(s, 'pack/post', entry({ humidity: { value: 1 } }))).code, 309);
      assert.equal((await call(s, 'pack/post', entry({ temperature: { value: 'hot' } }))).code, 302);
    });

    it('refuses a sub-device command it does not allow before sending it', async () => {
      const s = await setup({ products });
      await bind(s, s.subs[0]!);
      assert.equal(
        (await rejection(s.emulator.setSubProperty(s.gateway, s.subs[0]!, { humidity: 1 }))).code,
        309,
      );
    });
  });
});
