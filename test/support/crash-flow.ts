/**
 * The flow the crash test deploys into a real Node-RED: an inject drives a function node that makes
 * one numbered value per post and logs it, a property post node on a device with offlinePolicy
 * 'store', and function nodes that log what the flow was told (stored, sent, failed). The log lines
 * go to the Node-RED process's stdout (a pipe, written synchronously on Linux), so a line the test
 * read was said before the process was killed.
 */

/** Values of one process run are run × TICKS_PER_RUN + n, so each value names the run that made it. */
export const TICKS_PER_RUN = 1_000_000;

/** How fast the flow posts: every 10 ms, once a second, or not at all (the final run). */
export type LivePace = 'fast' | 'slow' | 'off';

const TAB = 'crash.tab';
const MARK = 'CRASH';

export type CrashLine = { type: 'gen' | 'stored' | 'sent' | 'failed'; tick: number };

export function parseCrashLine(line: string): CrashLine | undefined {
  const match = new RegExp(`${MARK} (gen|stored|sent|failed) (\\d+)`).exec(line);
  return match ? { type: match[1] as CrashLine['type'], tick: Number(match[2]) } : undefined;
}

function functionNode(id: string, func: string, wires: string[][], y: number): Record<string, unknown> {
  return {
    id,
    type: 'function',
    z: TAB,
    name: id,
    func,
    outputs: 1,
    timeout: 0,
    noerr: 0,
    initialize: '',
    finalize: '',
    libs: [],
    x: 300,
    y,
    wires,
  };
}

const GENERATE = `
const pace = env.get('CRASH_PACE');
const n = (context.get('n') || 0) + 1;
context.set('n', n);
if (pace === 'off' || (pace === 'slow' && n % 100 !== 0)) return null;
const tick = Number(env.get('CRASH_RUN')) * ${TICKS_PER_RUN} + n;
node.warn('${MARK} gen ' + tick);
msg.payload = { tick };
return msg;`;

const REPORT = `
node.warn('${MARK} ' + (msg.onenet && msg.onenet.stored ? 'stored' : 'sent') + ' ' + msg.payload.tick);
return null;`;

const FAILED = `
node.warn('${MARK} failed ' + (msg.payload && msg.payload.tick) + ' ' + (msg.error && msg.error.message));
return null;`;

export function crashFlow(
  device: { productId: string; deviceName: string; key: string },
  port: number,
): Array<Record<string, unknown>> {
  return [
    { id: TAB, type: 'tab', label: 'crash', disabled: false, info: '' },
    {
      id: 'crash.device',
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
      keepalive: '60',
      offlinePolicy: 'store',
      uplinkRate: '',
      credentials: { key: device.key },
    },
    {
      id: 'crash.inject',
      type: 'inject',
      z: TAB,
      name: '',
      props: [{ p: 'payload' }],
      repeat: '0.01',
      crontab: '',
      once: true,
      onceDelay: '0.1',
      topic: '',
      payload: '',
      payloadType: 'date',
      x: 100,
      y: 60,
      wires: [['crash.generate']],
    },
    functionNode('crash.generate', GENERATE, [['crash.post']], 60),
    {
      id: 'crash.post',
      type: 'onenet-property-post',
      z: TAB,
      name: '',
      device: 'crash.device',
      waitReply: true,
      timeout: '15000',
      x: 500,
      y: 60,
      wires: [['crash.report']],
    },
    functionNode('crash.report', REPORT, [], 120),
    {
      id: 'crash.catch',
      type: 'catch',
      z: TAB,
      name: '',
      scope: null,
      uncaught: false,
      x: 100,
      y: 180,
      wires: [['crash.failed']],
    },
    functionNode('crash.failed', FAILED, [], 180),
  ];
}
