import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { OneNetEmulator } from '../../src/emulator';
import {
  DEVICE,
  DEVICE_NAME,
  KEY,
  PRODUCT_ID,
  STATUS,
  callHistory,
  catchAll,
  collect,
  delay,
  deviceConfig,
  errorText,
  flowNode,
  helper,
  lastStatus,
  load,
  nextMessage,
  node,
  redeploy,
  unloadAndCheckPool,
  waitConnected,
  waitStatus,
  type FlowNode,
} from './support';
import { loadTranslated } from './translated';

/**
 * onenet-product through real nodes against the emulator: the thing-model checks before a post, an
 * event or a reply is sent (reject / warn / off), the product id and product key a device takes from
 * its product (一型一密 login), and the product key kept out of the flow.
 */

const PRODUCT_KEY = randomBytes(32).toString('base64');

/** A thing model as the console exports it (current generation; numbers written as text, as it does). */
const MODEL = JSON.stringify({
  version: '1.0',
  properties: [
    {
      identifier: 'temp',
      name: '温度',
      accessMode: 'r',
      dataType: { type: 'float', specs: { min: '-40', max: '120', unit: '°C' } },
    },
    {
      identifier: 'mode',
      name: '模式',
      accessMode: 'rw',
      dataType: { type: 'enum', specs: { 0: '自动', 1: '手动' } },
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
  services: [
    {
      identifier: 'reboot',
      callType: 'async',
      inputData: [],
      outputData: [{ identifier: 'ok', dataType: { type: 'bool' } }],
    },
  ],
});

function productConfig(props: Record<string, unknown> = {}): FlowNode {
  return {
    id: 'prod',
    type: 'onenet-product',
    name: 'test product',
    productId: PRODUCT_ID,
    thingModel: MODEL,
    modelCheck: 'reject',
    ...props,
  };
}

describe('onenet-product', function () {
  this.timeout(20000);
  let emulator: OneNetEmulator;
  before(async () => {
    // The emulator's product has the access key but no model: what it receives is what the node sent.
    emulator = await OneNetEmulator.start({
      devices: [{ productId: PRODUCT_ID, deviceName: DEVICE_NAME, key: KEY }],
      products: [{ productId: PRODUCT_ID, accessKey: PRODUCT_KEY }],
    });
  });
  after(async () => {
    await emulator.close();
  });
  afterEach(async () => {
    await unloadAndCheckPool();
  });

  const propertyPosts = (): number =>
    emulator.uplinks(DEVICE).filter((u) => u.topic.endsWith('/thing/property/post')).length;
  const eventPosts = (): number =>
    emulator.uplinks(DEVICE).filter((u) => u.topic.endsWith('/thing/event/post')).length;

  function flow(modelCheck: string, extra: FlowNode[] = []): FlowNode[] {
    return [
      productConfig({ modelCheck }),
      deviceConfig(emulator, { product: 'prod', uplinkRate: '0' }),
      flowNode('post', 'onenet-property-post', { device: 'cfg', waitReply: true, timeout: '2000' }, [
        ['out'],
      ]),
      flowNode(
        'event',
        'onenet-event-post',
        { device: 'cfg', event: 'alarm', waitReply: true, timeout: '2000' },
        [['out']],
      ),
      flowNode('out', 'helper'),
      ...catchAll(),
      ...extra,
    ];
  }

  describe('modelCheck "reject"', () => {
    it('refuses an unknown identifier before anything is sent, naming identifier, value and rule', async () => {
      await loadTranslated('en-US', flow('reject'));
      await waitConnected(emulator);
      const before = propertyPosts();
      const caught = nextMessage('catch-out');
      node('post').receive({ payload: { tmp: 21.5 } });
      const msg = await caught;
      const text = errorText(msg);
      assert.match(text, /^not sent: the thing model of product TestProd01 refuses /);
      assert.match(text, /tmp = "tmp" \(rule unknown-identifier\): is not an identifier of the thing model/);
      assert.match(lastStatus('post')?.text ?? '', /^model: tmp: unknown-identifier$/);
      assert.equal(lastStatus('post')?.fill, 'red');
      await delay(200);
      assert.equal(propertyPosts(), before, 'nothing published');
      assert.deepEqual(collect('out'), []);
    });

    it('refuses a wrong type and a numeric string, and lets a valid post through', async () => {
      await loadTranslated('en-US', flow('reject'));
      await waitConnected(emulator);
      const before = propertyPosts();
      let caught = nextMessage('catch-out');
      node('post').receive({ payload: { temp: true } });
      assert.match(errorText(await caught), /temp = true \(rule type\): is not of type float/);
      caught = nextMessage('catch-out');
      node('post').receive({ payload: { temp: { value: '21.5', time: Date.now() } } });
      assert.match(
        errorText(await caught),
        /temp = "21.5" \(rule numeric-string\): is a text: float needs a JSON number/,
      );
      caught = nextMessage('catch-out');
      node('post').receive({ payload: { mode: 2 } });
      assert.match(errorText(await caught), /mode = 2 \(rule enum\): is not one of the enum values 0, 1/);
      assert.equal(propertyPosts(), before, 'nothing published');

      const ok = nextMessage('out');
      node('post').receive({ payload: { temp: 21, mode: 1 } });
      assert.equal(((await ok).onenet as { code: number }).code, 200);
      assert.equal(propertyPosts(), before + 1);
    });

    it('checks event output against the event', async () => {
      await loadTranslated('en-US', flow('reject'));
      await waitConnected(emulator);
      const before = eventPosts();
      const caught = nextMessage('catch-out');
      node('event').receive({ payload: { level: 5 } });
      assert.match(errorText(await caught), /level = 5 \(rule max\): is above the maximum 3/);
      assert.equal(eventPosts(), before);
      const ok = nextMessage('out');
      node('event').receive({ payload: { level: 2 } });
      assert.equal(((await ok).onenet as { code: number }).code, 200);
    });

    it('says it in zh-CN, built from the rule and its limit', async () => {
      await loadTranslated('zh-CN', flow('reject'));
      await waitConnected(emulator);
      const caught = nextMessage('catch-out');
      node('post').receive({ payload: { temp: 500 } });
      const text = errorText(await caught);
      assert.equal(text, '未发送：产品 TestProd01 的物模型不接受 temp = 500（规则 max）：大于最大值 120');
      assert.equal(lastStatus('post')?.text, '物模型：temp: max');
    });

    it('checks a reply: service output and property get data', async () => {
      await loadTranslated('en-US', [
        ...flow('reject'),
        flowNode('cmd', 'onenet-command-in', { device: 'cfg', kind: 'all' }, [['cmd-out']]),
        flowNode('cmd-out', 'helper'),
        flowNode('reply', 'onenet-command-reply', { device: '' }),
      ]);
      await waitConnected(emulator);
      let request = nextMessage('cmd-out');
      const invoked = emulator.invokeService(DEVICE, 'reboot', {});
      let msg = await request;
      let caught = nextMessage('catch-out');
      node('reply').receive({ ...msg, payload: { ok: 'yes' } });
      assert.match(errorText(await caught), /ok = "yes" \(rule type\): is not of type bool/);
      node('reply').receive({ ...msg, payload: { ok: true } });
      assert.equal((await invoked).code, 200);

      request = nextMessage('cmd-out');
      const got = emulator.getProperty(DEVICE, ['temp']);
      msg = await request;
      caught = nextMessage('catch-out');
      node('reply').receive({ ...msg, payload: { temp: 'hot' } });
      assert.match(errorText(await caught), /temp = "hot" \(rule type\): is not of type float/);
      node('reply').receive({ ...msg, payload: { temp: 22.5 } });
      assert.equal((await got).code, 200);
    });
  });

  it('flags a property set the model refuses on command-in, and auto-replies with its code', async () => {
    await loadTranslated('en-US', [
      ...flow('reject'),
      flowNode('cmd', 'onenet-command-in', { device: 'cfg', kind: 'property-set', autoReply: true }, [
        ['cmd-out'],
      ]),
      flowNode('cmd-out', 'helper'),
    ]);
    await waitConnected(emulator);
    let request = nextMessage('cmd-out');
    let reply = emulator.setProperty(DEVICE, { temp: 30 });
    let msg = await request;
    const violations = (msg.onenet as { model?: Array<{ identifier: string; rule: string; code: number }> })
      .model;
    assert.deepEqual(
      violations?.map((v) => [v.identifier, v.rule, v.code]),
      [['temp', 'read-only', 313]],
    );
    assert.equal((await reply).code, 313);

    request = nextMessage('cmd-out');
    reply = emulator.setProperty(DEVICE, { mode: 1 });
    msg = await request;
    assert.equal((msg.onenet as { model?: unknown }).model, undefined);
    assert.equal((await reply).code, 200);
  });

  it('modelCheck "warn": sends, and warns once per identifier and rule', async () => {
    await loadTranslated('en-US', flow('warn'));
    await waitConnected(emulator);
    const before = propertyPosts();
    for (let i = 0; i < 3; i++) {
      const ok = nextMessage('out');
      node('post').receive({ payload: { tmp: i, temp: 'x' } });
      assert.equal(((await ok).onenet as { code: number }).code, 200);
    }
    assert.equal(propertyPosts(), before + 3);
    const warnings = callHistory('post', 'warn').map((args) => String(args[0]));
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(
      warnings[0] ?? '',
      /^sent although the thing model of product TestProd01 refuses it: tmp = "tmp" \(rule unknown-identifier\)/,
    );
    assert.match(warnings[1] ?? '', /temp = "x" \(rule type\)/);
  });

  it('modelCheck "off": sends unchecked, without a warning', async () => {
    await loadTranslated('en-US', flow('off'));
    await waitConnected(emulator);
    const before = propertyPosts();
    const ok = nextMessage('out');
    node('post').receive({ payload: { tmp: 'x' } });
    assert.equal(((await ok).onenet as { code: number }).code, 200);
    assert.equal(propertyPosts(), before + 1);
    assert.deepEqual(callHistory('post', 'warn'), []);
  });

  it('a device without a model-bearing product is not checked', async () => {
    await load([
      productConfig({ thingModel: '' }),
      deviceConfig(emulator, { product: 'prod', uplinkRate: '0' }),
      flowNode('post', 'onenet-property-post', { device: 'cfg', waitReply: true, timeout: '2000' }, [
        ['out'],
      ]),
      flowNode('out', 'helper'),
    ]);
    await waitConnected(emulator);
    const ok = nextMessage('out');
    node('post').receive({ payload: { anything: 1 } });
    assert.equal(((await ok).onenet as { code: number }).code, 200);
  });

  it('warns once about what it could not import, and about a model that is not JSON', async () => {
    await loadTranslated('en-US', [
      productConfig({
        thingModel: JSON.stringify({ properties: [{ identifier: 'x', dataType: 'nonsense' }] }),
      }),
      productConfig({ id: 'prod2', thingModel: '{ not json' }),
    ]);
    const warnings = callHistory('prod', 'warn').map((args) => String(args[0]));
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] ?? '',
      /parts of the thing model were not understood and are not checked: properties\[0\]/,
    );
    const notJson = callHistory('prod2', 'warn').map((args) => String(args[0]));
    assert.equal(notJson.length, 1);
    assert.match(notJson[0] ?? '', /^the thing model is not JSON text/);
  });

  it("answers the dialog's import question with counts and the importer's problems", async () => {
    await load([productConfig()]);
    const ok = await helper.request().post('/onenet-product/import').send({ text: MODEL });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { json: true, properties: 2, events: 1, services: 1, problems: [] });
    const odd = await helper
      .request()
      .post('/onenet-product/import')
      .send({ text: JSON.stringify({ properties: [{ identifier: 'x', dataType: 'nonsense' }] }) });
    const body = odd.body as { properties: number; problems: Array<{ path: string }> };
    assert.ok(body.problems.length > 0);
    assert.match(body.problems[0]?.path ?? '', /^properties\[0\]/);
    const bad = await helper.request().post('/onenet-product/import').send({ text: '{' });
    assert.equal((bad.body as { json: boolean }).json, false);
    assert.equal((await helper.request().post('/onenet-product/import').send({})).status, 400);
  });

  describe('the device takes product id and key from its product', () => {
    it('logs in with the product key (一型一密) when the device has no key of its own', async () => {
      await load(
        [
          productConfig(),
          deviceConfig(emulator, { product: 'prod', productId: '', uplinkRate: '0' }),
          flowNode('post', 'onenet-property-post', { device: 'cfg', waitReply: true, timeout: '2000' }, [
            ['out'],
          ]),
          flowNode('out', 'helper'),
        ],
        { prod: { key: PRODUCT_KEY } },
      );
      await waitConnected(emulator);
      const ok = nextMessage('out');
      node('post').receive({ payload: { temp: 20 } });
      assert.equal(((await ok).onenet as { code: number }).code, 200);
      // The token names the device, as OneNET's SDKs sign it with the product key.
      const login = emulator.connections().find((c) => c.deviceName === DEVICE_NAME);
      assert.ok(login, 'logged in');
    });

    it('is refused with a wrong product key: the login really is signed with it', async () => {
      await load(
        [
          productConfig(),
          deviceConfig(emulator, { product: 'prod', productId: '' }),
          flowNode('post', 'onenet-property-post', { device: 'cfg' }, [['out']]),
          flowNode('out', 'helper'),
        ],
        { prod: { key: randomBytes(32).toString('base64') } },
      );
      await waitStatus('post', STATUS.authFailed);
    });

    it('refuses a device whose Product ID differs from its product', async () => {
      await load(
        [
          productConfig(),
          deviceConfig(emulator, { product: 'prod', productId: 'OtherProd9' }),
          flowNode('post', 'onenet-property-post', { device: 'cfg' }, [['out']]),
          flowNode('out', 'helper'),
          ...catchAll(),
        ],
        { prod: { key: PRODUCT_KEY }, cfg: { key: KEY } },
      );
      const errors = callHistory('post', 'error').map((args) => String(args[0]));
      assert.equal(errors.length, 1);
      assert.match(
        errors[0] ?? '',
        /Product ID "OtherProd9" differs from "TestProd01" of the product config node chosen for this device/,
      );
      const caught = nextMessage('catch-out');
      node('post').receive({ payload: { temp: 20 } });
      assert.match(errorText(await caught), /differs from "TestProd01"/);
    });

    it('says a key is missing when neither the device nor its product has one', async () => {
      await load(
        [
          productConfig(),
          deviceConfig(emulator, { product: 'prod', productId: '' }),
          flowNode('post', 'onenet-property-post', { device: 'cfg' }, [['out']]),
          flowNode('out', 'helper'),
        ],
        {},
      );
      const errors = callHistory('post', 'error').map((args) => String(args[0]));
      assert.match(
        errors[0] ?? '',
        /device key is missing: .*or the product access_key into its product config node/,
      );
    });

    it('keeps the product key out of the deployed flow, as it does the device key', async () => {
      const user = flowNode('post', 'onenet-property-post', { device: 'cfg' }, [[]]);
      await load([productConfig(), deviceConfig(emulator, { product: 'prod', productId: '' }), user], {
        prod: { key: PRODUCT_KEY },
      });
      await waitConnected(emulator);
      // A deploy from the editor carries the credentials inside the nodes; the runtime takes them out.
      await redeploy(
        [
          { ...productConfig({ name: 'renamed' }), credentials: { key: PRODUCT_KEY } },
          deviceConfig(emulator, { product: 'prod', productId: '' }),
          user,
        ],
        'full',
        {},
      );
      await waitConnected(emulator);
      const flows = JSON.stringify(helper._redNodes.getFlows());
      assert.ok(flows.includes('renamed'));
      assert.ok(!flows.includes(PRODUCT_KEY), 'the product key is not in the flows');
      assert.equal(helper._redNodes.getCredentialDefinition('onenet-product')?.key?.type, 'password');
    });
  });
});
