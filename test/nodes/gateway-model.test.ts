import assert from 'node:assert/strict';
import { OneNetEmulator } from '../../src/emulator';
import {
  callHistory,
  catchAll,
  collect,
  errorText,
  flowNode,
  lastStatus,
  nextMessage,
  node,
  unloadAndCheckPool,
  waitFor,
  waitStatus,
  type FlowNode,
} from './support';
import { loadTranslated } from './translated';
import { GATEWAY, SUB_PRODUCT, newKey, ref, gatewayConfigNode, productConfigNode } from './gateway-support';

/**
 * A post for `msg.subDevice` on a gateway's node is checked against the thing model of the
 * sub-device's product (its onenet-product config node), as a configured device's post is against
 * its own (DESIGN.md §4 `modelCheck`): with "reject" a post the model refuses ends in done(err)
 * naming identifier and rule, before anything is sent; with "warn" it is sent, with a warning.
 * The emulator's product has no model, so what it receives is what the node sent.
 */

const SUB = { productId: SUB_PRODUCT, deviceName: 'field-7', key: newKey() };
/** Bound by nothing but a refused post in one test. */
const REFUSED_SUB = { productId: SUB_PRODUCT, deviceName: 'field-8', key: newKey() };
const PRODUCT_KEY = newKey();
const subDevice = { productId: SUB_PRODUCT, deviceName: SUB.deviceName };

/** The sub-device product's model: one float property, one event with a bounded level. */
const MODEL = JSON.stringify({
  version: '1.0',
  properties: [
    {
      identifier: 'temp',
      name: '温度',
      accessMode: 'r',
      dataType: { type: 'float', specs: { min: '-40', max: '120' } },
    },
  ],
  events: [
    {
      identifier: 'alarm',
      name: '告警',
      type: 'warn',
      outputData: [{ identifier: 'level', dataType: { type: 'int32', specs: { min: '1', max: '3' } } }],
    },
  ],
  services: [],
});

describe('gateway sub-devices: msg.subDevice posts checked against their product model', function () {
  this.timeout(30000);
  let emulator: OneNetEmulator;

  beforeEach(async () => {
    emulator = await OneNetEmulator.start({
      devices: [{ ...GATEWAY, nodeType: 'gateway' }, SUB, REFUSED_SUB],
      products: [{ productId: SUB_PRODUCT, accessKey: PRODUCT_KEY }],
    });
  });

  afterEach(async () => {
    await unloadAndCheckPool();
    await emulator.close();
  });

  function flow(modelCheck: string): FlowNode[] {
    return [
      gatewayConfigNode(emulator, GATEWAY),
      productConfigNode('prod', SUB_PRODUCT, { thingModel: MODEL, modelCheck }),
      flowNode('post', 'onenet-property-post', { device: 'gw', waitReply: true, timeout: '5000' }, [['out']]),
      flowNode(
        'event',
        'onenet-event-post',
        { device: 'gw', event: 'alarm', waitReply: true, timeout: '5000' },
        [['out']],
      ),
      flowNode('out', 'helper'),
      ...catchAll(),
    ];
  }

  const creds = { gw: { key: GATEWAY.key }, prod: { key: PRODUCT_KEY } };

  /** Every identifier the emulator received in a batch post for the sub-device. */
  function sentIdentifiers(): string[] {
    const identifiers: string[] = [];
    for (const uplink of emulator.uplinks(ref(GATEWAY))) {
      if (!/\/thing\/(pack|history)\/post$/.test(uplink.topic)) continue;
      for (const entry of (uplink.payload as { params: Array<Record<string, object | undefined>> }).params)
        identifiers.push(...Object.keys(entry.properties ?? {}), ...Object.keys(entry.events ?? {}));
    }
    return identifiers;
  }

  async function gatewayUp(): Promise<void> {
    await waitFor(
      () => emulator.connections().some((c) => c.deviceName === GATEWAY.deviceName),
      'the gateway to connect',
      5000,
    );
    // The nodes' own view too: a failure's status is replaced by the next change of connection state.
    await waitStatus('post', 'node-red:common.status.connected', 5000);
  }

  it('"reject": refuses an identifier the model does not know before sending, and lets a valid post through', async () => {
    await loadTranslated('en-US', flow('reject'), creds);
    await gatewayUp();
    const caught = nextMessage('catch-out', 5000);
    node('post').receive({ payload: { humidity: 50 }, subDevice });
    const text = errorText(await caught);
    assert.match(text, /^not sent: the thing model of product SubProd001 refuses /);
    assert.match(
      text,
      /humidity = "humidity" \(rule unknown-identifier\): is not an identifier of the thing model/,
    );
    assert.equal(lastStatus('post')?.text, 'model: humidity: unknown-identifier');

    const wrongEvent = nextMessage('catch-out', 5000);
    node('event').receive({ payload: { level: 5 }, subDevice });
    assert.match(errorText(await wrongEvent), /level = 5 \(rule max\): is above the maximum 3/);

    // The valid ones go out; when their replies are in, nothing refused went before them.
    const ok = collect('out');
    node('post').receive({ payload: { temp: 21.5 }, subDevice });
    node('event').receive({ payload: { level: 2 }, subDevice });
    await waitFor(() => ok.length === 2, 'the valid post and event to be answered', 10000);
    for (const msg of ok) assert.equal((msg.onenet as { code: number }).code, 200);
    assert.deepEqual(sentIdentifiers().sort(), ['alarm', 'temp']);
    assert.deepEqual(
      emulator.propertyHistory(ref(SUB)).map((record) => [record.identifier, record.value]),
      [['temp', 21.5]],
    );
  });

  it('"reject": a refused post for a new sub-device does not bind it or log it in', async () => {
    await loadTranslated('en-US', flow('reject'), creds);
    await gatewayUp();
    const refused = { productId: SUB_PRODUCT, deviceName: REFUSED_SUB.deviceName };
    const caughtPost = nextMessage('catch-out', 5000);
    node('post').receive({ payload: { humidity: 50 }, subDevice: refused });
    assert.match(errorText(await caughtPost), /rule unknown-identifier/);
    const caughtEvent = nextMessage('catch-out', 5000);
    node('event').receive({ payload: { level: 5 }, subDevice: refused });
    assert.match(errorText(await caughtEvent), /rule max/);

    // A valid post for another sub-device, bound after the refused ones would have been: once it is
    // answered, the gateway has sent whatever binding or login it had queued before it.
    const ok = nextMessage('out', 10000);
    node('post').receive({ payload: { temp: 20 }, subDevice });
    assert.equal(((await ok).onenet as { code: number }).code, 200);
    const uplinks = emulator.uplinks(ref(GATEWAY)).map((u) => `${u.topic} ${JSON.stringify(u.payload)}`);
    assert.ok(
      uplinks.some((u) => /thing\/sub\/login .*field-7/.test(u)),
      `field-7 logged in: ${uplinks.join('\n')}`,
    );
    assert.deepEqual(
      uplinks.filter((u) => u.includes(REFUSED_SUB.deviceName)),
      [],
      'nothing was sent for the sub-device whose posts were refused',
    );
  });

  it('"warn": sends what the model refuses, warning once per identifier and rule', async () => {
    await loadTranslated('en-US', flow('warn'), creds);
    await gatewayUp();
    const ok = collect('out');
    node('post').receive({ payload: { humidity: 50 }, subDevice });
    node('post').receive({ payload: { humidity: 51 }, subDevice });
    await waitFor(() => ok.length === 2, 'both posts to be answered', 10000);
    const warnings = callHistory('post', 'warn').map((args) => String(args[0]));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(
      warnings[0]!,
      /^sent although the thing model of product SubProd001 refuses it: humidity = "humidity" \(rule unknown-identifier\)/,
    );
    assert.deepEqual(sentIdentifiers(), ['humidity', 'humidity']);
  });
});
