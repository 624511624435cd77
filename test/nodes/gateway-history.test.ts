import assert from 'node:assert/strict';
import { OneNetEmulator, type DeviceRef, type UplinkRecord } from '../../src/emulator';
import {
  collect,
  flowNode,
  load,
  nextMessage,
  node,
  unloadAndCheckPool,
  waitFor,
  type FlowNode,
} from './support';
import { GATEWAY, SUB_PRODUCT, newKey, ref, gatewayConfigNode, subDeviceConfigNode } from './gateway-support';

/**
 * A sub-device posting faster than its gateway's uplinkRate, through real Node-RED nodes against the
 * emulator (issue 15): its newest values go in pack/post and the earlier ones in the gateway's
 * history/post with the sub-device's identity (onenet-next.md §Q2 step 6, §Q3). The emulator
 * disconnects the gateway on the first publish beyond 1/s (burst 3), so "no violation" is the
 * proof the rate held; every value is stored with its own time; every msg settles once, with the
 * id, topic and `merged` of the message that carried its value (DESIGN.md §4 flow nodes).
 */

const SUBS = [0, 1].map((i) => ({ productId: SUB_PRODUCT, deviceName: `field-${i}`, key: newKey() }));
const T = 1_700_000_000_000;

interface Outcome {
  id: string;
  topic: string;
  code: number;
  merged: number;
}

/** The values of `identifier` an uplink carried for `device`, each with its time (pack/post or history/post). */
function carried(
  uplink: UplinkRecord,
  device: DeviceRef,
  section: 'properties' | 'events',
  identifier: string,
) {
  const params = (uplink.payload as { params: Array<Record<string, unknown>> }).params;
  const entry = params.find((candidate) => {
    const identity = candidate.identity as { productID: string; deviceName: string } | undefined;
    return identity?.productID === device.productId && identity.deviceName === device.deviceName;
  });
  const point = (entry?.[section] as Record<string, unknown> | undefined)?.[identifier];
  if (point === undefined) return [];
  return (Array.isArray(point) ? point : [point]) as Array<{ value: unknown; time: number }>;
}

describe('gateway sub-devices: earlier values by history/post (Node-RED nodes)', function () {
  this.timeout(30000);
  let emulator: OneNetEmulator;

  beforeEach(async () => {
    emulator = await OneNetEmulator.start({
      devices: [{ ...GATEWAY, nodeType: 'gateway' }, ...SUBS],
      uplinkRateLimit: { perSecond: 1, burst: 3, mode: 'disconnect' },
    });
  });

  afterEach(async () => {
    await unloadAndCheckPool();
    await emulator.close();
  });

  function flow(extra: FlowNode[]): FlowNode[] {
    return [
      gatewayConfigNode(emulator, GATEWAY, { uplinkRate: '1' }),
      ...SUBS.map((sub, i) => subDeviceConfigNode(`sub${i}`, sub, { name: `field device ${i}` })),
      ...extra,
    ];
  }

  const creds = {
    gw: { key: GATEWAY.key },
    ...Object.fromEntries(SUBS.map((sub, i) => [`sub${i}`, { key: sub.key }])),
  };

  function postNode(id: string, device: string, type = 'onenet-property-post', props = {}): FlowNode[] {
    return [
      flowNode(id, type, { device, waitReply: true, timeout: '15000', ...props }, [[`${id}-out`]]),
      flowNode(`${id}-out`, 'helper'),
    ];
  }

  /** Waits for the sub-devices some flow node uses (an unused config node opens nothing). */
  async function loggedIn(count: number): Promise<void> {
    await waitFor(
      () => emulator.loggedInSubDevices(ref(GATEWAY)).length === count,
      'the sub-devices to be logged in',
      10000,
    );
  }

  /** Posts once more and waits for it: a msg that settled twice would have shown by then. */
  async function settledOnce(id: string, outputs: unknown[], expected: number): Promise<void> {
    const last = nextMessage(`${id}-out`, 15000);
    node(id).receive({ payload: { level: -1 } });
    await last;
    assert.equal(outputs.length, expected + 1, 'each msg settled once');
  }

  it('stores every value of a property posted faster than the rate with its own time; each msg reports its carrier', async () => {
    await load(flow(postNode('p0', 'sub0')), creds);
    await loggedIn(1);
    const outputs = collect('p0-out');
    const count = 8;
    for (let i = 0; i < count; i++) node('p0').receive({ payload: { level: i }, time: T + i * 1000 });
    await waitFor(() => outputs.length === count, 'every post to settle', 20000);
    const sub = ref(SUBS[0]!);
    assert.equal(emulator.latestProperties(sub).level?.value, count - 1, 'the newest value is the latest');
    await settledOnce('p0', outputs, count);

    assert.deepEqual(emulator.rateViolations(ref(GATEWAY)), [], 'never beyond 1/s');
    const stored = emulator
      .propertyHistory(sub, 'level')
      .filter((record) => record.value !== -1)
      .sort((a, b) => a.time - b.time);
    assert.deepEqual(
      stored.map((record) => [record.value, record.time]),
      Array.from({ length: count }, (_, i) => [i, T + i * 1000]),
      'every value stored once with its time',
    );
    assert.ok(
      stored.some((record) => record.via === 'history-post'),
      'earlier values went by history/post',
    );

    const uplinks = emulator.uplinks(ref(GATEWAY));
    const batches = uplinks.filter((uplink) => /\/thing\/(pack|history)\/post$/.test(uplink.topic));
    assert.ok(batches.length < count, `${batches.length} batch messages for ${count} posts: merged`);
    // In the order the msgs were sent (they settle in the order their carriers were answered).
    const outcomes = Array.from({ length: count }, (_, i) => {
      const settled = outputs.filter((msg) => (msg.payload as { level: number }).level === i);
      assert.equal(settled.length, 1, `msg ${i} settled once`);
      return settled[0]!.onenet as Outcome;
    });
    for (const [i, outcome] of outcomes.entries()) {
      assert.equal(outcome.code, 200);
      // The reported id and topic are those of the message that carried this msg's value.
      const carrier = uplinks.find((uplink) => uplink.id === outcome.id);
      assert.ok(carrier, `msg ${i}: its id ${outcome.id} names an uplink`);
      assert.equal(carrier.topic, outcome.topic);
      assert.ok(
        carried(carrier, sub, 'properties', 'level').some(
          ({ value, time }) => value === i && time === T + i * 1000,
        ),
        `msg ${i}: its carrier holds its value with its time`,
      );
      // `merged` counts the flow messages that uplink carried: here all report it.
      assert.equal(outcome.merged, outcomes.filter((other) => other.id === outcome.id).length);
    }
    const historyCarried = outcomes.filter((outcome) => outcome.topic.endsWith('/thing/history/post'));
    assert.ok(historyCarried.length > 0, 'some msgs were carried by history/post');
    assert.ok(
      historyCarried.every((outcome) => outcome.merged > 1),
      'a history/post carried several msgs',
    );
  });

  it('keeps two sub-devices and their events apart in one history/post, each entry with its identity', async () => {
    await load(
      flow([
        ...postNode('p0', 'sub0'),
        ...postNode('p1', 'sub1'),
        ...postNode('ev', 'sub1', 'onenet-event-post', { event: 'overheat' }),
      ]),
      creds,
    );
    await loggedIn(2);
    const outputs = [collect('p0-out'), collect('p1-out'), collect('ev-out')];
    const rounds = 4;
    for (let round = 0; round < rounds; round++) {
      const time = T + round * 1000;
      node('p0').receive({ payload: { level: round }, time });
      node('p1').receive({ payload: { level: 10 + round }, time });
      node('ev').receive({ payload: { celsius: 90 + round }, time });
    }
    await waitFor(() => outputs.every((seen) => seen.length === rounds), 'every post to settle', 20000);
    for (const seen of outputs) for (const msg of seen) assert.equal((msg.onenet as Outcome).code, 200);

    assert.deepEqual(emulator.rateViolations(ref(GATEWAY)), [], 'never beyond 1/s');
    const times = Array.from({ length: rounds }, (_, round) => T + round * 1000);
    for (const [i, base] of [0, 10].entries()) {
      assert.deepEqual(
        emulator
          .propertyHistory(ref(SUBS[i]!), 'level')
          .sort((a, b) => a.time - b.time)
          .map((record) => [record.value, record.time]),
        times.map((time, round) => [base + round, time]),
        `every value of field-${i} stored once with its time`,
      );
    }
    assert.deepEqual(
      emulator
        .eventLog(ref(SUBS[1]!))
        .sort((a, b) => a.time - b.time)
        .map((event) => [event.identifier, event.value, event.time]),
      times.map((time, round) => ['overheat', { celsius: 90 + round }, time]),
      'every event stored once with its time',
    );
    const histories = emulator
      .uplinks(ref(GATEWAY))
      .filter((uplink) => uplink.topic.endsWith('/thing/history/post'));
    assert.ok(histories.length > 0, 'earlier values went by history/post');
    for (const history of histories) {
      const params = (history.payload as { params: Array<{ identity?: unknown }> }).params;
      assert.ok(
        params.every((entry) => entry.identity !== undefined),
        'every history entry names its sub-device',
      );
    }
  });
});
