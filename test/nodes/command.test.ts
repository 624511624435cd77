import assert from 'node:assert/strict';
import { OneNetRequestError, type DownlinkRequest } from '../../src/connection';
import {
  acceptsRequest,
  commandInfoOf,
  otherDeviceOf,
  replyOf,
  toCommandMessage,
} from '../../src/node-red/command';
import type { NodeAPI } from '../../src/node-red/node-red-types';

const set: DownlinkRequest = {
  kind: 'property-set',
  id: '11',
  params: { targetTemperature: 21 },
  receivedAt: 1000,
};
const get: DownlinkRequest = { kind: 'property-get', id: '12', params: ['temperature'], receivedAt: 1001 };
const invoke: DownlinkRequest = {
  kind: 'service-invoke',
  id: '13',
  identifier: 'reboot',
  params: { delaySeconds: 1 },
  receivedAt: 1002,
};

describe('command helpers', () => {
  describe('acceptsRequest (kind and service filters)', () => {
    it('lets every request through for kind "all" or an empty kind', () => {
      for (const kind of ['all', '', undefined]) {
        assert.deepEqual(
          [set, get, invoke].map((r) => acceptsRequest({ kind }, r)),
          [true, true, true],
        );
      }
    });

    it('lets only the chosen kind through', () => {
      assert.deepEqual(
        [set, get, invoke].map((r) => acceptsRequest({ kind: 'property-get' }, r)),
        [false, true, false],
      );
    });

    it('filters services by identifier, and an empty filter takes every service', () => {
      assert.equal(acceptsRequest({ kind: 'service-invoke', service: 'reboot' }, invoke), true);
      assert.equal(acceptsRequest({ kind: 'service-invoke', service: 'calibrate' }, invoke), false);
      assert.equal(acceptsRequest({ kind: 'service-invoke', service: '' }, invoke), true);
      assert.equal(
        acceptsRequest({ kind: 'all', service: 'calibrate' }, set),
        true,
        'the service filter only applies to services',
      );
    });
  });

  describe('toCommandMessage', () => {
    it('puts params in msg.payload, the kind in msg.topic and the request in msg.onenet', () => {
      assert.deepEqual(toCommandMessage(get, 'cfg'), {
        payload: ['temperature'],
        topic: 'property-get',
        onenet: { kind: 'property-get', id: '12', device: 'cfg', receivedAt: 1001 },
      });
    });

    it('uses the service identifier as msg.topic for services', () => {
      const msg = toCommandMessage(invoke, 'cfg');
      assert.equal(msg.topic, 'reboot');
      assert.deepEqual(msg.onenet, {
        kind: 'service-invoke',
        id: '13',
        identifier: 'reboot',
        device: 'cfg',
        receivedAt: 1002,
      });
    });
  });

  describe('commandInfoOf', () => {
    it('reads back what toCommandMessage wrote, also after a JSON round trip', () => {
      const msg = JSON.parse(JSON.stringify(toCommandMessage(invoke, 'cfg'))) as Record<string, unknown>;
      assert.deepEqual(commandInfoOf(msg), {
        kind: 'service-invoke',
        id: '13',
        identifier: 'reboot',
        device: 'cfg',
        receivedAt: 1002,
      });
    });

    it('refuses messages that did not come from onenet-command-in', () => {
      for (const onenet of [
        undefined,
        null,
        'x',
        {},
        { kind: 'property-post', id: '1' },
        { kind: 'property-set', id: 1 },
      ]) {
        assert.equal(commandInfoOf({ onenet }), undefined, JSON.stringify(onenet));
      }
    });
  });

  describe('replyOf', () => {
    const info = (request: DownlinkRequest) => commandInfoOf(toCommandMessage(request, 'cfg'))!;

    it('defaults to code 200 "success" and sends msg.payload as data for get and invoke', () => {
      assert.deepEqual(replyOf(info(get), { payload: { temperature: 21.5 } }), {
        code: 200,
        message: 'success',
        data: { temperature: 21.5 },
      });
      assert.deepEqual(replyOf(info(invoke), { payload: { ok: true } }), {
        code: 200,
        message: 'success',
        data: { ok: true },
      });
    });

    it('sends no data for a property set reply', () => {
      assert.deepEqual(replyOf(info(set), { payload: { targetTemperature: 21 } }), {
        code: 200,
        message: 'success',
      });
    });

    it('explains a non-200 code unless msg.message says otherwise, and sends no data with it', () => {
      assert.deepEqual(replyOf(info(get), { code: 309, payload: ['nope'] }), {
        code: 309,
        message: 'identifier not exist',
      });
      assert.deepEqual(replyOf(info(set), { code: 100, message: 'valve stuck' }), {
        code: 100,
        message: 'valve stuck',
      });
    });

    it('refuses reply data that does not fit the request, as an invalid request', () => {
      const refusals: Array<[DownlinkRequest, unknown, RegExp]> = [
        [get, ['temperature'], /property get reply data must be an object/],
        [get, undefined, /property get reply needs data/],
        [get, { 'bad id': 1 }, /identifier "bad id"/],
        [invoke, 'done', /service reply data must be an object/],
        [invoke, { result: Number.NaN }, /data\.result is NaN/],
      ];
      for (const [request, payload, message] of refusals) {
        assert.throws(
          () => replyOf(info(request), { payload }),
          (err: unknown) =>
            err instanceof OneNetRequestError && err.reason === 'invalid' && message.test(err.message),
          `${request.kind} with ${JSON.stringify(payload)}`,
        );
      }
    });

    it('takes msg.code as a whole number or its decimal text', () => {
      assert.deepEqual(replyOf(info(set), { code: '200' }), { code: 200, message: 'success' });
      assert.deepEqual(replyOf(info(get), { code: ' 309 ', payload: {} }), {
        code: 309,
        message: 'identifier not exist',
      });
      assert.deepEqual(replyOf(info(get), { code: '200', payload: { temperature: 1 } }), {
        code: 200,
        message: 'success',
        data: { temperature: 1 },
      });
    });

    it('refuses a msg.code that is not a whole number or its text, quoting it', () => {
      const refusals: Array<[unknown, RegExp]> = [
        ['OK', /not the text "OK"/],
        ['', /not the text ""/],
        ['2e2', /not the text "2e2"/],
        ['200.0', /not the text "200.0"/],
        ['0x1F', /not the text "0x1F"/],
        [2.5, /not 2\.5/],
        [true, /not boolean/],
        [null, /not null/],
      ];
      for (const [code, message] of refusals) {
        assert.throws(
          () => replyOf(info(set), { code }),
          (err: unknown) =>
            err instanceof OneNetRequestError &&
            err.reason === 'invalid' &&
            /msg\.code must be a whole number/.test(err.message) &&
            message.test(err.message),
          JSON.stringify(code),
        );
      }
    });

    it('allows a service reply without output', () => {
      assert.deepEqual(replyOf(info(invoke), {}), { code: 200, message: 'success' });
    });
  });

  describe('otherDeviceOf', () => {
    /** A runtime holding onenet-device config nodes with these labels, by id. */
    function runtime(labels: Record<string, string>): NodeAPI {
      const nodes = Object.fromEntries(
        Object.entries(labels).map(([id, deviceLabel]) => [
          id,
          { id, type: 'onenet-device', deviceLabel, acquireConnection: () => undefined },
        ]),
      );
      return { nodes: { getNode: (id: string) => nodes[id] ?? null } } as unknown as NodeAPI;
    }
    const RED = runtime({ own: 'P1/dev-a', twin: 'P1/dev-a', other: 'P1/dev-b', elsewhere: 'P2/dev-a' });

    it('names both devices when the request came through a config node of another device', () => {
      assert.deepEqual(otherDeviceOf(RED, 'own', { device: 'other' }), {
        own: 'P1/dev-a',
        request: 'P1/dev-b',
      });
      assert.deepEqual(otherDeviceOf(RED, 'own', { device: 'elsewhere' }), {
        own: 'P1/dev-a',
        request: 'P2/dev-a',
      });
    });

    it('lets through the own device, a second config node of it, and requests it cannot place', () => {
      for (const device of ['own', 'twin', '', 'gone']) {
        assert.equal(otherDeviceOf(RED, 'own', { device }), undefined, device);
      }
    });
  });
});
