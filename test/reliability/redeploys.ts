import assert from 'node:assert/strict';
import { defaultPool } from '../../src/connection';
import type { OneNetEmulator } from '../../src/emulator';
import { report } from './figures';
import { RECONNECT_SETTLE_MS } from '../../src/node-red/connection-log';
import {
  activeResources,
  captureAndUnload,
  catchAll,
  collect,
  credentialsOf,
  delay,
  deviceConfig,
  downlinkHandlers,
  flowNode,
  load,
  makeDevices,
  mqttListeners,
  node,
  poolUsers,
  pooledConnections,
  redeploy,
  startEmulator,
  waitFor,
  type FlowNode,
  type TestDevice,
} from './support';

const DEVICES = 5;
const FULL_REDEPLOYS = 100;
const PARTIAL_REDEPLOYS = 100;
/** Per device: 4 property posts, 2 event posts, 2 command-ins, 2 command replies = 50 flow nodes. */
const NODES_PER_DEVICE = {
  'onenet-property-post': 4,
  'onenet-event-post': 2,
  'onenet-command-in': 2,
  'onenet-command-reply': 2,
};
/** Made at login; the three post replies join on a session's first awaited post, which this test does not make. */
const SUBSCRIPTIONS_PER_DEVICE = 4;
/** Of each kind, deploys number 80..89 happen while the broker is down. */
const BROKER_DOWN_FROM = 80;
const BROKER_DOWN_DEPLOYS = 10;

/**
 * Issue 7, scenario 5: 100 full and 100 partial redeploys of a 50-node flow over 5 devices, some
 * right after each other (the next deploy lands while the connections are still logging in), some
 * after the devices came back. Afterwards the broker must see exactly one session with the four
 * login subscriptions per device, and nothing may have piled up: pool users, our listeners, MQTT.js
 * listeners and the process's handles are back to what they were after the first deploy.
 */
export function redeploys(): void {
  describe('100 full and 100 partial redeploys of a 50-node flow', function () {
    this.timeout(120_000);
    const devices = makeDevices('deploy', DEVICES);
    let emulator: OneNetEmulator;
    let brokerDown = false;

    before(async () => {
      emulator = await startEmulator(devices);
    });
    after(async () => {
      await emulator.close();
    });

    /** The flow, with node names carrying `names[id]` so a partial deploy can change chosen nodes. */
    function flow(names: Map<string, number>): FlowNode[] {
      const nodes: FlowNode[] = [];
      const named = (id: string): string => `${id} v${names.get(id) ?? 0}`;
      for (const device of devices) {
        nodes.push(deviceConfig(emulator, device, { name: named(device.configId) }));
        for (const [type, count] of Object.entries(NODES_PER_DEVICE)) {
          for (let i = 0; i < count; i++) {
            const id = `${device.ref.deviceName}-${type.slice(7)}-${i}`;
            const props: Record<string, unknown> = { name: named(id), device: device.configId };
            if (type === 'onenet-event-post') props.event = 'alarm';
            if (type === 'onenet-command-in') Object.assign(props, { kind: 'all', autoReply: true });
            const wires =
              type === 'onenet-command-reply' ? [] : [[type === 'onenet-command-in' ? 'cmd-out' : 'ok']];
            nodes.push(flowNode(id, type, props, wires));
          }
        }
      }
      return [...nodes, flowNode('ok', 'helper'), flowNode('cmd-out', 'helper'), ...catchAll()];
    }

    const flowNodeIds = devices.flatMap((device) =>
      Object.entries(NODES_PER_DEVICE).flatMap(([type, count]) =>
        Array.from({ length: count }, (_, i) => `${device.ref.deviceName}-${type.slice(7)}-${i}`),
      ),
    );

    async function allConnected(): Promise<void> {
      await waitFor(
        () =>
          pooledConnections().length === DEVICES &&
          pooledConnections().every((c) => c.status().state === 'connected') &&
          emulator.connections().length === DEVICES,
        'every device connected, and no session left over',
        10_000,
      );
    }

    /**
     * Deploys number BROKER_DOWN_FROM.. of each kind happen while the broker is down, so they land on
     * connections that wait to retry (the "phantom client after a redeploy in back-off" bug class).
     */
    async function brokerDownDuring(i: number): Promise<void> {
      const down = i >= BROKER_DOWN_FROM && i < BROKER_DOWN_FROM + BROKER_DOWN_DEPLOYS;
      if (down && !brokerDown) await emulator.stopListening();
      if (!down && brokerDown) await emulator.startListening();
      brokerDown = down;
    }

    async function settleAfterDeploy(i: number, waitForLogins: boolean): Promise<void> {
      if (brokerDown) await delay(50 + (i % 5) * 40);
      else if (waitForLogins) await allConnected();
      else await delay(Math.floor(Math.random() * 30));
    }

    /** Everything that must not grow with redeploys. */
    function snapshot(): Record<string, unknown> {
      const connections = pooledConnections().sort((a, b) => a.key.localeCompare(b.key));
      return {
        resources: activeResources(),
        poolConnections: defaultPool.connectionCount(),
        poolListeners: defaultPool.listenerCount('duplicate-identity'),
        connections: connections.map((connection) => ({
          users: poolUsers(connection),
          statusListeners: connection.listenerCount('status'),
          downlinkErrorListeners: connection.listenerCount('downlink-error'),
          downlinkHandlers: downlinkHandlers(connection),
          mqtt: mqttListeners(connection),
        })),
      };
    }

    function sessionsAndSubscriptions(device: TestDevice): { sessions: number; subscriptions: string[] } {
      return {
        sessions: emulator.connections().filter((c) => c.deviceName === device.ref.deviceName).length,
        subscriptions: emulator.subscriptions(device.ref),
      };
    }

    it('leaves exactly the expected sessions, subscriptions, listeners and handles', async () => {
      const warnings: Error[] = [];
      const onWarning = (warning: Error): void => {
        warnings.push(warning);
      };
      process.on('warning', onWarning);
      const credentials = credentialsOf(devices);
      const names = new Map<string, number>();
      const started = Date.now();
      const loginsBefore = emulator.stats.connects;
      const kicksBefore = emulator.stats.kicks;
      await delay(10); // mocha arms its timeout timer at the test's first await; count it in both
      const beforeLoad = activeResources();
      try {
        await load(flow(names), credentials);
        await allConnected();
        await delay(300);
        const baseline = snapshot();

        for (let i = 0; i < FULL_REDEPLOYS; i++) {
          await brokerDownDuring(i);
          await redeploy(flow(names), 'full', credentials);
          // Every other deploy lands while the previous one's connections are still logging in, at
          // a random stage (TCP connect, waiting for CONNACK or SUBACK), or waiting to retry.
          await settleAfterDeploy(i, i % 2 === 1);
        }
        for (let i = 0; i < PARTIAL_REDEPLOYS; i++) {
          await brokerDownDuring(i);
          const changed = [...flowNodeIds].sort(() => Math.random() - 0.5).slice(0, 1 + (i % 10));
          // Now and then a device config node changes too: it restarts with every node using it.
          if (i % 10 === 9) changed.push(devices[i % DEVICES]!.configId);
          for (const id of changed) names.set(id, (names.get(id) ?? 0) + 1);
          await redeploy(flow(names), i % 2 === 0 ? 'nodes' : 'flows', credentials);
          await settleAfterDeploy(i, i % 4 === 3);
        }
        await brokerDownDuring(-1);
        await allConnected();
        // A device log waits RECONNECT_SETTLE_MS after a reconnect before it says "reconnected".
        await delay(RECONNECT_SETTLE_MS + 300);
        const after = snapshot();
        const elapsedMs = Date.now() - started;

        for (const device of devices) {
          const { sessions, subscriptions } = sessionsAndSubscriptions(device);
          assert.equal(sessions, 1, `one session for ${device.ref.deviceName}`);
          assert.equal(subscriptions.length, SUBSCRIPTIONS_PER_DEVICE, subscriptions.join(', '));
        }
        const perDevice = Object.values(NODES_PER_DEVICE).reduce((a, b) => a + b, 0);
        for (const connection of after.connections as Array<Record<string, number>>) {
          assert.equal(connection.users, perDevice, 'one pool user per flow node');
          // Plus one for the device config node's log of the connection (connection-log.ts).
          assert.equal(
            connection.statusListeners,
            perDevice + 1,
            "one 'status' listener per flow node, and the device log",
          );
          assert.equal(
            connection.downlinkErrorListeners,
            perDevice,
            "one 'downlink-error' listener per flow node",
          );
          assert.equal(connection.downlinkHandlers, NODES_PER_DEVICE['onenet-command-in']);
        }
        assert.deepEqual(after, baseline, 'listeners and handles are back to their baseline');
        const maxListenerWarnings = warnings.filter((w) => w.name === 'MaxListenersExceededWarning');
        assert.deepEqual(maxListenerWarnings, [], 'no MaxListenersExceededWarning');

        // And the flow still works: one post per message, one message per platform request and node.
        const ok = collect('ok');
        const commands = collect('cmd-out');
        for (const device of devices)
          node(`${device.ref.deviceName}-property-post-0`).receive({ payload: { t: 1 } });
        await waitFor(() => ok.length === DEVICES, 'a post per device');
        for (const device of devices) await emulator.setProperty(device.ref, { power: true });
        await delay(100);
        assert.equal(commands.length, DEVICES * NODES_PER_DEVICE['onenet-command-in']);

        const resources = after.resources as Record<string, number>;
        const mqtt = (after.connections as Array<{ mqtt: Record<string, number> }>)[0]!.mqtt;
        report('redeploys', {
          'full redeploys': FULL_REDEPLOYS,
          'partial redeploys (modified nodes / modified flows)': `${PARTIAL_REDEPLOYS / 2} / ${PARTIAL_REDEPLOYS / 2}`,
          'of them with the broker down': BROKER_DOWN_DEPLOYS * 2,
          'flow nodes': flowNodeIds.length,
          devices: DEVICES,
          logins: emulator.stats.connects - loginsBefore,
          'kicks seen by the broker': emulator.stats.kicks - kicksBefore,
          'sessions at the end (expected 5)': emulator.connections().length,
          'subscriptions at the end (expected 20)': devices
            .map((d) => emulator.subscriptions(d.ref).length)
            .reduce((a, b) => a + b, 0),
          'sockets before / after': `${(baseline.resources as Record<string, number>).TCPSocketWrap} / ${resources.TCPSocketWrap}`,
          'timers before / after': `${(baseline.resources as Record<string, number>).Timeout} / ${resources.Timeout}`,
          'MQTT.js listeners per client before / after': `${sum((baseline.connections as Array<{ mqtt: Record<string, number> }>)[0]!.mqtt)} / ${sum(mqtt)}`,
          'MaxListeners warnings': maxListenerWarnings.length,
          'elapsed s': (elapsedMs / 1000).toFixed(1),
        });
      } finally {
        process.off('warning', onWarning);
        await captureAndUnload();
      }
      await waitFor(() => emulator.connections().length === 0, 'the broker to see every device leave');
      await delay(200);
      const afterUnload = activeResources();
      assert.deepEqual(afterUnload, beforeLoad, 'the process holds the same handles as before the flows');
      report('redeploys, after the flows are gone', {
        'handles before the first deploy': JSON.stringify(beforeLoad),
        'handles after unloading': JSON.stringify(afterUnload),
      });
    });
  });
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
