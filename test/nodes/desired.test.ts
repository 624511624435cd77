import assert from 'node:assert/strict';
import { OneNetEmulator, type UplinkRecord } from '../../src/emulator';
import { MESSAGE_KEYS } from '../../src/node-red/i18n';
import {
  DEVICE,
  DEVICE_NAME,
  KEY,
  PRODUCT_ID,
  STATUS,
  callHistory,
  catchAll,
  collect,
  deviceConfig,
  errorText,
  flowNode,
  load,
  nextMessage,
  node,
  unloadAndCheckPool,
  waitConnected,
  waitFor,
  waitStatus,
  type FlowNode,
} from './support';
import { loadTranslated } from './translated';

/**
 * Desired values (期望值) through real nodes against the emulator (DESIGN.md §4 `syncDesired`,
 * command-in kind "desired"): a value set while the device was offline arrives once after login,
 * is deleted (version-checked) when the flow answers it with code 200, and is not delivered again.
 */

type Msg = Record<string, unknown>;

/** A console export: two read-write properties, one read-only (never asked for). */
const MODEL = JSON.stringify({
  version: '1.0',
  properties: [
    { identifier: 'temp', accessMode: 'r', dataType: { type: 'float', specs: { min: '-40', max: '120' } } },
    { identifier: 'mode', accessMode: 'rw', dataType: { type: 'enum', specs: { 0: '自动', 1: '手动' } } },
    { identifier: 'target', accessMode: 'rw', dataType: { type: 'int32', specs: { min: '0', max: '40' } } },
  ],
  events: [],
  services: [],
});

const READ_ONLY_MODEL = JSON.stringify({
  properties: [{ identifier: 'temp', accessMode: 'r', dataType: { type: 'float', specs: {} } }],
});

describe('desired values (syncDesired, command-in kind "desired")', function () {
  this.timeout(20000);
  let emulator: OneNetEmulator;
  // A fresh platform per test: the desired values it keeps outlive a flow, as on OneNET.
  beforeEach(async () => {
    emulator = await OneNetEmulator.start({
      devices: [{ productId: PRODUCT_ID, deviceName: DEVICE_NAME, key: KEY }],
      products: [{ productId: PRODUCT_ID, thingModel: MODEL }],
    });
  });
  afterEach(async () => {
    await unloadAndCheckPool();
    await emulator.close();
  });

  const uplinksOf = (suffix: string): UplinkRecord[] =>
    emulator.uplinks(DEVICE).filter((u) => u.topic.endsWith(`/thing/property/desired/${suffix}`));
  const paramsOf = (record: UplinkRecord): unknown => (record.payload as { params: unknown }).params;

  /**
   * product + device; "in" (kind desired) → "desired-out" and `desiredWires`; "sets" (kind
   * property-set, auto reply) → "sets-out", used to know that the device has read everything the
   * platform sent before a property set (one connection delivers in order).
   */
  function flow(
    device: Partial<FlowNode> = {},
    /** null: the device has no product. */
    product: Partial<FlowNode> | null = {},
    desiredWires: string[] = [],
  ): FlowNode[] {
    return [
      ...(product
        ? [{ id: 'prod', type: 'onenet-product', productId: PRODUCT_ID, thingModel: MODEL, ...product }]
        : []),
      deviceConfig(emulator, {
        productId: '',
        ...(product ? { product: 'prod' } : { productId: PRODUCT_ID }),
        syncDesired: true,
        uplinkRate: '0',
        ...device,
      }),
      flowNode('in', 'onenet-command-in', { device: 'cfg', kind: 'desired' }, [
        ['desired-out', ...desiredWires],
      ]),
      flowNode('desired-out', 'helper'),
      flowNode('sets', 'onenet-command-in', { device: 'cfg', kind: 'property-set', autoReply: true }, [
        ['sets-out'],
      ]),
      flowNode('sets-out', 'helper'),
      flowNode('reply', 'onenet-command-reply', { device: '' }, []),
      ...catchAll(),
    ];
  }

  /**
   * Resolves once the device has answered a property set: it has read all the platform sent before
   * (the code may be a model refusal, when the node's model does not know the property).
   */
  async function deviceCaughtUp(): Promise<void> {
    const reply = await emulator.setProperty(DEVICE, { mode: 0 });
    assert.ok(Number.isInteger(reply.code));
  }

  it('delivers a value set while offline once after login, clears it on reply 200, and not again', async () => {
    await emulator.setDesired(DEVICE, { mode: 0 });
    const offline = await emulator.setDesired(DEVICE, { mode: 1, target: 30 });
    assert.deepEqual(offline, { versions: { mode: 2, target: 1 }, online: false });

    await load(flow({}, {}, ['reply']));
    const delivered = collect('desired-out');
    await waitFor(() => delivered.length === 1, 'the desired values to reach the flow', 5000);
    const msg = delivered[0]!;
    assert.deepEqual(msg.payload, { mode: 1, target: 30 });
    assert.equal(msg.topic, 'desired');
    const onenet = msg.onenet as Msg;
    assert.deepEqual(
      { kind: onenet.kind, versions: onenet.versions, device: onenet.device },
      { kind: 'desired', versions: { mode: 2, target: 1 }, device: 'cfg' },
    );
    assert.equal(typeof onenet.receivedAt, 'number');
    assert.equal(onenet.model, undefined, 'the values fit the model');

    // Only the read-write properties were asked for, in one message.
    assert.deepEqual(uplinksOf('get').map(paramsOf), [['mode', 'target']]);
    // command-in was wired to command-reply: code 200 deletes exactly the delivered versions.
    await waitFor(() => Object.keys(emulator.desiredValues(DEVICE)).length === 0, 'the values to be cleared');
    assert.deepEqual(uplinksOf('delete').map(paramsOf), [{ mode: { version: 2 }, target: { version: 1 } }]);
    await waitStatus('reply', STATUS.replied);

    // The next login asks again and finds nothing.
    const gets = new Promise<void>((resolve) =>
      emulator.on('downlink', (event: { kind: string }) => {
        if (event.kind === 'desired-get-reply') resolve();
      }),
    );
    emulator.dropDevice(DEVICE);
    await gets;
    await deviceCaughtUp();
    assert.equal(uplinksOf('get').length, 2);
    assert.equal(delivered.length, 1, 'nothing delivered after the values were cleared');
    assert.equal(collect('catch-out').length, 0);
  });

  it('publishes no desired get with syncDesired off', async () => {
    await emulator.setDesired(DEVICE, { mode: 1 });
    await load(flow({ syncDesired: false }));
    const delivered = collect('desired-out');
    await waitConnected(emulator);
    // A desired get would have gone out first after login, before this property set's reply.
    await deviceCaughtUp();
    assert.deepEqual(uplinksOf('get'), []);
    assert.deepEqual(delivered, []);
    assert.deepEqual(emulator.desiredValues(DEVICE), { mode: { value: 1, version: 1 } });
  });

  it('keeps the values when the flow answers with another code, and says why a failed delete failed', async () => {
    await emulator.setDesired(DEVICE, { target: 22 });
    await load(flow());
    const msg = await nextMessage('desired-out', 5000);

    node('reply').receive({ ...msg, code: 500 });
    emulator.failReplies(503);
    const caught = nextMessage('catch-out');
    node('reply').receive({ ...msg });
    const failure = await caught;
    assert.match(errorText(failure), /^desired values not cleared: OneNET answered 503/);
    assert.equal((failure.onenet as Msg).kind, 'desired', 'the Catch node gets the msg');
    assert.deepEqual(emulator.desiredValues(DEVICE), { target: { value: 22, version: 1 } });

    emulator.failReplies(undefined);
    node('reply').receive({ ...msg, code: '200' });
    await waitFor(() => Object.keys(emulator.desiredValues(DEVICE)).length === 0, 'the value to be cleared');
    // The reply with code 500 sent nothing: the deletes are the failed one and the last.
    assert.equal(uplinksOf('delete').length, 2);
  });

  it('leaves a value set again since the delivery: the delete names the delivered version', async () => {
    await emulator.setDesired(DEVICE, { mode: 1 });
    await load(flow());
    const msg = await nextMessage('desired-out', 5000);
    assert.deepEqual((msg.onenet as Msg).versions, { mode: 1 });

    // Online now: the platform pushes the new value as an ordinary property set.
    const pushed = nextMessage('sets-out');
    const again = await emulator.setDesired(DEVICE, { mode: 0 });
    assert.deepEqual(again.versions, { mode: 2 });
    assert.equal(again.reply?.code, 200);
    assert.deepEqual((await pushed).payload, { mode: 0 });

    node('reply').receive(msg);
    await waitStatus('reply', STATUS.replied);
    assert.deepEqual(uplinksOf('delete').map(paramsOf), [{ mode: { version: 1 } }]);
    assert.deepEqual(emulator.desiredValues(DEVICE), { mode: { value: 0, version: 2 } });
  });

  it('flags desired values the thing model refuses, as a property set is flagged', async () => {
    // The emulator's product has no model here, so it keeps a value the node's model refuses.
    await emulator.close();
    emulator = await OneNetEmulator.start({
      devices: [{ productId: PRODUCT_ID, deviceName: DEVICE_NAME, key: KEY }],
    });
    await emulator.setDesired(DEVICE, { target: 99 });
    await load(flow());
    const msg = await nextMessage('desired-out', 5000);
    const model = (msg.onenet as Msg).model as Array<{ identifier: string; rule: string }>;
    assert.deepEqual(
      model.map((v) => [v.identifier, v.rule]),
      [['target', 'max']],
    );
  });

  describe('syncDesired on without a thing model to sync', () => {
    const cases: Array<[string, Partial<FlowNode> | null, keyof typeof MESSAGE_KEYS]> = [
      ['no product', null, 'desiredNoProduct'],
      ['a product without a model', { thingModel: '' }, 'desiredNoModel'],
      ['a model without read-write properties', { thingModel: READ_ONLY_MODEL }, 'desiredNoWritable'],
    ];
    for (const [what, product, key] of cases) {
      it(`warns once for ${what}, and the device works without it`, async () => {
        await emulator.setDesired(DEVICE, { mode: 1 });
        await load(flow({}, product));
        const warnings = callHistory('cfg', 'warn').map((args) => String(args[0]));
        assert.deepEqual(warnings, [MESSAGE_KEYS[key]]);
        await waitConnected(emulator);
        await deviceCaughtUp();
        assert.deepEqual(uplinksOf('get'), []);
        assert.equal(collect('catch-out').length, 0);
      });
    }

    it('says so in en-US and zh-CN', async () => {
      await loadTranslated('en-US', flow({}, null));
      assert.match(
        String(callHistory('cfg', 'warn')[0]?.[0]),
        /"Fetch desired values" is on, but the device has no product/,
      );
      await unloadAndCheckPool();
      await loadTranslated('zh-CN', flow({}, { thingModel: '' }));
      assert.match(String(callHistory('cfg', 'warn')[0]?.[0]), /已开启“获取属性期望值”，但其产品没有物模型/);
    });
  });
});
