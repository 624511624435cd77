import assert from 'node:assert/strict';
import { OneNetRequestError, type DownlinkErrorEvent, type DownlinkRequest } from '../../src/connection';
import { Downlinks, type ReplyTarget } from '../../src/connection/downlinks';
import type { ReplyEvent } from '../../src/emulator';
import { delay, Harness, PRODUCT, record, waitForStatus } from './helpers';

const identity = { host: '127.0.0.1', port: 1883, productId: PRODUCT, deviceName: 'dev1' };
const prefix = `$sys/${PRODUCT}/dev1/thing/`;

/** A Downlinks with a recording publisher, so malformed platform input can be fed in directly. */
function desk(publishFails = false) {
  const errors: DownlinkErrorEvent[] = [];
  const published: Array<{ topic: string; message: Record<string, unknown> }> = [];
  const downlinks = new Downlinks(
    identity,
    (event) => errors.push(event),
    async (topic: string, payload: Buffer) => {
      if (publishFails) throw new OneNetRequestError('offline', 'reply not sent: offline');
      published.push({ topic, message: JSON.parse(payload.toString()) as Record<string, unknown> });
    },
  );
  return { downlinks, errors, published };
}

function payload(value: unknown): Buffer {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
}

describe('connection / downlinks (unit)', () => {
  it('hands a valid request to every handler', () => {
    const { downlinks, errors } = desk();
    const seen: DownlinkRequest[] = [];
    downlinks.onDownlink((request) => seen.push(request));
    const remove = downlinks.onDownlink((request) => seen.push(request));
    downlinks.handle(
      'service-invoke',
      `${prefix}service/reboot/invoke`,
      payload({ id: '7', version: '1.0', params: { delay: 1 } }),
      'reboot',
    );
    assert.equal(seen.length, 2);
    assert.deepEqual(
      { ...seen[0], receivedAt: 0 },
      { kind: 'service-invoke', id: '7', identifier: 'reboot', params: { delay: 1 }, receivedAt: 0 },
    );
    assert.ok(Math.abs(seen[0]!.receivedAt - Date.now()) < 1000);
    remove();
    assert.equal(downlinks.handlerCount, 1);
    assert.deepEqual(errors, []);
  });

  it('reports malformed requests and answers those with a readable id with the parser code', async () => {
    const { downlinks, errors, published } = desk();
    downlinks.onDownlink(() => assert.fail('a malformed request must not reach handlers'));
    downlinks.handle('property-set', `${prefix}property/set`, payload('{not json'));
    downlinks.handle('property-get', `${prefix}property/get`, payload({ id: '8', params: 'temp' }));
    downlinks.handle('property-set', `${prefix}property/set`, payload({ id: '9', params: { 'bad id': 1 } }));
    downlinks.handle('property-set', `${prefix}property/set`, payload({ id: 'abc', params: {} }));
    await delay(0);
    assert.equal(errors.length, 4);
    assert.match(errors[0]!.reason, /malformed JSON/);
    assert.equal(errors[0]!.id, undefined);
    assert.equal(errors[1]!.id, '8');
    assert.equal(errors[2]!.id, '9');
    assert.match(errors[3]!.reason, /numeric string/);
    assert.deepEqual(
      published.map((p) => [p.topic, p.message.id, p.message.code]),
      [
        [`${prefix}property/get_reply`, '8', 301],
        [`${prefix}property/set_reply`, '9', 309],
      ],
    );
  });

  it('answers 100 at once when no handler is registered, and reports it', async () => {
    const { downlinks, errors, published } = desk();
    downlinks.handle('property-set', `${prefix}property/set`, payload({ id: '10', params: { power: true } }));
    await delay(0);
    assert.equal(published[0]!.message.code, 100);
    assert.equal(errors[0]!.id, '10');
    assert.match(errors[0]!.reason, /no handler/);
  });

  it('hands a request only to the handlers whose filter accepts it', async () => {
    const { downlinks, errors, published } = desk();
    const sets: string[] = [];
    const reboots: string[] = [];
    downlinks.onDownlink(
      (request) => sets.push(request.id),
      (request) => request.kind === 'property-set',
    );
    downlinks.onDownlink(
      (request) => reboots.push(request.id),
      (request) => request.kind === 'service-invoke' && request.identifier === 'reboot',
    );
    downlinks.handle('property-set', `${prefix}property/set`, payload({ id: '20', params: { a: 1 } }));
    downlinks.handle(
      'service-invoke',
      `${prefix}service/reboot/invoke`,
      payload({ id: '21', params: {} }),
      'reboot',
    );
    await delay(0);
    assert.deepEqual([sets, reboots], [['20'], ['21']]);
    assert.deepEqual(errors, []);
    assert.deepEqual(published, [], 'the handlers answer these themselves');
  });

  it('answers 100 at once, naming what is not handled, when handlers exist but none accepts', async () => {
    const { downlinks, errors, published } = desk();
    downlinks.onDownlink(
      () => assert.fail('the filter refused it'),
      (request) => request.kind === 'property-set',
    );
    downlinks.handle('property-get', `${prefix}property/get`, payload({ id: '22', params: ['temp'] }));
    downlinks.handle(
      'service-invoke',
      `${prefix}service/calibrate/invoke`,
      payload({ id: '23', params: {} }),
      'calibrate',
    );
    await delay(0);
    assert.deepEqual(published, [
      {
        topic: `${prefix}property/get_reply`,
        message: { id: '22', code: 100, msg: 'the device does not handle property get requests' },
      },
      {
        topic: `${prefix}service/calibrate/invoke_reply`,
        message: { id: '23', code: 100, msg: 'the device does not handle service calibrate' },
      },
    ]);
    assert.deepEqual(
      errors.map((e) => [e.id, e.reason]),
      [
        ['22', 'no handler accepts property get requests; answered with code 100'],
        ['23', 'no handler accepts service calibrate; answered with code 100'],
      ],
    );
    // Answered once: a flow reply that comes anyway is a duplicate, not a second publish.
    assert.equal(await downlinks.reply({ kind: 'property-get', id: '22' }, 200, { temp: 1 }), 'duplicate');
  });

  it('treats a filter that throws as "not accepted" and reports it', async () => {
    const { downlinks, errors, published } = desk();
    downlinks.onDownlink(
      () => assert.fail('not for this handler'),
      () => {
        throw new Error('filter bug');
      },
    );
    downlinks.handle('property-set', `${prefix}property/set`, payload({ id: '24', params: { a: 1 } }));
    await delay(0);
    assert.match(errors[0]!.reason, /filter failed: filter bug/);
    assert.equal(published[0]!.message.code, 100);
  });

  it('refuses a filter that is not a function', () => {
    const { downlinks } = desk();
    assert.throws(() => downlinks.onDownlink(() => undefined, 'property-set' as never), TypeError);
  });

  it('isolates a failing handler from the others', () => {
    const { downlinks, errors } = desk();
    let reached = false;
    downlinks.onDownlink(() => {
      throw new Error('boom');
    });
    downlinks.onDownlink(() => {
      reached = true;
    });
    downlinks.handle('property-set', `${prefix}property/set`, payload({ id: '11', params: { a: 1 } }));
    assert.ok(reached);
    assert.match(errors[0]!.reason, /handler failed: boom/);
  });

  it('replies once per id; a second reply is "duplicate" and publishes nothing', async () => {
    const { downlinks, published } = desk();
    downlinks.onDownlink(() => undefined);
    downlinks.handle('property-get', `${prefix}property/get`, payload({ id: '12', params: ['temp'] }));
    assert.equal(await downlinks.reply({ kind: 'property-get', id: '12' }, 200, { temp: 20 }), 'sent');
    assert.equal(await downlinks.reply({ kind: 'property-get', id: '12' }, 200, { temp: 21 }), 'duplicate');
    assert.deepEqual(published, [
      {
        topic: `${prefix}property/get_reply`,
        message: { id: '12', code: 200, msg: 'success', data: { temp: 20 } },
      },
    ]);
  });

  it('says "late" for a reply after the 5 s deadline or for an id it never received, and still sends it', async () => {
    const { downlinks, published } = desk();
    downlinks.onDownlink(() => undefined);
    downlinks.handle('property-set', `${prefix}property/set`, payload({ id: '13', params: { a: 1 } }));
    const realNow = Date.now;
    const start = realNow();
    Date.now = () => start + 5001;
    try {
      assert.equal(await downlinks.reply({ kind: 'property-set', id: '13' }, 200), 'late');
    } finally {
      Date.now = realNow;
    }
    assert.equal(
      await downlinks.reply(
        { kind: 'service-invoke', id: '14', identifier: 'reboot' },
        100,
        undefined,
        'busy',
      ),
      'late',
    );
    assert.deepEqual(
      published.map((p) => p.topic),
      [`${prefix}property/set_reply`, `${prefix}service/reboot/invoke_reply`],
    );
    assert.deepEqual(published[1]!.message, { id: '14', code: 100, msg: 'busy' });
  });

  it('rejects an invalid reply with reason "invalid" before publishing', async () => {
    const { downlinks, published } = desk();
    const cases: Array<[ReplyTarget, number, unknown, RegExp]> = [
      [{ kind: 'property-post' as never, id: '1' }, 200, undefined, /kind must be/],
      [{ kind: 'property-set', id: '12345678901234' }, 200, undefined, /numeric string/],
      [{ kind: 'service-invoke', id: '1' }, 200, undefined, /service identifier/],
      [{ kind: 'property-get', id: '1' }, 2.5, undefined, /integer/],
      [{ kind: 'property-get', id: '1' }, 200, { t: Number.NaN }, /finite/],
      [{ kind: 'property-get', id: '1' }, 200, { blob: 'x'.repeat(300_000) }, /at most 262144/],
    ];
    for (const [target, code, data, pattern] of cases) {
      await assert.rejects(downlinks.reply(target, code, data), (err: unknown) => {
        assert.ok(err instanceof OneNetRequestError);
        assert.equal(err.reason, 'invalid');
        assert.match(err.message, pattern);
        return true;
      });
    }
    assert.equal(published.length, 0);
  });

  it('lets a reply that could not be sent be tried again', async () => {
    const failing = desk(true);
    failing.downlinks.onDownlink(() => undefined);
    failing.downlinks.handle(
      'property-set',
      `${prefix}property/set`,
      payload({ id: '15', params: { a: 1 } }),
    );
    await assert.rejects(failing.downlinks.reply({ kind: 'property-set', id: '15' }, 200), /offline/);
    await assert.rejects(
      failing.downlinks.reply({ kind: 'property-set', id: '15' }, 200),
      /offline/,
      'not "duplicate"',
    );
  });
});

describe('connection / downlinks against the emulator', function () {
  let harness: Harness;

  beforeEach(async () => {
    harness = await Harness.start();
  });

  afterEach(async () => {
    await harness.close();
  });

  it('answers property set, property get and service invoke on the matching _reply topics', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    const requests: DownlinkRequest[] = [];
    connection.onDownlink((request) => {
      requests.push(request);
      if (request.kind === 'property-get') void connection.reply(request, 200, { temp: 22.5 });
      else if (request.kind === 'service-invoke') void connection.reply(request, 200, { ok: true });
      else void connection.reply(request, 200);
    });
    const set = await harness.emulator.setProperty(device.ref, { power: true });
    const get = await harness.emulator.getProperty(device.ref, ['temp']);
    const invoke = await harness.emulator.invokeService(device.ref, 'reboot', { delay: 3 });
    assert.deepEqual([set.code, get.code, invoke.code], [200, 200, 200]);
    assert.deepEqual(get.data, { temp: 22.5 });
    assert.deepEqual(invoke.data, { ok: true });
    assert.deepEqual(
      requests.map((r) => [r.kind, r.identifier, r.params]),
      [
        ['property-set', undefined, { power: true }],
        ['property-get', undefined, ['temp']],
        ['service-invoke', 'reboot', { delay: 3 }],
      ],
    );
    assert.deepEqual(
      requests.map((r) => r.id),
      [set.id, get.id, invoke.id],
    );
  });

  it('passes a device failure code and message through to the platform', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    connection.onDownlink((request) => void connection.reply(request, 100, undefined, 'motor jammed'));
    const reply = await harness.emulator.invokeService(device.ref, 'start', {});
    assert.equal(reply.code, 100);
    assert.equal(reply.msg, 'motor jammed');
  });

  it('publishes one reply per id however often reply() is called', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    const replies = record<ReplyEvent>(harness.emulator, 'reply');
    const outcomes: Array<Promise<string>> = [];
    connection.onDownlink((request) => {
      outcomes.push(connection.reply(request, 200));
      outcomes.push(connection.reply(request, 200));
    });
    await harness.emulator.setProperty(device.ref, { a: 1 });
    assert.deepEqual(await Promise.all(outcomes), ['sent', 'duplicate']);
    await delay(50);
    replies.stop();
    assert.equal(replies.values.length, 1);
  });

  it('answers 100 at once when nobody handles platform requests', async () => {
    const device = harness.device();
    const connection = await harness.connected(device);
    const errors = record<DownlinkErrorEvent>(connection, 'downlink-error');
    const started = Date.now();
    const reply = await harness.emulator.setProperty(device.ref, { a: 1 });
    assert.equal(reply.code, 100);
    assert.ok(Date.now() - started < 1000, 'not the 5 s platform timeout');
    errors.stop();
    assert.equal(errors.values.length, 1);
  });

  it('rejects a reply with "offline" when not connected', async () => {
    const device = harness.device();
    const connection = await harness.connected(device, {
      reconnect: { initialDelayMs: 5000, maxDelayMs: 5000 },
    });
    harness.emulator.dropDevice(device.ref);
    await waitForStatus(connection, (s) => s.state === 'disconnected');
    await assert.rejects(connection.reply({ kind: 'property-set', id: '99' }, 200), (err: unknown) => {
      assert.ok(err instanceof OneNetRequestError);
      assert.equal(err.reason, 'offline');
      return true;
    });
  });
});
