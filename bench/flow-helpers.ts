import { performance } from 'node:perf_hooks';
import { sampleProperties } from './devices';
import { tenPropertyValues } from './model-fixture';

/**
 * What the bench flows' function nodes call, handed to Node-RED as `global.get('bench')` through
 * functionGlobalContext (node-red-harness.ts loads this file from the settings file).
 *
 * Why not plain function-node code: Node-RED runs a function node's code in a vm context, and every
 * global name it touches goes through the context's interceptors; a profile of a driver written as
 * function-node code showed it using more CPU than everything this package does per message. Real
 * message sources (Modbus, serial, MQTT in, inject) are ordinary nodes, not vm code, so the driver's
 * work is done here, in ordinary JavaScript, and the function node only forwards to it.
 */

/** The part of a function node's `node` object the drivers use. */
interface SandboxNode {
  id: string;
  /** cloneFirst=false: Node-RED would otherwise deep-clone the first message of every send. */
  send(messages: unknown, cloneFirst?: boolean): void;
}

type Message = Record<string, unknown>;
export type Side = 'ours' | 'core';

interface ThroughputRun {
  total: number;
  window: number;
  qos: number;
  /** 'ten': ten properties of ten data types (the model-check benchmark); default the two-property sample. */
  shape: 'sample' | 'ten';
  sent: number;
  ok: number;
  failed: number;
  firstError: string | null;
  http: Message | null;
  startedAt: number;
}

let nextCoreId = 1;

/**
 * The message each side gets. Ours: the property values as the payload (the node builds the
 * OneJSON request) and msg.qos. Core: the whole OneJSON request as a user must build it, with its own
 * message id (the mqtt out node JSON-encodes an object payload itself; QoS is the node's setting).
 */
export function makeMessage(side: Side, sequence: number, qos: number): Message {
  const values = sampleProperties(sequence);
  if (side === 'ours') return { payload: values, qos };
  const params: Record<string, { value: number }> = {};
  for (const identifier of Object.keys(values))
    params[identifier] = { value: values[identifier as keyof typeof values] };
  return { payload: { id: String(nextCoreId++), version: '1.0', params } };
}

function nextMessage(side: Side, run: ThroughputRun): Message {
  const sequence = run.sent++;
  if (run.shape === 'ten' && side === 'ours') return { payload: tenPropertyValues(sequence), qos: run.qos };
  return makeMessage(side, sequence, run.qos);
}

const runs = new Map<string, ThroughputRun>();

/**
 * The throughput driver behind /bench/<key>/run?total&window&qos: sends `total` messages on output
 * 1, at most `window` of them unfinished. Each completion (a message back on the input) or failure
 * (from a Catch node: msg.error) lets the next one go; when all are settled the HTTP request is
 * answered (output 2) with {ok, failed, firstError, elapsedMs, perSecond}.
 */
export function throughput(node: SandboxNode, msg: Message, side: Side): void {
  if (msg.req) {
    const query = (msg.payload ?? {}) as Record<string, string>;
    const run: ThroughputRun = {
      total: Number(query.total),
      window: Number(query.window),
      qos: Number(query.qos),
      shape: query.shape === 'ten' ? 'ten' : 'sample',
      sent: 0,
      ok: 0,
      failed: 0,
      firstError: null,
      http: msg,
      startedAt: performance.now(),
    };
    runs.set(node.id, run);
    const batch: Message[] = [];
    while (run.sent < run.total && run.sent < run.window) batch.push(nextMessage(side, run));
    node.send([batch, null], false);
    return;
  }
  const run = runs.get(node.id);
  if (!run || run.http === null) return;
  if (msg.error) {
    run.failed++;
    run.firstError ??= String((msg.error as { message?: unknown }).message);
  } else {
    run.ok++;
  }
  if (run.sent < run.total) node.send([nextMessage(side, run), null], false);
  if (run.ok + run.failed === run.total) {
    const elapsedMs = performance.now() - run.startedAt;
    const http = run.http;
    run.http = null;
    http.payload = {
      ok: run.ok,
      failed: run.failed,
      firstError: run.firstError,
      elapsedMs,
      perSecond: (run.ok / elapsedMs) * 1000,
    };
    node.send([null, http], false);
  }
}

/** One post of a flood run, as the flow saw it. */
export interface FloodPost {
  seq: number;
  /** Date.now() when the flow sent it to the post node (the values' times should be this, or a few ms later). */
  sentAt: number;
  /** performance.now() at sending and at settling (output or Catch). */
  sentPerf: number;
  settledPerf?: number;
  ok?: boolean;
  /** msg.onenet of the settled message: the connection's own latency and how many posts it was merged with. */
  latencyMs?: number;
  merged?: number;
  code?: number;
  /** Failures: msg.onenet.reason ('timeout', 'busy', …) and the error message. */
  reason?: string;
  error?: string;
}

interface FloodRun {
  count: number;
  intervalMs: number;
  properties: number;
  settleMs: number;
  posts: FloodPost[];
  settled: number;
  http: Message | null;
  startedPerf: number;
  deadline: NodeJS.Timeout | undefined;
  /** Answers the HTTP request (once). */
  answer: () => void;
}

const floods = new Map<string, FloodRun>();

/** The values of post `seq`: properties p0…p(n-1), each = seq, so every stored value names its post. */
export function floodValues(seq: number, properties: number): Record<string, number> {
  const values: Record<string, number> = {};
  for (let i = 0; i < properties; i++) values[`p${i}`] = seq;
  return values;
}

/**
 * The paced-flood driver behind /bench/<key>/flood?count&intervalMs&properties&settleMs: sends post
 * k at start + k × intervalMs (on a clock that does not drift with timer lateness), each with
 * `properties` values, and records when each is sent and settled (a message back on the input: from
 * the post node's output, or msg.error from a Catch node). Answers once every post has settled, or
 * `settleMs` after the last was sent, with every post's record.
 */
export function flood(node: SandboxNode, msg: Message): void {
  if (msg.req) {
    const query = (msg.payload ?? {}) as Record<string, string>;
    const run: FloodRun = {
      count: Number(query.count),
      intervalMs: Number(query.intervalMs),
      properties: Number(query.properties),
      settleMs: Number(query.settleMs),
      posts: [],
      settled: 0,
      http: msg,
      startedPerf: performance.now(),
      deadline: undefined,
      answer: () => {
        if (run.http === null) return;
        clearTimeout(run.deadline);
        const http = run.http;
        run.http = null;
        http.payload = { posts: run.posts, settled: run.settled };
        node.send([null, http], false);
      },
    };
    floods.set(node.id, run);
    const tick = (): void => {
      const now = performance.now();
      while (run.posts.length < run.count && now >= run.startedPerf + run.posts.length * run.intervalMs) {
        const seq = run.posts.length;
        run.posts.push({ seq, sentAt: Date.now(), sentPerf: performance.now() });
        node.send([{ payload: floodValues(seq, run.properties), benchSeq: seq }, null], false);
      }
      if (run.posts.length < run.count) {
        const next = run.startedPerf + run.posts.length * run.intervalMs;
        setTimeout(tick, Math.max(0, next - performance.now()));
      } else {
        run.deadline = setTimeout(run.answer, run.settleMs);
      }
    };
    tick();
    return;
  }
  const run = floods.get(node.id);
  const post = run?.posts[msg.benchSeq as number];
  if (!run || !post || post.settledPerf !== undefined) return;
  post.settledPerf = performance.now();
  const info = msg.onenet as
    { latencyMs?: number; merged?: number; code?: number; reason?: string } | undefined;
  if (info?.latencyMs !== undefined) post.latencyMs = info.latencyMs;
  if (info?.merged !== undefined) post.merged = info.merged;
  if (info?.code !== undefined) post.code = info.code;
  if (info?.reason !== undefined) post.reason = info.reason;
  if (msg.error) {
    post.ok = false;
    post.error = String((msg.error as { message?: unknown }).message);
  } else {
    post.ok = true;
  }
  run.settled++;
  if (run.settled === run.count) run.answer();
}

export interface BenchHelpers {
  now(): number;
  memory(): { rss: number; heapUsed: number; external: number };
  throughput: typeof throughput;
  flood: typeof flood;
  makeMessage: typeof makeMessage;
}

/** `gc` comes from the settings file, which enables it at run time. */
export function createBenchHelpers(gc: () => void): BenchHelpers {
  return {
    now: () => performance.now(),
    memory: () => {
      gc();
      gc();
      const usage = process.memoryUsage();
      return { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external };
    },
    throughput,
    flood,
    makeMessage,
  };
}
