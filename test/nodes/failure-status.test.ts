import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { OneNetRequestError } from '../../src/connection';
import type { OneNetEmulator } from '../../src/emulator';
import { FAILURE_STATUS_HOLD_MS } from '../../src/node-red/connection-status';
import { failureStatusText, shortDetail } from '../../src/node-red/failure-status';
import type { Translate } from '../../src/node-red/i18n';
import {
  DEVICE,
  STATUS,
  catchAll,
  credentials,
  deviceConfig,
  errorText,
  flowNode,
  lastStatus,
  nextMessage,
  node,
  redeploy,
  useEmulator,
  waitConnected,
  waitStatus,
  type FlowNode,
} from './support';
import { loadTranslated } from './translated';

/** Shows the message name and its substitutions, so assertions can see which text was chosen. */
const t: Translate = (name, substitutions) =>
  substitutions ? `${name} ${JSON.stringify(substitutions)}` : name;

describe('a failed message’s status names its cause', function () {
  this.timeout(20000);
  const suite = useEmulator((emulator) => {
    emulator.failReplies(undefined);
    emulator.setReplyDelay(0);
  });
  let emulator: OneNetEmulator;
  beforeEach(() => {
    emulator = suite.emulator;
  });

  function postFlow(props: Record<string, unknown> = {}): FlowNode[] {
    return [
      deviceConfig(emulator),
      flowNode(
        'post',
        'onenet-property-post',
        { device: 'cfg', waitReply: true, timeout: '2000', ...props },
        [['out']],
      ),
      flowNode('out', 'helper'),
      ...catchAll(),
    ];
  }

  /** Posts `payload` through node "post" and returns what the Catch node got. */
  async function failedPost(payload: unknown): Promise<Record<string, unknown>> {
    const caught = nextMessage('catch-out', 5000);
    node('post').receive({ payload });
    return caught;
  }

  it('shows "invalid: payload.temperature is NaN", then the connection again after a few seconds', async () => {
    await loadTranslated('en-US', postFlow());
    await waitConnected(emulator);
    await waitStatus('post', STATUS.connected);
    await failedPost({ temperature: Number.NaN });
    assert.deepEqual(lastStatus('post'), {
      fill: 'red',
      shape: 'ring',
      text: 'invalid: payload.temperature is NaN',
    });
    await waitStatus('post', STATUS.connected, FAILURE_STATUS_HOLD_MS + 3000);
  });

  it('shows the reply code with the reply’s text, "OneNET 309: identifier not exist"', async () => {
    await loadTranslated('en-US', postFlow());
    await waitConnected(emulator);
    emulator.failReplies(309);
    const caught = await failedPost({ temperature: 21 });
    assert.equal(lastStatus('post')?.text, 'OneNET 309: identifier not exist');
    // The Catch node reads the sentence itself, and keeps the reply code as msg.error.code.
    assert.match(errorText(caught), /^OneNET replied 309: identifier not exist/);
    assert.equal((caught.error as { code?: unknown }).code, 309);
  });

  it('shows "timeout" when OneNET does not reply in time', async () => {
    await loadTranslated('en-US', postFlow({ timeout: '300' }));
    await waitConnected(emulator);
    emulator.setReplyDelay(2000);
    const caught = await failedPost({ temperature: 21 });
    assert.equal(lastStatus('post')?.text, STATUS.failedTimeout);
    assert.equal((caught.onenet as { reason?: unknown }).reason, 'timeout');
  });

  it('shows "offline: auth failed" (in Chinese: 离线：认证失败) for a post while the login is refused', async () => {
    const flow = postFlow();
    await loadTranslated('zh-CN', flow, credentials(randomBytes(32).toString('base64')));
    await waitStatus('post', STATUS.authFailed, 5000);
    const caught = await failedPost({ temperature: 21 });
    assert.deepEqual(lastStatus('post'), { fill: 'red', shape: 'ring', text: '离线：认证失败' });
    assert.match(errorText(caught), /^not sent: not connected to OneNET \(auth-failed\): auth failed/);
  });

  it('gives a Catch node our own errors without a class name in front', async () => {
    await loadTranslated('en-US', [
      deviceConfig(emulator),
      flowNode('reply', 'onenet-command-reply', { device: '' }, []),
      ...catchAll(),
    ]);
    const caught = nextMessage('catch-out');
    node('reply').receive({ payload: 1 });
    assert.equal(
      errorText(await caught),
      'msg.onenet is missing: wire this node after an onenet-command-in node',
    );
    assert.equal(lastStatus('reply')?.text, STATUS.failedNoOnenet);
  });

  describe('a reply node without a device of its own', () => {
    const replyFlow = (): FlowNode[] => [
      deviceConfig(emulator),
      flowNode('in', 'onenet-command-in', { device: 'cfg', kind: 'all', service: '', autoReply: false }, [
        ['requests'],
      ]),
      flowNode('requests', 'helper'),
      flowNode('reply', 'onenet-command-reply', { device: '' }, []),
      ...catchAll(),
    ];

    it('shows the device it replied through, also after a deploy gives that device a refused key', async () => {
      const flow = replyFlow();
      await loadTranslated('en-US', flow);
      await waitConnected(emulator);
      const request = nextMessage('requests');
      const platform = emulator.setProperty(DEVICE, { targetTemperature: 21 });
      node('reply').receive(await request);
      assert.equal((await platform).code, 200);
      await waitStatus('reply', 'replied 200');
      // The user changes the key (a wrong one) and deploys the changed nodes: the reply node itself
      // does not restart, as nothing in it changed. (The test helper passes credentials beside the
      // flow, so the name changes too, to mark the config node changed as the editor would.)
      const wrongKey = randomBytes(32).toString('base64');
      const changed = flow.map((each) => (each.id === 'cfg' ? { ...each, name: 'new key' } : each));
      await redeploy(changed, 'nodes', credentials(wrongKey));
      await waitStatus('reply', STATUS.authFailed, 5000);
      assert.deepEqual(lastStatus('reply'), { fill: 'red', shape: 'dot', text: STATUS.authFailed });
    });

    it('shows a dropped connection of that device, not its last "replied"', async () => {
      await loadTranslated('en-US', replyFlow());
      await waitConnected(emulator);
      const request = nextMessage('requests');
      const platform = emulator.setProperty(DEVICE, { targetTemperature: 22 });
      node('reply').receive(await request);
      await platform;
      await waitStatus('reply', 'replied 200');
      assert.ok(emulator.dropDevice(DEVICE));
      await waitStatus('reply', STATUS.disconnected);
    });
  });

  describe('failureStatusText', () => {
    const connected = { state: 'connected' as const, queueDepth: 0 };

    it('quotes the platform’s own reply text when it sent one', () => {
      const err = new OneNetRequestError('reply', 'OneNET replied 309: identifier not exist (temp)', {
        code: 309,
        platformMessage: 'identifier temp not exist',
      });
      assert.equal(
        failureStatusText(err, connected, t, t),
        'failedReply {"code":309,"message":"identifier temp not exist"}',
      );
    });

    it('names the connection state of an offline failure', () => {
      const err = new OneNetRequestError('offline', 'not connected to OneNET (disconnected)');
      const cases: Array<[Parameters<typeof failureStatusText>[1], string]> = [
        [{ state: 'auth-failed', queueDepth: 0 }, 'causeAuthFailed'],
        [{ state: 'disconnected', queueDepth: 0, kicked: true }, 'causeKicked'],
        [{ state: 'disconnected', queueDepth: 0 }, 'causeDisconnected'],
        [{ state: 'connecting', queueDepth: 0 }, 'causeConnecting'],
      ];
      for (const [status, cause] of cases) {
        assert.equal(failureStatusText(err, status, t, t), `failedOffline {"cause":"${cause}"}`);
      }
    });

    it('never says only "error", even for an error it does not know', () => {
      assert.equal(
        failureStatusText(new TypeError('boom happened'), connected, t, t),
        'failedOther {"reason":"boom happened"}',
      );
    });

    it('keeps the first clause of a long sentence, within a status’s length', () => {
      assert.equal(
        shortDetail('msg.payload.temperature is NaN, which is not a finite number'),
        'payload.temperature is NaN',
      );
      assert.equal(
        shortDetail(
          'msg.payload must be an object of {identifier: value}, or JSON text of one; this text is not JSON',
        ),
        'payload must be an object of {identifier: value}',
      );
      assert.ok(shortDetail(`identifier "${'x'.repeat(200)}" is too long`).length <= 48);
    });
  });
});
