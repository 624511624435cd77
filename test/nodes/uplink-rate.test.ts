import assert from 'node:assert/strict';
import {
  DEVICE,
  catchAll,
  collect,
  deviceConfig,
  flowNode,
  load,
  node,
  useEmulator,
  waitConnected,
  waitFor,
} from './support';

/**
 * The device's uplink rate through real nodes (DESIGN.md §4 `uplinkRate`): a burst of posts from a
 * flow is paced and merged, every msg still comes out once with msg.onenet naming the message that
 * carried it, and the emulator has every value.
 */
describe('onenet-device uplinkRate through the property post node', function () {
  this.timeout(20_000);
  const suite = useEmulator();

  async function loadPost(uplinkRate: string, queueLimit = ''): Promise<void> {
    await load([
      deviceConfig(suite.emulator, { uplinkRate, queueLimit }),
      flowNode('post', 'onenet-property-post', { device: 'cfg', waitReply: true, timeout: '8000' }, [
        ['out'],
      ]),
      flowNode('out', 'helper'),
      ...catchAll(),
    ]);
    await waitConnected(suite.emulator);
  }

  it('paces 20 posts sent at once into a few merged messages (default rate), each msg out once with merged', async () => {
    await loadPost('');
    const out = collect('out');
    const caught = collect('catch-out');
    const before = suite.emulator.uplinks(DEVICE).length;
    for (let i = 0; i < 20; i++) node('post').receive({ payload: { level: i }, seq: i });
    await waitFor(() => out.length + caught.length >= 20, '20 messages settled', 15_000);
    assert.deepEqual(caught, []);
    // Each once; the msg whose value went live (property/post) may come out before older ones (history/post).
    assert.deepEqual(
      out.map((msg) => msg.seq as number).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i),
    );
    const uplinks = suite.emulator.uplinks(DEVICE).slice(before);
    assert.ok(uplinks.length <= 4, `${uplinks.length} uplinks for 20 posts`);
    const ids = new Set(uplinks.map((u) => u.id));
    for (const msg of out) {
      const onenet = msg.onenet as { id: string; code: number; merged: number };
      assert.equal(onenet.code, 200);
      assert.ok(ids.has(onenet.id), 'msg.onenet.id names a message OneNET received');
    }
    assert.ok(out.some((msg) => (msg.onenet as { merged: number }).merged > 1));
    const levels = suite.emulator.propertyHistory(DEVICE, 'level').map((record) => record.value);
    assert.deepEqual(
      [...levels].sort((a, b) => Number(a) - Number(b)),
      Array.from({ length: 20 }, (_, i) => i),
      'every value stored once',
    );
  });

  it('sends each post alone with uplinkRate 0, as the first release did', async () => {
    await loadPost('0');
    const out = collect('out');
    const before = suite.emulator.uplinks(DEVICE).length;
    for (let i = 0; i < 20; i++) node('post').receive({ payload: { level: i } });
    await waitFor(() => out.length >= 20, '20 messages out', 10_000);
    assert.equal(suite.emulator.uplinks(DEVICE).length - before, 20);
    for (const msg of out) assert.equal((msg.onenet as { merged: number }).merged, 1);
  });

  it('refuses posts beyond the queue limit set on the device as busy, naming it, and delivers the others', async () => {
    await loadPost('1', '2');
    const out = collect('out');
    const caught = collect('catch-out');
    const storedBefore = suite.emulator.propertyHistory(DEVICE, 'level').length;
    // At most the burst of 3 goes at once and 2 may wait: of 10 posts made together most are refused.
    for (let i = 0; i < 10; i++) node('post').receive({ payload: { level: i }, seq: i });
    await waitFor(() => out.length + caught.length >= 10, '10 messages settled', 15_000);
    const busy = caught.filter((msg) => (msg.onenet as { reason?: string } | undefined)?.reason === 'busy');
    assert.ok(busy.length >= 3, `${busy.length} refused as busy`);
    assert.equal(busy.length, caught.length, 'busy is the only failure');
    for (const msg of busy)
      assert.match(
        String((msg.error as { message: string }).message),
        /2 requests already wait to be sent \(the queue limit\)/,
      );
    const levels = suite.emulator
      .propertyHistory(DEVICE, 'level')
      .slice(storedBefore)
      .map((record) => record.value);
    assert.deepEqual(
      [...levels].sort((a, b) => Number(a) - Number(b)),
      out.map((msg) => msg.seq as number).sort((a, b) => a - b),
      'every post that came out is stored, none of the refused',
    );
  });
});
