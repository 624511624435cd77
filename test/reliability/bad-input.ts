import assert from 'node:assert/strict';
import type { OneNetEmulator, ReplyEvent, UplinkRecord } from '../../src/emulator';
import { devicePrefix, type ThingReply } from '../../src/protocol';
import {
  badDownlinks,
  nastyPayloads,
  randomPayloads,
  randomScalars,
  type BadDownlink,
  type NamedValue,
} from './bad-values';
import { report } from './figures';
import {
  captureAndUnload,
  catchAll,
  callsOf,
  collect,
  credentialsOf,
  delay,
  deviceConfig,
  flowNode,
  load,
  makeDevices,
  node,
  startEmulator,
  waitFor,
  waitOnline,
  type TestDevice,
} from './support';

const SEED = 20_240_607;
const RANDOM_PAYLOADS = 150;
const RANDOM_SCALARS = 40;
const RANDOM_DOWNLINKS = 40;
const PROBES_AT_ONCE = 20;
/** Longer than this, an error message is no longer something a user reads in the debug sidebar. */
const MAX_ERROR_CHARS = 600;

type Msg = Record<string, unknown>;

/** An error text a user can act on: a sentence, not a stack, "[object Object]" or a wall of data. */
function assertClear(text: unknown, what: string): void {
  assert.equal(typeof text, 'string', `${what}: the error has a message`);
  const message = text as string;
  assert.ok(message.length >= 8, `${what}: "${message}" says too little`);
  assert.ok(message.length <= MAX_ERROR_CHARS, `${what}: a ${message.length}-character error message`);
  assert.doesNotMatch(message, /\[object |^undefined$|\n\s+at /, `${what}: "${message}"`);
}

/**
 * Issue 7, scenario 6: bad input from both sides. Into each node with an input go random and nasty
 * msg.payload values (and random msg.time, msg.event, msg.code, msg.onenet, msg.action), each one
 * followed by a good message; from the platform side come random bytes, malformed JSON, missing ids
 * and wrong types on every downlink topic, between good platform requests. Node-RED must keep
 * running, each bad input must give exactly one clear error, and the good messages must flow.
 */
export function badInput(): void {
  describe('bad input from the flow and from the platform', function () {
    this.timeout(120_000);
    // The second device has no command-in node: garbage on its reply topics must be shown anyway.
    const [device, postOnly] = makeDevices('fuzz', 2);
    let emulator: OneNetEmulator;
    let ok: Msg[];
    let caught: Msg[];
    let commands: Msg[];
    /** Replies the platform got from the device (to its own requests and to bad ones). */
    const replies: ReplyEvent[] = [];

    before(async () => {
      emulator = await startEmulator([device!, postOnly!], { replyDeadlineMs: 1000, uplinkLogLimit: 1 });
      await load(
        [
          deviceConfig(emulator, device!),
          deviceConfig(emulator, postOnly!),
          flowNode('pp2', 'onenet-property-post', { device: postOnly!.configId }, [['ok']]),
          // Without waiting for the reply a post is done at its PUBACK, when the platform has stored
          // it: what this scenario checks, at a tenth of the time per message.
          flowNode('pp', 'onenet-property-post', { device: device!.configId, waitReply: false }, [['ok']]),
          // One post that waits for its reply subscribes the post-reply topics (a session whose posts
          // never wait receives no replies, so there would be nothing on them to check).
          flowNode('pp-await', 'onenet-property-post', { device: device!.configId }, [['ok']]),
          flowNode(
            'ep',
            'onenet-event-post',
            { device: device!.configId, event: 'alarm', waitReply: false },
            [['ok']],
          ),
          flowNode('ep-msg', 'onenet-event-post', { device: device!.configId, event: '', waitReply: false }, [
            ['ok'],
          ]),
          flowNode('ci', 'onenet-command-in', { device: device!.configId, kind: 'all', autoReply: true }, [
            ['cmd'],
          ]),
          flowNode('ci2', 'onenet-command-in', { device: device!.configId, kind: 'service-invoke' }, [
            ['cmd2'],
          ]),
          flowNode('cr', 'onenet-command-reply', { device: device!.configId }),
          flowNode('cr-any', 'onenet-command-reply', { device: '' }),
          flowNode('ok', 'helper'),
          flowNode('cmd', 'helper'),
          flowNode('cmd2', 'helper'),
          ...catchAll(),
        ],
        credentialsOf([device!, postOnly!]),
      );
      await waitOnline(emulator, [device!, postOnly!]);
      emulator.on('reply', (event) => replies.push(event));
      ok = collect('ok');
      caught = collect('catch-out');
      commands = collect('cmd');
    });
    after(async () => {
      await captureAndUnload();
      await emulator.close();
    });

    /** The outcomes (outputs and Catch messages) of the input tagged `tag`. */
    function outcomesOf(tag: number): { outputs: Msg[]; errors: Msg[] } {
      return {
        outputs: ok.filter((msg) => msg.tag === tag),
        errors: caught.filter((msg) => msg.tag === tag),
      };
    }

    let nextTag = 0;
    /** Sends `msg` to node `id` and waits for its one outcome. */
    async function send(id: string, msg: Msg): Promise<{ tag: number; output?: Msg; error?: Msg }> {
      const tag = nextTag++;
      node(id).receive({ ...msg, tag });
      await waitFor(
        () => {
          const { outputs, errors } = outcomesOf(tag);
          return outputs.length + errors.length > 0;
        },
        `an outcome of input ${tag} to ${id}`,
        5000,
        1,
      );
      const { outputs, errors } = outcomesOf(tag);
      return { tag, output: outputs[0], error: errors[0] };
    }

    it('each bad msg into each node gives one clear error; Node-RED keeps running; good messages flow', async () => {
      const received = new Map<string, UplinkRecord>();
      emulator.on('uplink', (record) => {
        if (record.deviceName === device!.ref.deviceName) received.set(String(record.id), record);
      });
      const values: NamedValue[] = [
        ...nastyPayloads(),
        ...randomPayloads(RANDOM_PAYLOADS, SEED).map((value, i) => ({ name: `random payload #${i}`, value })),
      ];
      const scalars = randomScalars(RANDOM_SCALARS, SEED);
      const tags: number[] = [];
      let rejected = 0;
      let accepted = 0;
      let good = 0;
      let longestError = 0;

      /** A bad (or possibly fine) input; then a good one, which must get through. */
      async function probe(id: string, msg: Msg, what: string, goodMsg: Msg): Promise<void> {
        const outcome = await send(id, msg);
        tags.push(outcome.tag);
        if (outcome.error) {
          rejected++;
          const message = (outcome.error.error as { message?: unknown }).message;
          assertClear(message, `${what} into ${id}`);
          longestError = Math.max(longestError, (message as string).length);
          const onenet = outcome.error.onenet as { id?: string } | undefined;
          if (onenet?.id !== undefined) assert.ok(!received.has(onenet.id), `${what}: nothing was sent`);
        } else {
          accepted++;
          const onenet = outcome.output!.onenet as { id: string; message: string };
          assert.equal(onenet.message, 'not awaited', `${what} into ${id} was posted`);
          assert.ok(received.has(onenet.id), `${what}: the platform has it`);
        }
        const after = await send(id, goodMsg);
        tags.push(after.tag);
        assert.ok(
          after.output,
          `the good message after ${what} into ${id} got through: ${JSON.stringify(after.error?.error)}`,
        );
        good++;
      }

      const probes: Array<() => Promise<void>> = [];
      for (const { name, value } of values) {
        probes.push(() => probe('pp', { payload: value }, name, { payload: { temp: 21 } }));
        probes.push(() => probe('ep', { payload: value }, name, { payload: { level: 1 } }));
      }
      for (const [i, value] of scalars.entries()) {
        probes.push(() =>
          probe('pp', { payload: { temp: 1 }, time: value }, `msg.time #${i}`, { payload: { temp: 2 } }),
        );
        probes.push(() =>
          probe('ep-msg', { payload: {}, event: value }, `msg.event #${i}`, { payload: {}, event: 'alarm' }),
        );
        probes.push(() =>
          probe('pp', { payload: { temp: 1 }, action: value }, `msg.action #${i}`, { payload: { temp: 3 } }),
        );
      }
      // A few at a time, as a busy flow delivers them: each pair is still bad-then-good on its node.
      for (let i = 0; i < probes.length; i += PROBES_AT_ONCE) {
        await Promise.all(probes.slice(i, i + PROBES_AT_ONCE).map((run) => run()));
      }

      // onenet-command-reply: each bad reply to a live service request, then the good one for it.
      const replyValues: NamedValue[] = [
        ...values.slice(0, 60),
        ...scalars.map((value, i) => ({ name: `random msg.code #${i}`, value: { code: value } })),
      ];
      let repliesRejected = 0;
      for (const { name, value } of replyValues) {
        const request = emulator.invokeService(device!.ref, 'reboot', { delay: 1 });
        await waitFor(() => commands.length > 0, 'the service request', 5000, 1);
        const command = commands.shift()!;
        const isCode = name.startsWith('random msg.code');
        const bad: Msg = isCode
          ? { ...command, payload: {}, code: (value as { code: unknown }).code }
          : { ...command, payload: value };
        const before = caught.length;
        node('cr').receive(bad);
        await waitFor(
          () => caught.length > before || repliedTo(command),
          `an outcome of ${name} into cr`,
          5000,
          1,
        );
        if (caught.length > before) {
          repliesRejected++;
          assert.equal(caught.length, before + 1, `one error for ${name} into cr`);
          assertClear((caught.at(-1)!.error as { message?: unknown }).message, `${name} into cr`);
          node('cr').receive({ ...command, payload: { ok: true } });
          const reply: ThingReply = await request;
          assert.equal(reply.code, 200, `the good reply after ${name} was sent`);
          assert.deepEqual(reply.data, { ok: true });
        } else {
          const reply = await request;
          assert.ok(typeof reply.code === 'number', `${name} into cr was sent as a reply`);
        }
      }
      // Replies the flow itself gets wrong: no msg.onenet, or one that names nothing real.
      const junkOnenet = [
        undefined,
        'x',
        5,
        {},
        { kind: 'property-set' },
        { kind: 'service-invoke', id: 'abc', device: device!.configId },
        { kind: 'service-invoke', id: '5', device: device!.configId },
        { kind: 'property-get', id: '5', device: 'nope' },
      ];
      for (const onenet of junkOnenet) {
        const before = caught.length;
        node('cr-any').receive({ payload: {}, onenet });
        await waitFor(() => caught.length > before, `an error for msg.onenet ${JSON.stringify(onenet)}`);
        assertClear(
          (caught.at(-1)!.error as { message?: unknown }).message,
          `msg.onenet ${JSON.stringify(onenet)}`,
        );
        repliesRejected++;
      }

      await delay(300);
      for (const tag of tags) {
        const { outputs, errors } = outcomesOf(tag);
        assert.equal(outputs.length + errors.length, 1, `input ${tag} had exactly one outcome`);
      }
      report('bad msg input', {
        seed: SEED,
        'inputs to post nodes': tags.length / 2,
        'rejected with one error each': rejected,
        'valid after all, posted': accepted,
        'good messages between them, delivered': good,
        'bad replies into command-reply': replyValues.length + junkOnenet.length,
        'of them rejected with one error each': repliesRejected,
        'longest error message (chars)': longestError,
      });

      function repliedTo(command: Msg): boolean {
        const id = (command.onenet as { id: string }).id;
        return replies.some((reply) => reply.id === id);
      }
    });

    it('each bad platform message on each downlink topic gives one clear warning; good ones still flow', async () => {
      const bad = badDownlinks(RANDOM_DOWNLINKS, SEED);
      const withCommandIn = ['pp', 'pp-await', 'ep', 'ep-msg', 'ci', 'ci2', 'cr'];
      assert.ok((await send('pp-await', { payload: { temp: 0 } })).output, 'an awaited post');
      assert.ok((await send('pp2', { payload: { temp: 0 } })).output, 'an awaited post on the other device');
      const warningsOf = (ids: string[]): string[] =>
        ids.flatMap((id) => callsOf(id, 'warn').map((args) => String(args[0])));
      const errorRepliesBefore = replies.filter((reply) => reply.code !== 200).length;
      const commandsBefore = commands.length;
      let goodRequests = 0;
      let goodPosts = 0;
      /** Publishes one bad message and waits for the one warning it must give among `nodes`. */
      async function publishBad(target: TestDevice, nodes: string[], item: BadDownlink): Promise<void> {
        const prefix = devicePrefix(target.ref.productId, target.ref.deviceName);
        const before = warningsOf(nodes).length;
        assert.equal(emulator.publishRaw(target.ref, prefix + item.suffix, item.payload), true);
        await waitFor(
          () => warningsOf(nodes).length > before,
          `a warning for ${item.what} on ${item.suffix}`,
          2000,
        );
        const warning = warningsOf(nodes).at(-1)!;
        assertClear(warning, `${item.what} on ${item.suffix}`);
        assert.ok(warning.includes(item.suffix), `the warning names the topic: ${warning}`);
      }
      for (const [i, item] of bad.entries()) {
        await publishBad(device!, withCommandIn, item);
        if (i % 10 === 0) {
          const reply = await emulator.setProperty(device!.ref, { power: i % 20 === 0 });
          assert.equal(reply.code, 200, 'a good platform request still gets its reply');
          goodRequests++;
          const posted = await send('pp', { payload: { temp: i } });
          assert.ok(posted.output, 'a good post still gets through');
          goodPosts++;
        }
      }
      const onReplyTopics = bad.filter((item) => item.suffix.endsWith('/reply'));
      for (const item of onReplyTopics) await publishBad(postOnly!, ['pp2'], item);
      const posted = await send('pp2', { payload: { temp: 1 } });
      assert.ok(posted.output, 'the device without command-in still posts');
      await delay(300);

      const warned = warningsOf(withCommandIn).length;
      assert.equal(warned, bad.length, 'exactly one warning per bad platform message');
      assert.equal(warningsOf(['ci']).length, bad.length, 'shown by the command-in node');
      assert.equal(
        warningsOf(['pp2']).length,
        onReplyTopics.length,
        'one each on a device without command-in',
      );
      assert.equal(commands.length - commandsBefore, goodRequests, 'no bad request reached the flow');
      const errorReplies = replies.filter((reply) => reply.code !== 200).length - errorRepliesBefore;
      report('bad platform messages', {
        seed: SEED,
        'bad messages published': bad.length + onReplyTopics.length,
        topics: 5,
        'warnings (one each)': warned + warningsOf(['pp2']).length,
        'answered with an error code (id readable)': errorReplies,
        'good platform requests between them, answered 200': goodRequests,
        'good posts between them, delivered': goodPosts + 1,
      });
    });
  });
}
