import assert from 'node:assert/strict';
import { OneNetEmulator, type DeviceRef } from '../../src/emulator';
import {
  catchAll,
  collect,
  errorText,
  flowNode,
  load,
  nextCall,
  nextMessage,
  redeploy,
  node,
  unloadAndCheckPool,
  waitFor,
  lastStatus,
  waitStatus,
  type Credentials,
  type FlowNode,
} from './support';
import {
  GATEWAY,
  GW_PRODUCT,
  SUB_PRODUCT,
  newKey,
  ref,
  gatewayConfigNode,
  productConfigNode,
  subDeviceConfigNode,
} from './gateway-support';

/**
 * Gateway sub-devices through real Node-RED nodes against the emulator (issue 15, DESIGN.md §4
 * `gateway`): a sub-device config names a gateway device, and the usual flow nodes work with it.
 */

const SUBS = [0, 1, 2].map((i) => ({ productId: SUB_PRODUCT, deviceName: `field-${i}`, key: newKey() }));
const PRODUCT_KEY = newKey();
const lastStatusText = (id: string): string | undefined => lastStatus(id)?.text;
const names = (refs: DeviceRef[]): string[] => refs.map((device) => device.deviceName).sort();

/** Posts `payload` through post node `id` and resolves with the code its output reported. */
async function postCode(id: string, payload: Record<string, unknown>): Promise<number> {
  const replied = nextMessage(`${id}-out`, 5000);
  node(id).receive({ payload });
  return ((await replied).onenet as { code: number }).code;
}

const S = '@iot-flows/node-red-onenet/onenet-device:onenet-device.status.';
const SUB_LOGGED_IN = `${S}sub-logged-in`;
export const SUB_NOT_BOUND = `${S}sub-not-bound`;

describe('gateway sub-devices (Node-RED nodes)', function () {
  this.timeout(30000);
  let emulator: OneNetEmulator;

  beforeEach(async () => {
    emulator = await OneNetEmulator.start({
      devices: [{ ...GATEWAY, nodeType: 'gateway' }, ...SUBS],
      products: [{ productId: SUB_PRODUCT, accessKey: PRODUCT_KEY }],
      ...(process.env.GW_LOG ? { log: (line: string) => console.log(line) } : {}),
    });
  });

  afterEach(async () => {
    await unloadAndCheckPool();
    await emulator.close();
  });

  function gatewayConfig(): FlowNode {
    return gatewayConfigNode(emulator, GATEWAY);
  }

  function subConfig(id: string, index: number, overrides: Partial<FlowNode> = {}): FlowNode {
    return subDeviceConfigNode(id, SUBS[index]!, { name: `field device ${index}`, ...overrides });
  }

  function creds(extra: Credentials = {}): Credentials {
    return {
      gw: { key: GATEWAY.key },
      sub0: { key: SUBS[0]!.key },
      sub1: { key: SUBS[1]!.key },
      sub2: { key: SUBS[2]!.key },
      ...extra,
    };
  }

  function post(id: string, device: string): FlowNode[] {
    return [
      flowNode(id, 'onenet-property-post', { device, waitReply: true, timeout: '5000' }, [[`${id}-out`]]),
      flowNode(`${id}-out`, 'helper'),
    ];
  }

  async function allLoggedIn(count: number): Promise<void> {
    await waitFor(
      () => emulator.loggedInSubDevices(ref(GATEWAY)).length === count,
      `${count} sub-devices to be logged in`,
      10000,
    );
  }

  it('binds and logs in its sub-devices after the gateway logs in, and posts for them in pack/post', async () => {
    await load(
      [
        gatewayConfig(),
        subConfig('sub0', 0),
        subConfig('sub1', 1),
        ...post('p0', 'sub0'),
        ...post('p1', 'sub1'),
      ],
      creds(),
    );
    await allLoggedIn(2);
    assert.deepEqual(names(emulator.subDevices(ref(GATEWAY))), ['field-0', 'field-1']);
    assert.equal(
      emulator.topologySyncResult(ref(GATEWAY))?.code,
      200,
      'the topo/get was answered with its result',
    );
    await waitStatus('p0', SUB_LOGGED_IN, 5000);

    const replied = nextMessage('p0-out', 5000);
    node('p0').receive({ payload: { temperature: 21.5 }, time: 1_700_000_000_000 });
    const msg = await replied;
    const onenet = msg.onenet as { code: number; topic: string };
    assert.equal(onenet.code, 200);
    assert.match(onenet.topic, /\/thing\/pack\/post$/);
    const stored = emulator.propertyHistory(ref(SUBS[0]!), 'temperature');
    assert.deepEqual(
      stored.map((record) => [record.value, record.time]),
      [[21.5, 1_700_000_000_000]],
      'stored for the sub-device with its time',
    );
    assert.equal(emulator.propertyHistory(ref(GATEWAY)).length, 0, 'nothing stored for the gateway itself');
  });

  it('binds and logs in again after the gateway reconnects', async () => {
    await load([gatewayConfig(), subConfig('sub0', 0), ...post('p0', 'sub0')], creds());
    await allLoggedIn(1);
    assert.ok(emulator.dropDevice(ref(GATEWAY)), 'the gateway was online');
    await waitFor(
      () => emulator.loggedInSubDevices(ref(GATEWAY)).length === 0,
      'the sub-device to go offline with its gateway',
      5000,
    );
    await allLoggedIn(1);
    assert.equal(await postCode('p0', { humidity: 40 }), 200);
  });

  it('a gateway with its own nodes and sub-devices at once; merges many sub-device posts into pack/post', async () => {
    const gateway = { ...gatewayConfig(), uplinkRate: '2' };
    await load(
      [
        gateway,
        subConfig('sub0', 0),
        subConfig('sub1', 1),
        subConfig('sub2', 2),
        ...post('own', 'gw'),
        ...post('p0', 'sub0'),
        ...post('p1', 'sub1'),
        ...post('p2', 'sub2'),
      ],
      creds(),
    );
    await allLoggedIn(3);
    const own = nextMessage('own-out', 8000);
    node('own').receive({ payload: { uptime: 1 } });
    assert.equal(
      ((await own).onenet as { code: number; topic: string }).topic.endsWith('/thing/property/post'),
      true,
    );

    const outputs = [collect('p0-out'), collect('p1-out'), collect('p2-out')];
    for (let round = 0; round < 4; round++)
      for (const [i, id] of ['p0', 'p1', 'p2'].entries())
        node(id).receive({ payload: { level: round * 10 + i }, time: 1_700_000_000_000 + round * 1000 });
    await waitFor(() => outputs.every((seen) => seen.length === 4), 'every post to settle', 20000);
    for (const seen of outputs)
      for (const msg of seen) assert.equal((msg.onenet as { code: number }).code, 200);
    for (const [i, sub] of SUBS.entries()) {
      // Earlier values may follow the newest one by history/post: compared by time, not arrival.
      assert.deepEqual(
        emulator
          .propertyHistory(ref(sub), 'level')
          .sort((a, b) => a.time - b.time)
          .map((record) => [record.value, record.time]),
        [0, 1, 2, 3].map((round) => [round * 10 + i, 1_700_000_000_000 + round * 1000]),
        `every value of ${sub.deviceName} stored once with its time`,
      );
      assert.equal(
        emulator.latestProperties(ref(sub)).level?.value,
        30 + i,
        'the newest value is the latest',
      );
    }
    const batches = emulator
      .uplinks(ref(GATEWAY))
      .filter((record) => /\/thing\/(pack|history)\/post$/.test(record.topic));
    assert.ok(
      batches.length < 12,
      `sub-device posts were merged (${batches.length} pack and history posts for 12 flow messages)`,
    );
    assert.equal(emulator.rateViolations(ref(GATEWAY)).length, 0, 'within the uplink rate');
  });

  it('delivers property set, property get and service invoke for a sub-device and answers on sub/…_reply', async () => {
    await load(
      [
        gatewayConfig(),
        subConfig('sub0', 0),
        subConfig('sub1', 1),
        flowNode('in0', 'onenet-command-in', { device: 'sub0', kind: 'all' }, [['in0-out']]),
        flowNode('in0-out', 'helper'),
        flowNode('reply', 'onenet-command-reply', { device: '' }),
        flowNode('in1', 'onenet-command-in', { device: 'sub1', kind: 'all' }, [['in1-out']]),
        flowNode('in1-out', 'helper'),
      ],
      creds(),
    );
    await allLoggedIn(2);
    const seenByOther = collect('in1-out');

    const setSeen = nextMessage('in0-out', 5000);
    const setReply = emulator.setSubProperty(ref(GATEWAY), ref(SUBS[0]!), { power: 'on' });
    const setMsg = await setSeen;
    assert.deepEqual(setMsg.payload, { power: 'on' });
    assert.equal((setMsg.onenet as { kind: string }).kind, 'property-set');
    node('reply').receive({ ...setMsg, payload: undefined });
    assert.equal((await setReply).code, 200);

    const getSeen = nextMessage('in0-out', 5000);
    const getReply = emulator.getSubProperty(ref(GATEWAY), ref(SUBS[0]!), ['power']);
    const getMsg = await getSeen;
    assert.deepEqual(getMsg.payload, ['power']);
    node('reply').receive({ ...getMsg, payload: { power: 'on' } });
    const getAnswer = await getReply;
    assert.equal(getAnswer.code, 200);
    assert.deepEqual(getAnswer.data, { power: 'on' });

    const invokeSeen = nextMessage('in0-out', 5000);
    const invokeReply = emulator.invokeSubService(ref(GATEWAY), ref(SUBS[0]!), 'calibrate', { offset: 2 });
    const invokeMsg = await invokeSeen;
    assert.equal(invokeMsg.topic, 'calibrate');
    assert.deepEqual(invokeMsg.payload, { offset: 2 });
    node('reply').receive({ ...invokeMsg, payload: { done: true } });
    const invokeAnswer = await invokeReply;
    assert.equal(invokeAnswer.code, 200);
    assert.deepEqual(invokeAnswer.data, {
      deviceName: SUBS[0]!.deviceName,
      productID: SUB_PRODUCT,
      identifier: 'calibrate',
      output: { done: true },
    });
    assert.equal(seenByOther.length, 0, 'the other sub-device saw none of these');
  });

  it('posts a sub-device event in pack/post', async () => {
    await load(
      [
        gatewayConfig(),
        subConfig('sub0', 0),
        flowNode(
          'ev',
          'onenet-event-post',
          { device: 'sub0', event: 'overheat', waitReply: true, timeout: '5000' },
          [['ev-out']],
        ),
        flowNode('ev-out', 'helper'),
      ],
      creds(),
    );
    await allLoggedIn(1);
    const replied = nextMessage('ev-out', 5000);
    node('ev').receive({ payload: { celsius: 91 }, time: 1_700_000_000_000 });
    const onenet = (await replied).onenet as { code: number; topic: string };
    assert.equal(onenet.code, 200);
    assert.match(onenet.topic, /\/thing\/pack\/post$/);
    const events = emulator.eventLog(ref(SUBS[0]!));
    assert.deepEqual(
      events.map((event) => [event.identifier, event.value, event.time]),
      [['overheat', { celsius: 91 }, 1_700_000_000_000]],
    );
  });

  it('acts on a topology change: a sub-device that left the list shows "not bound" and its posts fail clearly', async () => {
    await load(
      [
        gatewayConfig(),
        subConfig('sub0', 0),
        subConfig('sub1', 1),
        ...post('p0', 'sub0'),
        ...post('p1', 'sub1'),
        ...catchAll(),
      ],
      creds(),
    );
    await allLoggedIn(2);
    const answer = await emulator.changeTopology(ref(GATEWAY), [ref(SUBS[1]!)]);
    assert.equal(answer.code, 200, 'the change was answered');
    await waitStatus('p0', SUB_NOT_BOUND, 5000);
    const caught = nextMessage('catch-out', 5000);
    node('p0').receive({ payload: { temperature: 1 } });
    const text = errorText(await caught);
    assert.match(text, /field-0 is not bound/);
    assert.equal(await postCode('p1', { temperature: 2 }), 200, 'the sub-device still bound keeps working');

    // Bound again in the console and synced: it is logged in and posts again.
    await emulator.changeTopology(ref(GATEWAY), [ref(SUBS[0]!), ref(SUBS[1]!)]);
    await waitStatus('p0', SUB_LOGGED_IN, 5000);
    assert.equal(await postCode('p0', { temperature: 3 }), 200);
  });

  it('unbinds only when a flow asks (msg.action "unbind"); removing its nodes logs it out but keeps it bound', async () => {
    await load(
      [
        gatewayConfig(),
        subConfig('sub0', 0),
        subConfig('sub1', 1),
        ...post('p0', 'sub0'),
        ...post('p1', 'sub1'),
        ...post('own', 'gw'),
        ...catchAll(),
      ],
      creds(),
    );
    await allLoggedIn(2);
    node('p0').receive({ action: 'unbind' });
    await waitFor(
      () => !names(emulator.subDevices(ref(GATEWAY))).includes('field-0'),
      'field-0 to be unbound',
      5000,
    );
    await waitStatus('p0', SUB_NOT_BOUND, 5000);
    assert.deepEqual(names(emulator.subDevices(ref(GATEWAY))), ['field-1'], 'only the one asked for');

    const caught = nextMessage('catch-out', 5000);
    node('own').receive({ action: 'unbind' });
    assert.match(errorText(await caught), /only on a node of a sub-device|unbind/);

    await redeploy([gatewayConfig(), ...post('own', 'gw')], 'full', creds());
    await waitFor(
      () => emulator.loggedInSubDevices(ref(GATEWAY)).length === 0,
      'no sub-device logged in',
      5000,
    );
    assert.deepEqual(
      names(emulator.subDevices(ref(GATEWAY))),
      ['field-1'],
      'still bound: never unbound on our own',
    );
  });

  it('a sub-device refused for a bad key fails clearly, and the others keep working', async () => {
    const wrongKey = newKey();
    await load(
      [
        gatewayConfig(),
        subConfig('sub0', 0),
        subConfig('sub1', 1),
        ...post('p0', 'sub0'),
        ...post('p1', 'sub1'),
        ...catchAll(),
      ],
      creds({ sub1: { key: wrongKey } }),
    );
    await allLoggedIn(1);
    assert.deepEqual(names(emulator.loggedInSubDevices(ref(GATEWAY))), ['field-0']);
    await waitFor(() => (lastStatusText('p1') ?? '').includes('refused'), 'p1 to show the refusal', 5000);
    const caught = nextMessage('catch-out', 5000);
    node('p1').receive({ payload: { temperature: 1 } });
    const text = errorText(await caught);
    assert.match(text, /refused sub-device SubProd001\/field-1/);
    assert.ok(!text.includes(wrongKey) && !text.includes(SUBS[1]!.key), 'no key in the error');
    assert.equal(await postCode('p0', { temperature: 2 }), 200);
  });

  it('refuses a gateway that is itself a sub-device (one level only)', async () => {
    await load(
      [
        gatewayConfig(),
        subConfig('sub0', 0),
        subConfig('sub1', 1, { gateway: 'sub0' }),
        ...post('p1', 'sub1'),
        ...catchAll(),
      ],
      creds(),
    );
    const caught = nextMessage('catch-out', 5000);
    node('p1').receive({ payload: { temperature: 1 } });
    assert.match(errorText(await caught), /gateway SubProd001\/field-0 is itself a sub-device/);
  });

  it('posts for msg.subDevice on a gateway node: bound and logged in on first use, keyed by its product', async () => {
    const product = productConfigNode('prod', SUB_PRODUCT);
    const keyless = productConfigNode('prod-nokey', 'OtherProd1', { name: 'no key' });
    await load(
      [gatewayConfig(), product, keyless, ...post('own', 'gw'), ...catchAll()],
      creds({ prod: { key: PRODUCT_KEY } }),
    );
    await waitFor(
      () => emulator.connections().some((c) => c.deviceName === GATEWAY.deviceName),
      'the gateway to connect',
      5000,
    );
    const replied = nextMessage('own-out', 8000);
    node('own').receive({
      payload: { flow: 12.5 },
      time: 1_700_000_000_000,
      subDevice: { productId: SUB_PRODUCT, deviceName: SUBS[2]!.deviceName },
    });
    const onenet = (await replied).onenet as { code: number; topic: string };
    assert.equal(onenet.code, 200);
    assert.match(onenet.topic, /\/thing\/pack\/post$/);
    assert.deepEqual(names(emulator.loggedInSubDevices(ref(GATEWAY))), ['field-2']);
    assert.deepEqual(
      emulator.propertyHistory(ref(SUBS[2]!), 'flow').map((record) => [record.value, record.time]),
      [[12.5, 1_700_000_000_000]],
    );
    // The gateway's own node counts its sub-devices (the count is a placeholder the runtime fills in).
    await waitStatus('own', `${S}gateway-connected`, 5000);

    const noKey = nextMessage('catch-out', 5000);
    node('own').receive({ payload: { flow: 1 }, subDevice: { productId: 'OtherProd1', deviceName: 'x-1' } });
    assert.match(errorText(await noKey), /holds no product key/);
    const noProduct = nextMessage('catch-out', 5000);
    node('own').receive({ payload: { flow: 1 }, subDevice: { productId: 'NoSuchProd', deviceName: 'x-1' } });
    assert.match(errorText(await noProduct), /no onenet-product config node has product id NoSuchProd/);
    const malformed = nextMessage('catch-out', 5000);
    node('own').receive({ payload: { flow: 1 }, subDevice: 'field-2' });
    assert.match(errorText(await malformed), /msg.subDevice must be/);
  });

  it('a msg.subDevice post sees the product node a deploy changed, though the post node kept running', async () => {
    const flow = (productId: string): FlowNode[] => [
      gatewayConfig(),
      productConfigNode('prod', productId),
      ...post('own', 'gw'),
      ...catchAll(),
    ];
    const withKey = creds({ prod: { key: PRODUCT_KEY } });
    await load(flow(SUB_PRODUCT), withKey);
    await waitFor(
      () => emulator.connections().some((c) => c.deviceName === GATEWAY.deviceName),
      'the gateway to connect',
      5000,
    );
    const subDevice = { productId: SUB_PRODUCT, deviceName: SUBS[1]!.deviceName };
    const replied = nextMessage('own-out', 8000);
    node('own').receive({ payload: { flow: 1 }, subDevice });
    assert.equal(((await replied).onenet as { code: number }).code, 200);

    // Only the product node changes: a "nodes" deploy restarts it alone.
    const postNode = node('own');
    await redeploy(flow('OtherProd2'), 'nodes', withKey);
    assert.equal(node('own'), postNode, 'the post node was not restarted');
    const refused = nextMessage('catch-out', 5000);
    node('own').receive({ payload: { flow: 2 }, subDevice });
    assert.match(
      errorText(await refused),
      new RegExp(`no onenet-product config node has product id ${SUB_PRODUCT}`),
    );
    assert.deepEqual(
      emulator.propertyHistory(ref(SUBS[1]!), 'flow').map((record) => record.value),
      [1],
    );
  });

  it('logs a sub-device out when its last node is removed, while the gateway stays connected', async () => {
    const flow = [
      gatewayConfig(),
      subConfig('sub0', 0),
      subConfig('sub1', 1),
      ...post('own', 'gw'),
      ...post('p0', 'sub0'),
      ...post('p0b', 'sub0'),
      ...post('p1', 'sub1'),
    ];
    await load(flow, creds());
    await allLoggedIn(2);
    const connectsBefore = emulator.uplinks(ref(GATEWAY)).length;
    const withoutOneNode = flow.filter((n) => n.id !== 'p0b' && n.id !== 'p0b-out');
    await redeploy(withoutOneNode, 'nodes', creds());
    assert.deepEqual(
      names(emulator.loggedInSubDevices(ref(GATEWAY))),
      ['field-0', 'field-1'],
      'another node still uses field-0',
    );
    const withoutField0 = withoutOneNode.filter((n) => !['sub0', 'p0', 'p0-out'].includes(n.id));
    await redeploy(withoutField0, 'nodes', creds());
    await waitFor(
      () => names(emulator.loggedInSubDevices(ref(GATEWAY))).join() === 'field-1',
      'field-0 to be logged out',
      5000,
    );
    const logouts = emulator
      .uplinks(ref(GATEWAY))
      .slice(connectsBefore)
      .filter((u) => u.topic.endsWith('/thing/sub/logout'));
    assert.equal(logouts.length, 1, 'one sub/logout, for field-0');
    assert.ok(
      emulator.connections().some((c) => c.deviceName === GATEWAY.deviceName),
      'the gateway stayed connected',
    );
    assert.deepEqual(names(emulator.subDevices(ref(GATEWAY))), ['field-0', 'field-1'], 'still bound');
  });

  it('holds a post made before the sub-device is logged in until it is, then sends it', async () => {
    await load([gatewayConfig(), subConfig('sub0', 0), ...post('p0', 'sub0')], creds());
    // At once after the deploy: the gateway is still logging in, the sub-device not bound yet.
    const replied = nextMessage('p0-out', 8000);
    node('p0').receive({ payload: { level: 7 }, time: 1_700_000_000_000 });
    const onenet = (await replied).onenet as { code: number };
    assert.equal(onenet.code, 200);
    assert.deepEqual(names(emulator.loggedInSubDevices(ref(GATEWAY))), ['field-0']);
    const uplinks = emulator.uplinks(ref(GATEWAY)).map((u) => u.topic.split('/thing/')[1]);
    assert.ok(
      uplinks.indexOf('pack/post') > uplinks.indexOf('sub/login'),
      `the post went out after the login (${uplinks.join(', ')})`,
    );
  });

  it('fails a sub-device post at once while the gateway is offline (offline policy fail)', async () => {
    await load([gatewayConfig(), subConfig('sub0', 0), ...post('p0', 'sub0'), ...catchAll()], creds());
    await allLoggedIn(1);
    await emulator.stopListening();
    emulator.dropDevice(ref(GATEWAY));
    await waitStatus('p0', 'node-red:common.status.disconnected', 5000);
    const caught = nextMessage('catch-out', 5000);
    node('p0').receive({ payload: { level: 1 } });
    assert.match(errorText(await caught), /not sent/);
    await emulator.startListening();
  });

  it("warns on a sub-device's command-in node about a malformed sub-device command, and answers it", async () => {
    await load(
      [
        gatewayConfig(),
        subConfig('sub0', 0),
        flowNode('in0', 'onenet-command-in', { device: 'sub0', kind: 'all' }, [['in0-out']]),
        flowNode('in0-out', 'helper'),
      ],
      creds(),
    );
    await allLoggedIn(1);
    const warned = nextCall('in0', 'warn', () => true, 5000);
    const topic = `$sys/${GW_PRODUCT}/${GATEWAY.deviceName}/thing/sub/property/set`;
    assert.ok(
      emulator.publishRaw(
        ref(GATEWAY),
        topic,
        '{"id":"42","version":"1.0","params":{"deviceName":"field-0"}}',
      ),
    );
    assert.deepEqual(await warned, [
      '@iot-flows/node-red-onenet/onenet-device:onenet-device.warn.platform-message',
    ]);
    await waitFor(
      () => emulator.uplinks(ref(GATEWAY)).some((u) => u.topic.endsWith('/thing/sub/property/set_reply')),
      'the malformed request to be answered',
      5000,
    );
  });
});
