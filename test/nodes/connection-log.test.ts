import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { OneNetEmulator } from '../../src/emulator';
import { RECONNECT_SETTLE_MS } from '../../src/node-red/connection-log';
import {
  DEVICE,
  KEY,
  STATUS,
  callHistory,
  catchAll,
  credentials,
  deviceConfig,
  flowNode,
  node,
  statusHistory,
  useEmulator,
  waitConnected,
  waitFor,
} from './support';
import { loadTranslated } from './translated';

const LABEL = `${DEVICE.productId}/${DEVICE.deviceName}`;

/** The texts the device config node `cfg` has written to the log at `level`, oldest first. */
function logLines(level: 'log' | 'warn'): string[] {
  return callHistory('cfg', level).map((args) => String(args[0]));
}

/** Connection trouble reaches the Node-RED log through the device config node, once per change of state. */
describe('connection trouble in the Node-RED log', function () {
  this.timeout(20000);
  const suite = useEmulator((emulator) => emulator.removeAllListeners('client-refused'));
  let emulator: OneNetEmulator;
  beforeEach(() => {
    emulator = suite.emulator;
  });

  const postNode = () =>
    flowNode('post', 'onenet-property-post', { device: 'cfg', waitReply: true, timeout: '2000' }, [[]]);

  it('logs a refused login once, with what to check, however often the login is tried', async () => {
    let refusals = 0;
    emulator.on('client-refused', () => refusals++);
    const wrongKey = randomBytes(32).toString('base64');
    await loadTranslated('zh-CN', [deviceConfig(emulator), postNode(), ...catchAll()], credentials(wrongKey));
    // Each msg.action "connect" tries again at once instead of waiting out the back-off.
    for (let attempt = 1; attempt <= 3; attempt++) {
      if (attempt > 1) node('post').receive({ action: 'connect' });
      await waitFor(() => refusals >= attempt, `refused login ${attempt}`, 5000);
      await waitFor(
        () => statusHistory('post').filter((s) => s.text === STATUS.authFailed).length >= attempt,
        `"auth failed" shown after attempt ${attempt}`,
      );
    }
    const authFailed = logLines('warn').filter((line) => line.includes('认证失败'));
    assert.deepEqual(authFailed, [
      `OneNET 拒绝了设备 ${LABEL} 的登录（认证失败）：请检查此配置节点的产品 ID、设备名称和密钥` +
        '（设备密钥，或产品的 access_key）；之后每次重试的间隔会越来越长',
    ]);
    const everything = [...logLines('log'), ...logLines('warn'), ...callHistory('cfg', 'error').map(String)];
    for (const line of everything) assert.ok(!line.includes(wrongKey), 'the key is never logged');
  });

  it('logs the first login, a drop with its reason, and "reconnected" once the new session holds', async () => {
    await loadTranslated('en-US', [deviceConfig(emulator), postNode(), ...catchAll()]);
    await waitConnected(emulator);
    const address = `${emulator.host}:${emulator.port}`;
    await waitFor(() => logLines('log').length > 0, 'the first login to be logged');
    assert.deepEqual(logLines('log'), [`connected to OneNET as ${LABEL} (${address})`]);

    assert.ok(emulator.dropDevice(DEVICE));
    await waitFor(() => logLines('warn').length > 0, 'the drop to be logged');
    assert.match(
      logLines('warn')[0]!,
      new RegExp(`^disconnected from OneNET \\(${LABEL}\\): connection lost.*; reconnecting by itself$`),
    );
    await waitConnected(emulator);
    await waitFor(
      () => logLines('log').length === 2,
      '"reconnected" to be logged',
      RECONNECT_SETTLE_MS + 5000,
    );
    assert.equal(logLines('log')[1], `reconnected to OneNET as ${LABEL}`);
    assert.equal(logLines('warn').length, 1, 'one line for the drop');
    assert.ok(![...logLines('log'), ...logLines('warn')].some((line) => line.includes(KEY)));
  });

  it('logs a disconnect the flow asked for as such, not as trouble', async () => {
    await loadTranslated('en-US', [deviceConfig(emulator), postNode(), ...catchAll()]);
    await waitConnected(emulator);
    // The emulator sees the subscriptions before the client has its SUBACK: wait for the client too.
    await waitFor(() => logLines('log').length === 1, 'the first login to be logged');
    node('post').receive({ action: 'disconnect' });
    await waitFor(() => logLines('log').length === 2, 'the disconnect to be logged');
    assert.equal(logLines('log')[1], `disconnected from OneNET (${LABEL}) by msg.action "disconnect"`);
    assert.deepEqual(logLines('warn'), []);
  });
});
