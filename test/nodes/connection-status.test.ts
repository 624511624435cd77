import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ConnectionStatus, DeviceConnection } from '../../src/connection';
import {
  QUEUE_STATUS_INTERVAL_MS,
  StatusView,
  describeConnectionStatus,
} from '../../src/node-red/connection-status';
import { MESSAGE_KEYS, statusTexts, type Translate } from '../../src/node-red/i18n';
import type { Node, NodeAPI, NodeStatus } from '../../src/node-red/node-red-types';

/** Shows the message name and its substitutions, so assertions can see which text was chosen. */
const t: Translate = (name, substitutions) =>
  substitutions ? `${name} ${JSON.stringify(substitutions)}` : name;

/** Just enough of a DeviceConnection for StatusView: status() and 'status' events. */
class FakeConnection extends EventEmitter {
  current: ConnectionStatus = { state: 'connecting', queueDepth: 0 };
  status(): ConnectionStatus {
    return this.current;
  }
  change(status: ConnectionStatus): void {
    this.current = status;
    this.emit('status', status);
  }
}

function recordingNode(): { node: Node; shown: NodeStatus[] } {
  const shown: NodeStatus[] = [];
  // Only status() is used by StatusView; the rest of Node is irrelevant here.
  const node = { status: (s: NodeStatus) => shown.push(s) } as unknown as Node;
  return { node, shown };
}

function asConnection(fake: FakeConnection): DeviceConnection {
  // StatusView only calls status(), on() and off(), which the fake has.
  return fake as unknown as DeviceConnection;
}

describe('connection status on flow nodes', () => {
  describe('describeConnectionStatus', () => {
    const cases: Array<[ConnectionStatus, NodeStatus]> = [
      [
        { state: 'connecting', queueDepth: 0 },
        { fill: 'yellow', shape: 'ring', text: 'connecting' },
      ],
      [
        { state: 'connected', queueDepth: 0 },
        { fill: 'green', shape: 'dot', text: 'connected' },
      ],
      [
        { state: 'disconnected', queueDepth: 0 },
        { fill: 'red', shape: 'ring', text: 'disconnected' },
      ],
      [
        { state: 'disconnected', queueDepth: 0, kicked: true },
        { fill: 'red', shape: 'ring', text: 'kicked' },
      ],
      [
        { state: 'auth-failed', queueDepth: 0 },
        { fill: 'red', shape: 'dot', text: 'authFailed' },
      ],
      [
        { state: 'closed', queueDepth: 0 },
        { fill: 'grey', shape: 'ring', text: 'closed' },
      ],
      [
        { state: 'disconnected', queueDepth: 3 },
        { fill: 'yellow', shape: 'dot', text: 'queued {"count":3}' },
      ],
      [
        { state: 'connected', queueDepth: 0, subDevice: { state: 'binding' } },
        { fill: 'yellow', shape: 'ring', text: 'subBinding' },
      ],
      // A sub-device's posts held for its binding: their count, before the gateway's own queue.
      [
        { state: 'connected', queueDepth: 2, subDevice: { state: 'binding', waiting: 3 } },
        { fill: 'yellow', shape: 'ring', text: 'subBindingWaiting {"count":3}' },
      ],
      // While the gateway is offline they wait as its queued posts do, counted with them.
      [
        { state: 'disconnected', queueDepth: 2, subDevice: { state: 'binding', waiting: 3 } },
        { fill: 'yellow', shape: 'dot', text: 'queued {"count":5}' },
      ],
    ];
    for (const [status, expected] of cases) {
      it(`shows ${JSON.stringify(status)} as ${expected.fill} ${expected.shape} "${expected.text}"`, () => {
        assert.deepEqual(describeConnectionStatus(status, t), expected);
      });
    }
  });

  describe('StatusView', () => {
    it('shows the current status at once and follows state changes immediately', () => {
      const { node, shown } = recordingNode();
      const fake = new FakeConnection();
      const view = new StatusView(node, t);
      view.follow(asConnection(fake));
      fake.change({ state: 'connected', queueDepth: 0 });
      fake.change({ state: 'disconnected', queueDepth: 0 });
      assert.deepEqual(
        shown.map((s) => s.text),
        ['connecting', 'connected', 'disconnected'],
      );
      view.stop();
    });

    it('does not repeat an identical status', () => {
      const { node, shown } = recordingNode();
      const fake = new FakeConnection();
      const view = new StatusView(node, t);
      view.follow(asConnection(fake));
      view.showConnection();
      view.showReplied(200);
      view.showReplied(200);
      view.showReplied(200);
      assert.deepEqual(
        shown.map((s) => s.text),
        ['connecting', 'replied {"code":200}'],
      );
      view.stop();
    });

    it('paints queue-depth changes at most once per interval, with the latest depth', async () => {
      const { node, shown } = recordingNode();
      const fake = new FakeConnection();
      fake.current = { state: 'disconnected', queueDepth: 0 };
      const view = new StatusView(node, t);
      view.follow(asConnection(fake));
      for (let depth = 1; depth <= 50; depth++) fake.change({ state: 'disconnected', queueDepth: depth });
      assert.equal(shown.length, 1, 'nothing more within the interval');
      await new Promise((resolve) => setTimeout(resolve, QUEUE_STATUS_INTERVAL_MS + 50));
      assert.deepEqual(
        shown.map((s) => s.text),
        ['disconnected', 'queued {"count":50}'],
      );
      view.stop();
    });

    it('stops listening when stopped, also cancelling a pending paint', async () => {
      const { node, shown } = recordingNode();
      const fake = new FakeConnection();
      fake.current = { state: 'disconnected', queueDepth: 0 };
      const view = new StatusView(node, t);
      view.follow(asConnection(fake));
      fake.change({ state: 'disconnected', queueDepth: 1 });
      view.stop();
      assert.equal(fake.listenerCount('status'), 0);
      fake.change({ state: 'connected', queueDepth: 0 });
      await new Promise((resolve) => setTimeout(resolve, QUEUE_STATUS_INTERVAL_MS + 50));
      assert.deepEqual(
        shown.map((s) => s.text),
        ['disconnected'],
      );
    });

    it('sends plain statuses as keys for the editor to translate, and translates composed ones itself', () => {
      const { node, shown } = recordingNode();
      const fake = new FakeConnection();
      fake.current = { state: 'connected', queueDepth: 0 };
      const RED = {
        _: (key: string, subs?: Record<string, string | number>) =>
          `translated(${key}${subs ? ` ${JSON.stringify(subs)}` : ''})`,
      };
      const view = new StatusView(node, statusTexts(RED as unknown as NodeAPI));
      view.follow(asConnection(fake));
      view.showProblem('noDeviceStatus');
      view.showReplied(302);
      fake.change({ state: 'disconnected', queueDepth: 2 });
      assert.deepEqual(
        shown.map((s) => s.text),
        [
          MESSAGE_KEYS.connected,
          MESSAGE_KEYS.noDeviceStatus,
          `translated(${MESSAGE_KEYS.replied} {"code":302})`,
          `translated(${MESSAGE_KEYS.queued} {"count":2})`,
        ],
      );
      view.stop();
    });

    it('shows the cause of a failure and goes back to the connection status after a success', () => {
      const { node, shown } = recordingNode();
      const fake = new FakeConnection();
      fake.current = { state: 'connected', queueDepth: 0 };
      const view = new StatusView(node, t);
      view.follow(asConnection(fake));
      view.showFailure('timeout');
      view.showConnection();
      assert.deepEqual(shown, [
        { fill: 'green', shape: 'dot', text: 'connected' },
        { fill: 'red', shape: 'ring', text: 'timeout' },
        { fill: 'green', shape: 'dot', text: 'connected' },
      ]);
      view.stop();
    });

    it('goes back to the connection status by itself once a failure has been shown for its hold', async () => {
      const { node, shown } = recordingNode();
      const fake = new FakeConnection();
      fake.current = { state: 'connected', queueDepth: 0 };
      const holdMs = 30;
      const view = new StatusView(node, t, holdMs);
      view.follow(asConnection(fake));
      view.showFailure('timeout');
      // A queue-depth change does not cut the hold short; a change of state would.
      fake.change({ state: 'connected', queueDepth: 1 });
      assert.equal(shown.at(-1)?.text, 'timeout');
      await new Promise((resolve) => setTimeout(resolve, holdMs + QUEUE_STATUS_INTERVAL_MS + 100));
      assert.deepEqual(shown.at(-1), { fill: 'yellow', shape: 'dot', text: 'queued {"count":1}' });
      view.stop();
    });

    it('shows a change of connection state at once, even while a failure is held', () => {
      const { node, shown } = recordingNode();
      const fake = new FakeConnection();
      fake.current = { state: 'connected', queueDepth: 0 };
      const view = new StatusView(node, t, 60_000);
      view.follow(asConnection(fake));
      view.showFailure('timeout');
      fake.change({ state: 'auth-failed', queueDepth: 0 });
      assert.deepEqual(shown.at(-1), { fill: 'red', shape: 'dot', text: 'authFailed' });
      view.stop();
    });
  });
});
