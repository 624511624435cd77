import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { DeviceConnection, OneNetRequestError, type ConnectionStatus } from '../../src/connection';
import { StatusView } from '../../src/node-red/connection-status';
import type { Translate } from '../../src/node-red/i18n';
import type { Node, NodeStatus } from '../../src/node-red/node-red-types';
import { DEFAULT_POST_TIMEOUT_MS, postOptions, type PostNodeDef } from '../../src/node-red/post';

/**
 * What the post nodes do per message (issue 6): request options worked out once per node, msg.qos
 * passed on as the core mqtt out node reads it, and no status work for a message that changes nothing.
 */

function def(properties: Partial<PostNodeDef> = {}): PostNodeDef {
  return { id: 'post1', type: 'onenet-property-post', ...properties };
}

describe('post nodes per message', () => {
  describe('postOptions', () => {
    it("gives every plain message the node's own options, worked out once and not changeable", () => {
      const node = def({ waitReply: 'false', timeout: '250' });
      const first = postOptions(node, { payload: {} });
      const second = postOptions(node, { payload: {} });
      assert.equal(first, second);
      assert.deepEqual(first, { waitReply: false, timeoutMs: 250 });
      assert.ok(Object.isFrozen(first));
    });

    it('falls back to the default timeout for a blank or nonsense one', () => {
      assert.deepEqual(postOptions(def({ timeout: '' }), {}), {
        waitReply: true,
        timeoutMs: DEFAULT_POST_TIMEOUT_MS,
      });
      assert.deepEqual(postOptions(def({ timeout: 'soon' }), {}), {
        waitReply: true,
        timeoutMs: DEFAULT_POST_TIMEOUT_MS,
      });
    });

    it("adds msg.time and msg.qos to a copy, leaving the node's options alone", () => {
      const node = def({ timeout: 1000 });
      const shared = postOptions(node, {});
      assert.deepEqual(postOptions(node, { time: 1700000000000, qos: 0 }), {
        waitReply: true,
        timeoutMs: 1000,
        time: 1700000000000,
        qos: 0,
      });
      assert.deepEqual(shared, { waitReply: true, timeoutMs: 1000 });
    });

    it('reads msg.qos as a number or its text, like the core mqtt out node', () => {
      assert.equal(postOptions(def(), { qos: '0' }).qos, 0);
      assert.equal(postOptions(def(), { qos: '1' }).qos, 1);
      assert.equal(postOptions(def(), { qos: 1 }).qos, 1);
    });

    it('lets the connection refuse a QoS OneNET does not take, naming it', async () => {
      const connection = new DeviceConnection(
        { host: '127.0.0.1', port: 1883, productId: 'Ck2AF9QD2K', deviceName: 'qos-check' },
        { key: Buffer.alloc(32, 7).toString('base64'), tls: false },
      );
      try {
        const options = postOptions(def(), { qos: 2 });
        await assert.rejects(
          connection.request('property-post', { temp: 1 }, options),
          (err: unknown) =>
            err instanceof OneNetRequestError &&
            err.reason === 'invalid' &&
            /qos must be 0 or 1, not 2/.test(err.message),
        );
      } finally {
        await connection.close();
      }
    });
  });

  describe('StatusView.showConnection after each message', () => {
    class CountingConnection extends EventEmitter {
      reads = 0;
      current: ConnectionStatus = { state: 'connected', queueDepth: 0 };
      status(): ConnectionStatus {
        this.reads++;
        return this.current;
      }
    }
    const t: Translate = (name) => name;

    it('does nothing while the connection status it shows is current, and repaints after news', () => {
      const shown: NodeStatus[] = [];
      const node = { status: (s: NodeStatus) => shown.push(s) } as unknown as Node;
      const fake = new CountingConnection();
      const view = new StatusView(node, t);
      view.follow(fake as unknown as DeviceConnection);
      const readsAfterFollow = fake.reads;
      for (let i = 0; i < 1000; i++) view.showConnection();
      assert.equal(fake.reads, readsAfterFollow, 'no status read for a message that changes nothing');

      view.showFailure('timeout');
      view.showConnection();
      fake.current = { state: 'disconnected', queueDepth: 0 };
      fake.emit('status', fake.current);
      view.showConnection();
      assert.deepEqual(
        shown.map((s) => s.text),
        ['connected', 'timeout', 'connected', 'disconnected'],
      );
      view.stop();
    });
  });
});
