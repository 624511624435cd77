import type { BenchDevice } from './devices';
import { at, deviceConfigNode, flowOf, functionNode, httpIn, HTTP_RESPONSE, type FlowNode } from './flows';

/**
 * The flow of the gateway benchmark (bench-10-gateway.ts): one gateway `onenet-device`, N sub-device
 * `onenet-device` config nodes pointing at it (DESIGN.md §4 `gateway`), one `onenet-property-post`
 * per sub-device (reply awaited, the node's default 5 s timeout, as a user gets it, unless a run sets
 * another), a driver and a Catch node. GET /bench/gw?action=start&intervalMs&perDevice starts the posts, action=status says
 * how many were sent and settled, action=result answers every post's record.
 */

const DRIVER = 'bench.gw.driver';

/** The one property each sub-device posts: its post number, so every stored value names its post. */
export const GATEWAY_PROPERTY = 'level';

/**
 * One post as the driver saw it: [sub-device index, its post number, Date.now() when sent to the
 * post node, Date.now() when settled (0: not yet), 1 ok / 0 failed, the failure's msg.onenet.reason,
 * msg.onenet.latencyMs, msg.onenet.merged]. Arrays, not objects: 12,000 of them go over HTTP.
 */
export type GatewayPost = [number, number, number, number, 0 | 1, string, number, number];

export interface GatewayPostsAnswer {
  posts: GatewayPost[];
  /** The first error message of each failure reason. */
  firstErrors: Record<string, string>;
}

export interface GatewayStatusAnswer {
  sent: number;
  settled: number;
  total: number;
}

/**
 * The driver: sends post k to output k mod N at start + k × intervalMs / N (on a clock that does not
 * drift with timer lateness), so each sub-device posts every intervalMs and the posts of all of them
 * are spread evenly, as N field devices polled in turn would be. Function-node code, as the scale
 * ticker (flows.ts) is: at 100 posts a second its vm cost does not matter.
 */
function driverCode(outputs: number): string {
  return `let s = context.get('gw');
if (!s) { s = { timer: null, posts: [], settled: 0, total: 0, firstErrors: {} }; context.set('gw', s); }
const N = ${outputs};
function answer(payload) {
  msg.payload = payload;
  const out = new Array(N + 1).fill(null);
  out[N] = msg;
  node.send(out);
}
if (msg.req) {
  const q = msg.payload || {};
  if (q.action === 'start') {
    const tickMs = Number(q.intervalMs) / N;
    s.total = N * Number(q.perDevice);
    s.posts = []; s.settled = 0; s.firstErrors = {};
    const started = Date.now();
    if (s.timer) clearInterval(s.timer);
    s.timer = setInterval(() => {
      const due = Math.min(s.total, Math.floor((Date.now() - started) / tickMs) + 1);
      while (s.posts.length < due) {
        const k = s.posts.length;
        const device = k % N;
        const seq = Math.floor(k / N);
        s.posts.push([device, seq, Date.now(), 0, 0, '', -1, 0]);
        const out = new Array(N + 1).fill(null);
        out[device] = { payload: { ${GATEWAY_PROPERTY}: seq }, benchPost: k };
        node.send(out);
      }
      if (s.posts.length >= s.total) { clearInterval(s.timer); s.timer = null; }
    }, Math.max(1, Math.floor(tickMs)));
    answer({ sent: 0, settled: 0, total: s.total });
  } else if (q.action === 'result') {
    answer({ posts: s.posts, firstErrors: s.firstErrors });
  } else {
    answer({ sent: s.posts.length, settled: s.settled, total: s.total });
  }
  return null;
}
const post = s.posts[msg.benchPost];
if (!post || post[3] !== 0) return null;
post[3] = Date.now();
s.settled++;
const info = msg.onenet || {};
if (typeof info.latencyMs === 'number') post[6] = info.latencyMs;
if (typeof info.merged === 'number') post[7] = info.merged;
if (msg.error) {
  const reason = String(info.reason || 'error');
  post[5] = reason;
  if (!(reason in s.firstErrors)) s.firstErrors[reason] = String(msg.error.message);
} else {
  post[4] = 1;
}
return null;`;
}

export interface GatewayFlowOptions {
  uplinkRate: number;
  /** The post nodes' timeout in ms (absent: the node's default, 5 s). */
  timeoutMs?: number;
  /** The gateway's `queueLimit` (absent: its default, 1,000). */
  queueLimit?: number;
}

export function gatewayFlow(
  gateway: BenchDevice,
  subDevices: readonly BenchDevice[],
  port: number,
  options: GatewayFlowOptions,
): FlowNode[] {
  const gatewayId = 'bench.gw.gateway';
  const publishers = subDevices.map((_, i) => `bench.gw.post.${i}`);
  const nodes: FlowNode[] = [
    {
      ...deviceConfigNode(gatewayId, gateway, port, String(options.uplinkRate)),
      gateway: '',
      product: '',
      ...(options.queueLimit !== undefined ? { queueLimit: String(options.queueLimit) } : {}),
    },
    httpIn('bench.gw.http', '/bench/gw', DRIVER),
    functionNode(DRIVER, driverCode(subDevices.length), subDevices.length + 1, [
      ...publishers.map((id) => [id]),
      [HTTP_RESPONSE],
    ]),
    {
      id: 'bench.gw.catch',
      type: 'catch',
      ...at(),
      name: '',
      scope: publishers,
      uncaught: false,
      wires: [[DRIVER]],
    },
  ];
  subDevices.forEach((sub, i) => {
    const config = `bench.gw.sub.${i}`;
    // A sub-device's config holds only who it is, its key and its gateway (as example 07's field
    // devices): host, port, TLS and uplinkRate are the gateway's.
    nodes.push({
      id: config,
      type: 'onenet-device',
      name: '',
      productId: sub.productId,
      deviceName: sub.deviceName,
      gateway: gatewayId,
      product: '',
      credentials: { key: sub.key },
    });
    nodes.push({
      id: publishers[i]!,
      type: 'onenet-property-post',
      ...at(),
      name: '',
      device: config,
      waitReply: true,
      timeout: options.timeoutMs !== undefined ? String(options.timeoutMs) : '',
      wires: [[DRIVER]],
    });
  });
  return flowOf(nodes);
}
