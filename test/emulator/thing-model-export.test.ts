import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import {
  PlatformRequestError,
  loadDevicesFile,
  type EmulatorDevice,
  type EmulatorOptions,
} from '../../src/emulator';
import { parseCliArgs } from '../../src/emulator/cli-args';
import { loadThingModelFile } from '../../src/emulator/devices-file';
import { fixture, fixturePath } from '../protocol/tsl-fixtures';
import {
  PRODUCT,
  closeAll,
  connected,
  newDevice,
  nextMessage,
  request,
  startEmulator,
  topicOf,
  type Received,
} from './helpers';

/** Products whose thing model is the console's export file (onenet-next.md §1.2, §1.7). */

interface Setup {
  device: EmulatorDevice;
  client: MqttClient;
  emulator: Awaited<ReturnType<typeof startEmulator>>;
}

async function setup(thingModel: unknown, options: EmulatorOptions = {}): Promise<Setup> {
  const device = newDevice();
  const emulator = await startEmulator({
    devices: [device],
    products: [{ productId: PRODUCT, thingModel: thingModel as Record<string, unknown> }],
    ...options,
  });
  const client = await connected(emulator.port, device);
  await client.subscribeAsync([
    topicOf(device, 'thing/property/post/reply'),
    topicOf(device, 'thing/event/post/reply'),
  ]);
  return { device, client, emulator };
}

async function post(s: Setup, what: 'property' | 'event', id: string, params: unknown): Promise<Received> {
  const reply = nextMessage(s.client, topicOf(s.device, `thing/${what}/post/reply`));
  await s.client.publishAsync(topicOf(s.device, `thing/${what}/post`), request(id, params));
  return reply;
}

async function rejection(promise: Promise<unknown>): Promise<PlatformRequestError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PlatformRequestError, String(error));
    return error;
  }
  assert.fail('expected a rejection');
}

describe('emulator products with a console thing-model export', () => {
  afterEach(closeAll);

  it('current export: accepts valid posts of every type and stores them', async () => {
    const s = await setup(fixture('current-all-types.json'));
    const reply = await post(s, 'property', '1', {
      temp: { value: 21.5 },
      target: { value: 1500 },
      mode: { value: 2 },
      relay: { value: false },
      label: { value: 'A1' },
      lastReset: { value: 1700000000000 },
      faults: { value: 3 },
      location: { value: { lat: 30.5, lon: 114.3 } },
      samples: { value: [1, 2] },
    });
    assert.equal(reply.payload.code, 200, String(reply.payload.msg));
    assert.equal(s.emulator.latestProperties(s.device).temp?.value, 21.5);
    assert.equal(
      (await post(s, 'event', '2', { alarm: { value: { powerOff: 1, reason: 'grid' } } })).payload.code,
      200,
    );
  });

  it('current export: 309 for unknown identifiers, 302 for values the model refuses, nothing stored', async () => {
    const s = await setup(fixture('current-all-types.json'));
    const cases: Array<['property' | 'event', unknown, number]> = [
      ['property', { humidity: { value: 1 } }, 309],
      ['property', { alarm: { value: 1 } }, 309],
      ['property', { temp: { value: '21.5' } }, 302],
      ['property', { target: { value: 1.5 } }, 302],
      ['property', { target: { value: 5000 } }, 302],
      ['property', { mode: { value: 9 } }, 302],
      ['property', { label: { value: 'much too long' } }, 302],
      ['property', { faults: { value: 16 } }, 302],
      ['property', { location: { value: { alt: 1 } } }, 302],
      ['property', { samples: { value: [1, 2, 3, 4] } }, 302],
      ['event', { meltdown: { value: {} } }, 309],
      ['event', { alarm: { value: { powerOff: 5 } } }, 302],
    ];
    for (const [i, [what, params, code]] of cases.entries()) {
      const reply = await post(s, what, String(i + 10), params);
      assert.equal(reply.payload.code, code, JSON.stringify(params));
      assert.equal(typeof reply.payload.msg, 'string');
    }
    assert.deepEqual(s.emulator.latestProperties(s.device), {});
  });

  it('Studio export given as JSON text: input/output services and read-only properties', async () => {
    const text = readFileSync(fixturePath('studio-all-types.json'), 'utf8');
    const s = await setup(text);
    assert.equal(
      (await post(s, 'property', '1', { voltage: { value: 230 }, door: { value: true } })).payload.code,
      200,
    );
    assert.equal((await post(s, 'property', '2', { door: { value: 1 } })).payload.code, 302);
    await s.client.subscribeAsync([
      topicOf(s.device, 'thing/property/set'),
      topicOf(s.device, 'thing/service/+/invoke'),
    ]);
    assert.equal((await rejection(s.emulator.setProperty(s.device, { voltage: 1 }))).code, 313);
    assert.equal((await rejection(s.emulator.setProperty(s.device, { setpoint: 2000 }))).code, 302);
    assert.equal((await rejection(s.emulator.invokeService(s.device, 'multiply', { x: 'three' }))).code, 302);
    assert.equal((await rejection(s.emulator.invokeService(s.device, 'divide', {}))).code, 309);
  });

  it('answers with the configured codes', async () => {
    const s = await setup(fixture('current-all-types.json'), {
      modelReplyCodes: { unknownIdentifier: 313, dataType: 301, readOnly: 303 },
    });
    assert.equal((await post(s, 'property', '1', { humidity: { value: 1 } })).payload.code, 313);
    assert.equal((await post(s, 'property', '2', { temp: { value: 'hot' } })).payload.code, 301);
    await s.client.subscribeAsync(topicOf(s.device, 'thing/property/set'));
    assert.equal((await rejection(s.emulator.setProperty(s.device, { temp: 1 }))).code, 303);
  });

  it('refuses to add a product whose model it cannot fully understand, naming where', async () => {
    await assert.rejects(
      startEmulator({
        products: [
          {
            productId: PRODUCT,
            thingModel: { properties: [{ identifier: 'x', dataType: { type: 'colour' } }] },
          },
        ],
      }),
      /thingModel\.properties\[0\]\.dataType\.type/,
    );
  });

  it('loads export files named by the devices file and by --thing-model', () => {
    assert.deepEqual(
      loadThingModelFile(fixturePath('studio-all-types.json')),
      fixture('studio-all-types.json'),
    );
    const products = loadDevicesFile(fixturePath('devices.json')).products;
    assert.deepEqual(products, [{ productId: 'Tm7dQ2xLp9', thingModel: fixture('current-all-types.json') }]);
    const parsed = parseCliArgs([
      '--port',
      '0',
      '--devices',
      'd.json',
      '--thing-model',
      'P1=a.json',
      '--thing-model',
      'P2=b.json',
      '--model-reply-codes',
      '309,302',
    ]);
    assert.ok(parsed !== 'help');
    assert.deepEqual(parsed.thingModels, [
      { productId: 'P1', file: 'a.json' },
      { productId: 'P2', file: 'b.json' },
    ]);
    assert.deepEqual(parsed.modelReplyCodes, { unknownIdentifier: 309, dataType: 302 });
    assert.throws(
      () => parseCliArgs(['--port', '0', '--devices', 'd', '--thing-model', 'a.json']),
      /productId/,
    );
    assert.throws(
      () => parseCliArgs(['--port', '0', '--devices', 'd', '--model-reply-codes', 'x']),
      /two or three/,
    );
  });
});
