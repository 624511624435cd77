import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DEVICE,
  catchAll,
  collect,
  deviceConfig,
  errorText,
  flowNode,
  lastStatus,
  load,
  node,
  statusHistory,
  useEmulator,
  waitConnected,
  waitFor,
  STATUS,
  type FlowNode,
} from './support';
import { STORE_TEXT, useUserDir } from './store-support';
import { UPLINK_BURST } from '../../src/connection/uplink-scheduler';

/** The default queue limit (the device field Queue limit left empty). */
const QUEUE_LIMIT = 1000;

/**
 * offlinePolicy 'store' while connected (issue 16): a post that would wait longer than its timeout
 * behind others (the uplink rate holds it back), or that finds the queue limit reached, is written to
 * the store instead of failing 'busy', and delivered by history post with its own time. A post that
 * was published but not answered in time is not stored again (it may have arrived): it fails as before.
 */
describe('offlinePolicy store: posts the uplink rate holds back', function () {
  this.timeout(60_000);
  const suite = useEmulator((emulator) => emulator.setReplyDelay(0));
  let userDir: string;
  /** One property per test: the emulator (shared by the suite) keeps what it got. */
  let property: string;
  let tests = 0;

  beforeEach(async () => {
    property = `busy${++tests}`;
    userDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'onenet-store-busy-'));
    useUserDir(userDir);
  });
  afterEach(async () => {
    await fsp.rm(userDir, { recursive: true, force: true });
  });

  function flow(uplinkRate: string, timeout = '1000'): FlowNode[] {
    return [
      deviceConfig(suite.emulator, { offlinePolicy: 'store', uplinkRate }),
      flowNode('post', 'onenet-property-post', { device: 'cfg', waitReply: true, timeout }, [['out']]),
      flowNode('out', 'helper'),
      ...catchAll(),
    ];
  }

  const history = (): Array<[unknown, number, string]> =>
    suite.emulator.propertyHistory(DEVICE, property).map((record) => [record.value, record.time, record.via]);

  it('stores a post that would wait past its timeout instead of failing busy, and delivers it with its time', async () => {
    // One uplink every 2 s after the burst: the posts after it wait about 2 s, their timeout is 1 s.
    await load(flow('0.5'));
    await waitConnected(suite.emulator);
    const out = collect('out');
    const caught = collect('catch-out');
    const base = Date.now() - 10_000;
    const count = UPLINK_BURST + 4;
    for (let i = 0; i < UPLINK_BURST; i++)
      node('post').receive({ payload: { [property]: i }, time: base + i });
    await waitFor(() => out.length + caught.length === UPLINK_BURST, 'the burst answered', 10_000);
    for (let i = UPLINK_BURST; i < count; i++)
      node('post').receive({ payload: { [property]: i }, time: base + i });
    await waitFor(() => out.length + caught.length === count, 'the held-back posts settled', 10_000);

    assert.deepEqual(
      caught.map((msg) => errorText(msg)),
      [],
      'no post failed busy',
    );
    assert.deepEqual(
      out.map(
        (msg) => (msg.onenet as Record<string, unknown>).stored ?? (msg.onenet as { code: number }).code,
      ),
      Array.from({ length: count }, (_, i) => (i < UPLINK_BURST ? 200 : true)),
      'the burst was sent, the posts held back past their timeout were stored',
    );
    await waitFor(() => history().length === count, 'all of them at the emulator', 20_000);
    assert.deepEqual(
      history(),
      Array.from({ length: count }, (_, i) => [
        i,
        base + i,
        i < UPLINK_BURST ? 'property-post' : 'history-post',
      ]),
    );
    await waitFor(() => lastStatus('post')?.text === STATUS.connected, 'the store emptied', 10_000);
    assert.ok(
      statusHistory('post').every((status) => status.text !== STORE_TEXT.busy),
      'the node never said busy',
    );
  });

  it('stores only the part of a merged post not yet sent, so no value arrives twice', async () => {
    // After the burst one uplink every 2 s; a timeout of 3 s lets one merged message go out before it.
    await load(flow('0.5', '3000'));
    await waitConnected(suite.emulator);
    const out = collect('out');
    const caught = collect('catch-out');
    for (let i = 0; i < UPLINK_BURST; i++) node('post').receive({ payload: { [`${property}_warm`]: i } });
    await waitFor(() => out.length === UPLINK_BURST, 'the burst answered', 10_000);
    const base = Date.now() - 10_000;
    const a = `${property}_a`;
    const b = `${property}_b`;
    // The second post overwrites a: the scheduler merges the two, sending part of the first.
    node('post').receive({ payload: { [a]: 1, [b]: 1 }, time: base });
    node('post').receive({ payload: { [a]: 2 }, time: base + 1 });
    await waitFor(() => out.length + caught.length === UPLINK_BURST + 2, 'both posts settled', 10_000);
    assert.deepEqual(caught.map(errorText), []);
    const arrived = (): Array<[string, unknown, number]> =>
      [a, b].flatMap((id) =>
        suite.emulator
          .propertyHistory(DEVICE, id)
          .map((record): [string, unknown, number] => [id, record.value, record.time]),
      );
    await waitFor(() => arrived().length >= 3, 'the three values at the emulator', 20_000);
    await waitFor(() => lastStatus('post')?.text === STATUS.connected, 'the store emptied', 10_000);
    const byTime = (x: [string, unknown, number], y: [string, unknown, number]): number =>
      x[2] - y[2] || x[0].localeCompare(y[0]);
    assert.deepEqual(
      arrived().sort(byTime),
      [
        [a, 1, base],
        [b, 1, base],
        [a, 2, base + 1],
      ],
      'each value once, with its time',
    );
  });

  it('does not store a post that was published but not answered in time: it fails as a timeout', async () => {
    suite.emulator.setReplyDelay(2500);
    await load(flow('', '1000'));
    await waitConnected(suite.emulator);
    // The emulator sees the login before the client reads its SUBACK: a post before then is stored.
    await waitFor(() => lastStatus('post')?.text === STATUS.connected, 'the node connected', 10_000);
    const out = collect('out');
    const caught = collect('catch-out');
    node('post').receive({ payload: { [property]: 1 } });
    await waitFor(() => out.length + caught.length === 1, 'the post settled', 10_000);
    assert.equal(out.length, 0, 'not reported stored');
    const onenet = caught[0]!.onenet as Record<string, unknown>;
    assert.equal(onenet.reason, 'timeout');
    assert.match(errorText(caught[0]!), /may have (reached OneNET|been stored)/);
    assert.ok(
      statusHistory('post').every(
        (status) => status.text !== STORE_TEXT.stored && status.text !== STORE_TEXT.backfilling,
      ),
      'nothing went to the store',
    );
    // Its reply comes late; the platform has the value once, as the live post it was.
    await waitFor(() => history().length === 1, 'the post at the emulator', 10_000);
    assert.deepEqual(
      history().map((record) => [record[0], record[2]]),
      [[1, 'property-post']],
    );
  });

  it('stores posts beyond the queue limit while connected, and delivers every one with its time', async () => {
    // A burst of 3, then one uplink every 2 s: 1000 posts wait (the queue limit), the rest find it full.
    await load(flow('0.5', '30000'));
    await waitConnected(suite.emulator);
    const out = collect('out');
    const caught = collect('catch-out');
    const base = Date.now() - 60_000;
    const count = QUEUE_LIMIT + 10;
    const identifier = (i: number): string => `${property}_${i % 10}`;
    for (let i = 0; i < count; i++) node('post').receive({ payload: { [identifier(i)]: i }, time: base + i });
    await waitFor(() => out.length + caught.length === count, 'every post settled', 40_000);
    assert.deepEqual(caught.map(errorText).slice(0, 3), [], 'no post failed');
    const storedCount = out.filter((msg) => (msg.onenet as Record<string, unknown>).stored === true).length;
    assert.ok(
      storedCount >= count - QUEUE_LIMIT - UPLINK_BURST,
      `the posts beyond the queue limit were stored (${storedCount})`,
    );

    const expected = Array.from({ length: count }, (_, i) => [identifier(i), i, base + i]);
    const arrived = (): Array<[string, unknown, number]> =>
      Array.from({ length: 10 }, (_, k) => identifier(k)).flatMap((id) =>
        suite.emulator
          .propertyHistory(DEVICE, id)
          .map((record): [string, unknown, number] => [id, record.value, record.time]),
      );
    await waitFor(() => arrived().length >= count, `all ${count} values at the emulator`, 40_000);
    const byTime = (a: unknown[], b: unknown[]): number => Number(a[2]) - Number(b[2]);
    assert.deepEqual(arrived().sort(byTime), expected, 'each value once, with its own time');
  });
});
