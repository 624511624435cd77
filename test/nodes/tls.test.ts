import assert from 'node:assert/strict';
import tlsNode from '@node-red/nodes/core/network/05-tls.js';
import { OneNetEmulator, generateTestCertificate } from '../../src/emulator';
import {
  ALL_NODES,
  DEVICE,
  KEY,
  PRODUCT_ID,
  DEVICE_NAME,
  STATUS,
  TAB,
  catchAll,
  delay,
  deviceConfig,
  errorText,
  flowNode,
  helper,
  lastStatus,
  nextMessage,
  node,
  statusHistory,
  unloadAndCheckPool,
  waitStatus,
  type FlowNode,
} from './support';

/** TLS through a core tls-config node (its CA trusts the emulator's throwaway certificate). */
describe('onenet-device with TLS', function () {
  this.timeout(10000);
  let emulator: OneNetEmulator;
  let cert: string;

  before(async () => {
    const generated = await generateTestCertificate();
    cert = generated.cert;
    emulator = await OneNetEmulator.start({
      devices: [{ productId: PRODUCT_ID, deviceName: DEVICE_NAME, key: KEY }],
      tls: { key: generated.key, cert: generated.cert },
    });
  });
  after(async () => {
    await emulator.close();
  });
  afterEach(async () => {
    await unloadAndCheckPool();
  });

  async function loadTls(cfg: Partial<FlowNode>): Promise<void> {
    const flow: FlowNode[] = [
      { id: TAB, type: 'tab', label: 'test' },
      {
        id: 'tls',
        type: 'tls-config',
        name: '',
        cert: '',
        key: '',
        ca: '',
        verifyservercert: true,
        servername: '',
      },
      deviceConfig(emulator, { tls: true, port: String(emulator.tlsPort), ...cfg }),
      flowNode('post', 'onenet-property-post', { device: 'cfg' }, [['out']]),
      flowNode('out', 'helper'),
      ...catchAll(),
    ];
    await helper.load([...ALL_NODES, tlsNode], flow, { cfg: { key: KEY }, tls: { cadata: cert } });
  }

  it('connects and posts over TLS with the options of the chosen tls-config node', async () => {
    await loadTls({ tlsConfig: 'tls' });
    await waitStatus('post', STATUS.connected, 5000);
    const output = nextMessage('out');
    node('post').receive({ payload: { temperature: 30 } });
    assert.equal(((await output).onenet as Record<string, unknown>).code, 200);
    assert.equal(emulator.latestProperties(DEVICE).temperature?.value, 30);
  });

  it('without a tls-config node trusts only the bundled OneNET CA, not a self-signed server', async () => {
    await loadTls({ tlsConfig: '' });
    await delay(1000);
    assert.ok(
      !statusHistory('post').some((s) => s.text === STATUS.connected),
      `never connected (last status: ${lastStatus('post')?.text})`,
    );
    assert.equal(emulator.connections().length, 0);
  });

  it('reports a tls-config node that does not exist, and fails messages with the reason', async () => {
    await loadTls({ tlsConfig: 'missing-tls' });
    await waitStatus('post', STATUS.deviceConfig);
    const caught = nextMessage('catch-out');
    node('post').receive({ payload: { temperature: 1 } });
    assert.match(errorText(await caught), /TLS configuration node .* does not exist/);
  });
});
