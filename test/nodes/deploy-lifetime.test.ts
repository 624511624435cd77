import assert from 'node:assert/strict';
import { defaultPool } from '../../src/connection';
import type { OneNetEmulator } from '../../src/emulator';
import {
  DEVICE,
  KEY,
  STATUS,
  callHistory,
  catchAll,
  credentials,
  deviceConfig,
  flowNode,
  load,
  nextMessage,
  node,
  redeploy,
  waitConnected,
  waitFor,
  waitStatus,
  useEmulator,
  type FlowNode,
} from './support';

const SETTINGS_DIFFER = '@iot-flows/node-red-onenet/onenet-device:onenet-device.warn.settings-differ';

/**
 * How long a connection lives across Node-RED deploys: it follows its config node and the flow nodes
 * that use it, never a node that merely restarts, and never a reply node that only borrowed it.
 */
describe('Node-RED deploys and the lifetime of a device connection', function () {
  this.timeout(20000);
  const suite = useEmulator();
  let emulator: OneNetEmulator;
  beforeEach(() => {
    emulator = suite.emulator;
  });

  /** command-in wired to a reply node that has no device of its own: it replies through msg.onenet.device. */
  function replyFlow(device: Partial<FlowNode> = {}): FlowNode[] {
    return [
      deviceConfig(emulator, device),
      flowNode('in', 'onenet-command-in', { device: 'cfg', kind: 'property-set', autoReply: false }, [
        ['reply'],
      ]),
      flowNode('reply', 'onenet-command-reply', { device: '' }, []),
      ...catchAll(),
    ];
  }

  for (const type of ['nodes', 'flows'] as const) {
    it(`a reply node without a device lets go of the old connection when its device changes ("${type}" deploy)`, async () => {
      await load(replyFlow());
      await waitConnected(emulator);
      // Answered 200 by the reply node, which from then on uses the device's connection.
      assert.equal((await emulator.setProperty(DEVICE, { targetTemperature: 20 })).code, 200);

      // A login setting changes: the old session must end, and the new one must serve the reply node.
      await redeploy(replyFlow({ keepalive: '90' }), type);
      await waitStatus('in', STATUS.connected);
      await waitFor(() => emulator.connections().length === 1, 'one session at the emulator');
      assert.equal(defaultPool.connectionCount(), 1, 'the old connection is gone from the pool');
      assert.deepEqual(callHistory('in', 'error'), [], 'no "already in use with a different keepalive"');

      const reply = await emulator.setProperty(DEVICE, { targetTemperature: 21 });
      assert.equal(reply.code, 200, `answered by the reply node through the new session, not ${reply.code}`);
      assert.equal(emulator.stats.kicks, 0, 'no two sessions of the device kicked each other');
    });
  }

  it('a reply node without a device fails clearly after its device was deleted', async () => {
    await load(replyFlow());
    await waitConnected(emulator);
    assert.equal((await emulator.setProperty(DEVICE, { targetTemperature: 20 })).code, 200);
    const request = { payload: {}, onenet: { kind: 'property-set', id: '77', device: 'cfg' } };

    // The device and command-in go; the reply node stays and is not restarted.
    await redeploy(
      [flowNode('reply', 'onenet-command-reply', { device: '' }, []), ...catchAll()],
      'nodes',
      {},
    );
    await waitFor(() => defaultPool.connectionCount() === 0, 'the device connection to close');
    await waitFor(() => emulator.connections().length === 0, 'the session to end at the emulator');
    const caught = nextMessage('catch-out');
    node('reply').receive(request);
    const error = (await caught).error as { message: string };
    assert.match(error.message, /no-device|no OneNET device/);
    assert.equal(defaultPool.connectionCount(), 0, 'nothing was connected again');
  });

  it('restarting the only flow node of a device keeps the session and its offline queue', async () => {
    const flow = (timeout: string): FlowNode[] => [
      deviceConfig(emulator, { offlinePolicy: 'queue' }),
      flowNode('post', 'onenet-property-post', { device: 'cfg', waitReply: true, timeout }, [['posted']]),
      flowNode('posted', 'helper'),
      ...catchAll(),
    ];
    await load(flow('5000'));
    await waitConnected(emulator);
    const connectsBefore = emulator.stats.connects;

    // A restart alone: no new login.
    await redeploy(flow('6000'), 'nodes');
    await waitStatus('post', STATUS.connected);
    assert.equal(emulator.stats.connects, connectsBefore, 'the device did not log in again');
    assert.equal(emulator.connections().length, 1);

    // Offline, a post waits in the queue; restarting the node must not drop it.
    await emulator.stopListening();
    try {
      await waitStatus('post', STATUS.disconnected);
      node('post').receive({ payload: { queuedAcrossDeploy: 7 } });
      await waitFor(() => defaultPool.connectionCount() === 1, 'the pool to hold the connection');
      await redeploy(flow('7000'), 'nodes');
    } finally {
      await emulator.startListening();
    }
    await waitFor(
      () => emulator.uplinks(DEVICE).some((u) => JSON.stringify(u.payload).includes('queuedAcrossDeploy')),
      'the post queued before the deploy to reach OneNET after it',
      10000,
    );
  });

  it('a device no flow node uses after a deploy is disconnected when the deploy ends', async () => {
    const other = { productId: DEVICE.productId, deviceName: 'node-test-2' };
    emulator.addDevice({ ...other, key: KEY });
    try {
      const flow = (device: string): FlowNode[] => [
        deviceConfig(emulator),
        deviceConfig(emulator, { id: 'cfg2', name: 'second', deviceName: other.deviceName }),
        flowNode('post', 'onenet-property-post', { device }, [['posted']]),
        flowNode('posted', 'helper'),
        ...catchAll(),
      ];
      await load(flow('cfg'), credentials(KEY, ['cfg', 'cfg2']));
      await waitConnected(emulator);
      await redeploy(flow('cfg2'), 'nodes', credentials(KEY, ['cfg', 'cfg2']));
      await waitConnected(emulator, other);
      await waitFor(
        () => !emulator.connections().some((c) => c.deviceName === DEVICE.deviceName),
        'the device the post node left to log out',
      );
      assert.equal(defaultPool.connectionCount(), 1);
    } finally {
      emulator.removeDevice(other);
    }
  });

  it('warns when a second config node of a device asks for other behaviour than the one in use', async () => {
    await load(
      [
        deviceConfig(emulator),
        deviceConfig(emulator, { id: 'cfg2', name: 'same device, queueing', offlinePolicy: 'queue' }),
        flowNode('post1', 'onenet-property-post', { device: 'cfg' }, [['out']]),
        flowNode('post2', 'onenet-property-post', { device: 'cfg2' }, [['out']]),
        flowNode('out', 'helper'),
        ...catchAll(),
      ],
      credentials(KEY, ['cfg', 'cfg2']),
    );
    await waitConnected(emulator);
    const warnings = [...callHistory('cfg', 'warn'), ...callHistory('cfg2', 'warn')].map((args) => args[0]);
    assert.equal(
      warnings.filter((text) => text === SETTINGS_DIFFER).length,
      1,
      `one warning about the offline policy that is not used, got ${JSON.stringify(warnings)}`,
    );
  });
});
