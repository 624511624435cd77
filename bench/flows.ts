import { longLivedToken, topicOf, type BenchDevice } from './devices';

/**
 * Flow JSON for the benchmarks, deployed through the admin API. Every flow is driven by one function
 * node (the "driver") that Node-RED's own HTTP nodes start and that answers with what it measured,
 * so the numbers come from inside the Node-RED process and include all of its message routing.
 */

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export const TAB = 'bench.tab';
export const HTTP_RESPONSE = 'bench.http-response';

/** The side a flow measures: this package's nodes, or Node-RED's core MQTT nodes doing the same by hand. */
export type Side = 'ours' | 'core';

function tab(): FlowNode {
  return { id: TAB, type: 'tab', label: 'bench', disabled: false, info: '' };
}

let position = 0;
/** Editor coordinates (flow nodes need x/y to be started as flow nodes); only for looks. */
export function at(): { z: string; x: number; y: number } {
  position++;
  return { z: TAB, x: 200 + (position % 20) * 40, y: 60 + Math.floor(position / 20) * 40 };
}

export function httpIn(id: string, url: string, to: string): FlowNode {
  return {
    id,
    type: 'http in',
    ...at(),
    name: '',
    url,
    method: 'get',
    upload: false,
    swaggerDoc: '',
    wires: [[to]],
  };
}

function httpResponse(): FlowNode {
  return {
    id: HTTP_RESPONSE,
    type: 'http response',
    ...at(),
    name: '',
    statusCode: '',
    headers: {},
    wires: [],
  };
}

export function functionNode(id: string, code: string, outputs: number, wires: string[][]): FlowNode {
  return {
    id,
    type: 'function',
    ...at(),
    name: id,
    func: code,
    outputs,
    timeout: 0,
    noerr: 0,
    initialize: '',
    finalize: '',
    libs: [],
    wires,
  };
}

/**
 * An onenet-device config node. `uplinkRate` defaults to '0' (no limit): benchmarks #1–#4 measure
 * throughput, latency and cost per post, not the uplink scheduler's pacing, so they must not be held
 * to the default 1 message a second. The paced-flood benchmark passes the rate it measures.
 */
export function deviceConfigNode(id: string, device: BenchDevice, port: number, uplinkRate = '0'): FlowNode {
  return {
    id,
    type: 'onenet-device',
    name: '',
    productId: device.productId,
    deviceName: device.deviceName,
    host: '127.0.0.1',
    port: String(port),
    tls: false,
    tlsConfig: '',
    signMethod: 'sha256',
    tokenTtl: '2592000',
    keepalive: '120',
    offlinePolicy: 'fail',
    uplinkRate,
    credentials: { key: device.key },
  };
}

function propertyPostNode(id: string, deviceId: string, waitReply: boolean, wires: string[][]): FlowNode {
  return {
    id,
    type: 'onenet-property-post',
    ...at(),
    name: '',
    device: deviceId,
    waitReply,
    timeout: '30000',
    wires,
  };
}

/**
 * A core `mqtt-broker` config node set up as OneNET demands (onenet-protocol.md §1.3, §2): MQTT 3.1.1,
 * client id = device name, user name = product id, password = a signed token, clean session, no will.
 */
export function coreBrokerNode(id: string, device: BenchDevice, port: number): FlowNode {
  return {
    id,
    type: 'mqtt-broker',
    name: '',
    broker: '127.0.0.1',
    port: String(port),
    clientid: device.deviceName,
    autoConnect: true,
    usetls: false,
    protocolVersion: '4',
    keepalive: '120',
    cleansession: true,
    autoUnsubscribe: true,
    birthTopic: '',
    birthQos: '0',
    birthRetain: 'false',
    birthPayload: '',
    birthMsg: {},
    closeTopic: '',
    closeQos: '0',
    closeRetain: 'false',
    closePayload: '',
    closeMsg: {},
    willTopic: '',
    willQos: '0',
    willRetain: 'false',
    willPayload: '',
    willMsg: {},
    userProps: '',
    sessionExpiry: '',
    credentials: { user: device.productId, password: longLivedToken(device) },
  };
}

function coreMqttOutNode(id: string, brokerId: string, device: BenchDevice, qos: 0 | 1): FlowNode {
  return {
    id,
    type: 'mqtt out',
    ...at(),
    name: '',
    topic: topicOf(device, 'property-post'),
    qos: String(qos),
    retain: 'false',
    respTopic: '',
    contentType: '',
    userProps: '',
    correl: '',
    expiry: '',
    broker: brokerId,
    wires: [],
  };
}

/**
 * The throughput driver (flow-helpers.ts `throughput`): GET /bench/<key>/run?total&window&qos sends
 * `total` messages to the publisher with at most `window` unfinished and answers with what it timed.
 */
function throughputDriverCode(side: Side): string {
  return `global.get('bench').throughput(node, msg, '${side}');\nreturn null;`;
}

/** One measured publisher: its own driver, HTTP endpoint (/bench/<key>/run), Catch and Complete nodes. */
export interface PublisherPart {
  /** Unique in the flow; also the URL segment. */
  key: string;
  side: Side;
  /** The onenet-device (ours) or mqtt-broker (core) config node to publish through. */
  configId: string;
  device: BenchDevice;
  /** ours: wait for OneNET's reply before the message goes on (the node's "Reply" option). */
  waitReply: boolean;
  /** core: the mqtt out node's QoS. Ours gets it per message (msg.qos) from the driver. */
  qos: 0 | 1;
  /**
   * What feeds the publisher: 'source' is the bench-source node (an ordinary node, like any real
   * message source); 'function' is a function node doing the same, to show what that costs.
   */
  driver: 'source' | 'function';
  /**
   * How the driver learns a message is done. Default: ours through its output when it waits for
   * replies, else a Complete node (the only way for mqtt out, which has no output). 'output' makes
   * ours report through its output with Reply off too (it sends the message on once published).
   */
  completion?: 'output' | 'complete';
  /**
   * ours only: publish through the bench-minimal-post node (bench-minimal-node.ts) instead of the
   * property post node, with its own client to the emulator on this port; replies awaited.
   */
  minimalOnPort?: number;
}

/**
 * http in → driver → publisher, with the publisher's completions fed back to the driver: ours
 * through its output when replies are awaited (the message goes on after code 200), otherwise (and
 * always for core mqtt out, which has no output) through a Complete node; failures through a Catch node.
 */
export function publisherPart(part: PublisherPart): FlowNode[] {
  const id = (name: string): string => `bench.${part.key}.${name}`;
  const publisher = id('publisher');
  const driver = id('driver');
  const completionViaOutput =
    part.side === 'ours' && (part.completion ? part.completion === 'output' : part.waitReply);
  const nodes: FlowNode[] = [
    httpIn(id('http'), `/bench/${part.key}/run`, driver),
    part.driver === 'function'
      ? functionNode(driver, throughputDriverCode(part.side), 2, [[publisher], [HTTP_RESPONSE]])
      : {
          id: driver,
          type: 'bench-source',
          ...at(),
          name: '',
          side: part.side,
          wires: [[publisher], [HTTP_RESPONSE]],
        },
    {
      id: id('catch'),
      type: 'catch',
      ...at(),
      name: '',
      scope: [publisher],
      uncaught: false,
      wires: [[driver]],
    },
  ];
  if (!completionViaOutput) {
    nodes.push({
      id: id('complete'),
      type: 'complete',
      ...at(),
      name: '',
      scope: [publisher],
      uncaught: false,
      wires: [[driver]],
    });
  }
  nodes.push(
    part.minimalOnPort !== undefined
      ? {
          id: publisher,
          type: 'bench-minimal-post',
          ...at(),
          name: '',
          port: part.minimalOnPort,
          device: part.device,
          wires: [[driver]],
        }
      : part.side === 'ours'
        ? propertyPostNode(publisher, part.configId, part.waitReply, completionViaOutput ? [[driver]] : [[]])
        : coreMqttOutNode(publisher, part.configId, part.device, part.qos),
  );
  return nodes;
}

/** A deployable flow: the tab, the shared HTTP response node, the memory endpoint and `nodes`. */
export function flowOf(nodes: FlowNode[]): FlowNode[] {
  return [tab(), httpResponse(), ...memoryEndpoint(), ...nodes];
}

/** onenet-command-in (property set) wired straight into onenet-command-reply: the smallest answering flow. */
export function commandFlow(device: BenchDevice, port: number): FlowNode[] {
  return flowOf([
    deviceConfigNode('bench.device-config', device, port),
    {
      id: 'bench.command-in',
      type: 'onenet-command-in',
      ...at(),
      name: '',
      device: 'bench.device-config',
      kind: 'property-set',
      service: '',
      autoReply: false,
      wires: [['bench.command-reply']],
    },
    { id: 'bench.command-reply', type: 'onenet-command-reply', ...at(), name: '', device: '', wires: [] },
  ]);
}

/** GET /bench/memory answers process.memoryUsage() after two forced collections. */
function memoryEndpoint(): FlowNode[] {
  return [
    httpIn('bench.http-memory', '/bench/memory', 'bench.memory'),
    functionNode('bench.memory', `msg.payload = global.get('bench').memory();\nreturn [msg];`, 1, [
      [HTTP_RESPONSE],
    ]),
  ];
}

/** Only the measuring helpers: what "an empty flow" is for the memory baseline. */
export function emptyFlow(): FlowNode[] {
  return flowOf([]);
}

/**
 * The scale ticker: GET /bench/tick?action=start&intervalMs=N makes each of its outputs (one per
 * device) send one message per N ms, spread evenly over the interval; action=stop stops it and
 * answers {sent, ok, failed, firstError}. Completions and failures come back on its input.
 */
function tickerCode(side: Side, outputs: number): string {
  return `let state = context.get('tick') || { sent: 0, ok: 0, failed: 0, firstError: null, timer: null, sequence: 0 };
context.set('tick', state);
if (msg.req) {
  const query = msg.payload || {};
  if (query.action === 'start') {
    state.sent = 0; state.ok = 0; state.failed = 0; state.firstError = null;
    const tickMs = Number(query.intervalMs) / ${outputs};
    const started = Date.now();
    let next = 0;
    if (state.timer) clearInterval(state.timer);
    state.timer = setInterval(() => {
      const due = Math.floor((Date.now() - started) / tickMs);
      while (next < due) {
        const out = new Array(${outputs + 1}).fill(null);
        out[next % ${outputs}] = makeMessage(state, state.sequence++);
        next++;
        state.sent++;
        node.send(out);
      }
    }, Math.max(1, Math.floor(tickMs)));
  } else if (state.timer) {
    clearInterval(state.timer);
    state.timer = null;
  }
  msg.payload = { sent: state.sent, ok: state.ok, failed: state.failed, firstError: state.firstError };
  const out = new Array(${outputs + 1}).fill(null);
  out[${outputs}] = msg;
  node.send(out);
  return null;
}
if (msg.error) {
  state.failed++;
  if (!state.firstError) state.firstError = String(msg.error.message);
} else {
  state.ok++;
}
return null;
function makeMessage(state, sequence) {
  return global.get('bench').makeMessage('${side}', sequence, 1);
}`;
}

/**
 * `devices.length` devices, each its own config node and one publisher, plus the ticker. Ours:
 * onenet-device + onenet-property-post (reply awaited). Core: mqtt-broker + mqtt out (QoS 1).
 */
export function scaleFlow(side: Side, devices: readonly BenchDevice[], port: number): FlowNode[] {
  const nodes: FlowNode[] = [];
  const publishers = devices.map((_, i) => `bench.pub.${i}`);
  nodes.push(httpIn('bench.http-tick', '/bench/tick', 'bench.ticker'));
  nodes.push(
    functionNode('bench.ticker', tickerCode(side, devices.length), devices.length + 1, [
      ...publishers.map((id) => [id]),
      [HTTP_RESPONSE],
    ]),
  );
  nodes.push({
    id: 'bench.catch',
    type: 'catch',
    ...at(),
    name: '',
    scope: publishers,
    uncaught: false,
    wires: [['bench.ticker']],
  });
  if (side === 'core') {
    nodes.push({
      id: 'bench.complete',
      type: 'complete',
      ...at(),
      name: '',
      scope: publishers,
      uncaught: false,
      wires: [['bench.ticker']],
    });
  }
  devices.forEach((device, i) => {
    const config = `bench.cfg.${i}`;
    if (side === 'ours') {
      nodes.push(deviceConfigNode(config, device, port));
      nodes.push(propertyPostNode(publishers[i]!, config, true, [['bench.ticker']]));
    } else {
      nodes.push(coreBrokerNode(config, device, port));
      nodes.push(coreMqttOutNode(publishers[i]!, config, device, 1));
    }
  });
  return flowOf(nodes);
}

/**
 * The paced-flood flow for one device (bench-5-paced-flood.ts): http in (/bench/<key>/flood) → a
 * function node that only hands over to the flood driver (flow-helpers.ts `flood`; at 10 messages a
 * second its vm cost does not matter) → onenet-property-post with the reply awaited and the node's
 * default timeout, its output and a Catch node fed back to the driver. The device's uplinkRate is
 * the one measured ('1', the default, or '0' for the unpaced baseline).
 */
export function floodPart(key: string, device: BenchDevice, port: number, uplinkRate: string): FlowNode[] {
  const id = (name: string): string => `bench.${key}.${name}`;
  const publisher = id('publisher');
  const driver = id('driver');
  return [
    deviceConfigNode(id('device'), device, port, uplinkRate),
    httpIn(id('http'), `/bench/${key}/flood`, driver),
    functionNode(driver, `global.get('bench').flood(node, msg);\nreturn null;`, 2, [
      [publisher],
      [HTTP_RESPONSE],
    ]),
    {
      id: id('catch'),
      type: 'catch',
      ...at(),
      name: '',
      scope: [publisher],
      uncaught: false,
      wires: [[driver]],
    },
    {
      id: publisher,
      type: 'onenet-property-post',
      ...at(),
      name: '',
      device: id('device'),
      waitReply: true,
      timeout: '',
      wires: [[driver]],
    },
  ];
}
