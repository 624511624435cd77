import assert from 'node:assert/strict';
import type { OneNetEmulator, UplinkRecord } from '../../src/emulator';
import type { DeviceNodeApi } from '../../src/node-red/device-node';
import { MESSAGE_KEYS } from '../../src/node-red/i18n';
import { LANGUAGES, placeholdersOf, resolveKey } from '../editor/catalogs';
import {
  DEVICE,
  deviceConfig,
  flowNode,
  helper,
  nextCall,
  node,
  redeploy,
  useEmulator,
  waitConnected,
} from './support';
import { loadTranslated } from './translated';

const SET_TOPIC = `$sys/${DEVICE.productId}/${DEVICE.deviceName}/thing/property/set`;

/** Every runtime message (warning, error) a user reads goes through the catalogue, in their language. */
describe('runtime messages in the user’s language', function () {
  this.timeout(15000);
  const suite = useEmulator((emulator) => emulator.removeAllListeners('uplink'));
  let emulator: OneNetEmulator;
  beforeEach(() => {
    emulator = suite.emulator;
  });

  it('has an en-US and a zh-CN text, with the same placeholders, for every key the runtime uses', () => {
    for (const [name, key] of Object.entries(MESSAGE_KEYS)) {
      const english = resolveKey('en-US', 'onenet-device', key);
      const chinese = resolveKey('zh-CN', 'onenet-device', key);
      assert.ok(english, `en-US ${name} (${key})`);
      assert.ok(chinese && /[\u4e00-\u9fff]/.test(chinese), `zh-CN ${name} (${key})`);
      assert.deepEqual(placeholdersOf(chinese), placeholdersOf(english), `placeholders of ${name}`);
    }
  });

  const commandIn = (props: Record<string, unknown> = {}) =>
    flowNode(
      'in',
      'onenet-command-in',
      { device: 'cfg', kind: 'all', service: '', autoReply: false, ...props },
      [['requests']],
    );

  it('reports a failed automatic reply in Chinese, with the request id and the reason', async () => {
    await loadTranslated('zh-CN', [
      deviceConfig(emulator),
      commandIn({ kind: 'property-set', autoReply: true }),
      flowNode('requests', 'helper'),
    ]);
    await waitConnected(emulator);
    // The connection drops as the reply reaches the platform, before OneNET acknowledges it.
    emulator.on('uplink', (record: UplinkRecord) => {
      if (record.kind === 'property-set-reply') emulator.dropDevice(DEVICE);
    });
    const failed = nextCall('in', 'error', () => true, 5000);
    const platform = emulator.setProperty(DEVICE, { targetTemperature: 21 }).catch(() => undefined);
    const [text] = await failed;
    await platform;
    assert.match(String(text), /^自动回复请求 \d{1,13} 失败：reply not confirmed: the connection dropped/);
  });

  for (const language of LANGUAGES) {
    it(`shows a malformed platform message in ${language}`, async () => {
      await loadTranslated(language, [deviceConfig(emulator), commandIn(), flowNode('requests', 'helper')]);
      await waitConnected(emulator);
      const warned = nextCall('in', 'warn');
      assert.ok(emulator.publishRaw(DEVICE, SET_TOPIC, '{not json'));
      const [text] = await warned;
      const expected =
        language === 'zh-CN'
          ? `OneNET 消息未交给流程（${SET_TOPIC}）：`
          : `OneNET message on ${SET_TOPIC} not passed to the flow: `;
      assert.ok(String(text).startsWith(expected), String(text));
      assert.match(String(text), /JSON/);
    });
  }

  it('tells the user in Chinese which platform request no command-in node accepts', async () => {
    await loadTranslated('zh-CN', [
      deviceConfig(emulator),
      commandIn({ kind: 'property-set' }),
      flowNode('requests', 'helper'),
    ]);
    await waitConnected(emulator);
    const warned = nextCall('in', 'warn');
    const reply = await emulator.getProperty(DEVICE, ['temperature']);
    assert.equal(reply.code, 100);
    const [text] = await warned;
    assert.equal(
      text,
      `OneNET 消息未交给流程（$sys/${DEVICE.productId}/${DEVICE.deviceName}/thing/property/get）：` +
        'no handler accepts property get requests; answered with code 100',
    );
  });

  it('reports a failed release of the connection in Chinese when a deploy closes the node', async () => {
    await loadTranslated('zh-CN', [
      deviceConfig(emulator),
      flowNode('post', 'onenet-property-post', { device: 'cfg', waitReply: true, timeout: '2000' }, [[]]),
    ]);
    await waitConnected(emulator);
    const device = helper.getNode('cfg') as unknown as DeviceNodeApi;
    const release = device.releaseConnection.bind(device);
    // The connection is released for real (the pool must end empty); only the outcome is a failure.
    device.releaseConnection = async (userId: string) => {
      await release(userId);
      throw new Error('socket did not close');
    };
    const post = node('post');
    const warned = new Promise<unknown[]>((resolve) =>
      post.on('call:warn', (call: never) => resolve((call as { args: unknown[] }).args)),
    );
    // A deploy without the post node closes it (the helper stops recording calls on unload).
    await redeploy([deviceConfig(emulator)], 'full');
    assert.deepEqual(await warned, ['释放 OneNET 连接失败：socket did not close']);
  });
});
