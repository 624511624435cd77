import assert from 'node:assert/strict';
import type { OneNetEmulator, UplinkRecord } from '../../src/emulator';
import { DEFAULTS } from '../../src/connection/options';
import { report } from './figures';
import {
  STATUS,
  captureAndUnload,
  catchAll,
  collect,
  credentialsOf,
  delay,
  deviceConfig,
  flowNode,
  load,
  makeDevices,
  node,
  pooledConnections,
  startEmulator,
  statusHistory,
  waitFor,
  waitOnline,
  type FlowNode,
} from './support';

const RESTARTS = 20;
const DEVICES = 5;
/** Each device gets one post every this many ms: 5 devices, 100 posts a second together. */
const POST_INTERVAL_MS = 50;
/** Restarts that come soon after the devices logged in, as a flapping link does. */
const EARLY_RESTARTS = new Set([5, 10, 15]);
/** Restarts whose broker stays down long enough for reconnect attempts to fail and the queue to grow. */
const LONG_RESTARTS = new Set([7, 14]);

/** The `seq` a test post carried, read back from what the emulator received. */
function seqOf(record: UplinkRecord): number | undefined {
  const params = (record.payload as { params?: { seq?: { value?: unknown } } } | undefined)?.params;
  const value = params?.seq?.value;
  return typeof value === 'number' ? value : undefined;
}

/**
 * Issue 7, scenario 1: the broker is killed (every connection cut, the port closed) and restarted
 * 20 times while 5 devices post at QoS 1 with the `queue` offline policy. Each post carries a
 * sequence number, so every one can be traced: to the flow's output (confirmed by OneNET), to the
 * Catch node (failed, with a reason), and to what the platform received.
 */
export function brokerRestarts(): void {
  describe('broker killed and restarted 20 times while 5 devices post at QoS 1 (queue policy)', function () {
    this.timeout(180_000);
    const devices = makeDevices('restart', DEVICES);
    let emulator: OneNetEmulator;

    before(async () => {
      emulator = await startEmulator(devices, { uplinkLogLimit: 1 }); // traced through 'uplink' events instead
    });
    after(async () => {
      await captureAndUnload();
      await emulator.close();
    });

    function flow(): FlowNode[] {
      return [
        ...devices.map((device) => deviceConfig(emulator, device, { offlinePolicy: 'queue' })),
        ...devices.map((device, i) =>
          flowNode(`post-${i}`, 'onenet-property-post', { device: device.configId, waitReply: true }, [
            ['ok'],
          ]),
        ),
        flowNode('ok', 'helper'),
        ...catchAll(),
      ];
    }

    /** Resolves once every device's session is older than `ms` (a drop then is not taken for a kick). */
    async function sessionsOlderThan(ms: number): Promise<void> {
      await waitFor(
        () => {
          const now = Date.now();
          const sessions = emulator.connections();
          return sessions.length === DEVICES && sessions.every((s) => now - s.connectedAt >= ms);
        },
        `sessions older than ${ms} ms`,
        15_000,
      );
    }

    it('delivers every accepted post exactly once or reports it failed through Catch; none lost', async () => {
      await load(flow(), credentialsOf(devices));
      await waitOnline(emulator, devices);
      const ok = collect('ok');
      const caught = collect('catch-out');
      const received = new Map<number, number>();
      const onUplink = (record: UplinkRecord): void => {
        const seq = seqOf(record);
        if (seq !== undefined) received.set(seq, (received.get(seq) ?? 0) + 1);
      };
      emulator.on('uplink', onUplink);

      let sent = 0;
      let maxQueue = 0;
      const driver = setInterval(() => {
        for (let i = 0; i < DEVICES; i++) {
          const seq = sent++;
          node(`post-${i}`).receive({ payload: { seq }, seq });
        }
        for (const connection of pooledConnections())
          maxQueue = Math.max(maxQueue, connection.status().queueDepth);
      }, POST_INTERVAL_MS);

      const started = Date.now();
      const loginsBefore = emulator.stats.connects;
      try {
        for (let restart = 1; restart <= RESTARTS; restart++) {
          if (EARLY_RESTARTS.has(restart)) await sessionsOlderThan(300);
          else await sessionsOlderThan(DEFAULTS.kickWindowMs + 200);
          await emulator.stopListening();
          await delay(LONG_RESTARTS.has(restart) ? 2000 : 150 + Math.floor(Math.random() * 250));
          await emulator.startListening();
          await waitOnline(emulator, devices, 20_000);
        }
        await delay(1000); // a last stretch of normal traffic
      } finally {
        clearInterval(driver);
      }
      await waitFor(() => ok.length + caught.length >= sent, 'every post to settle', 20_000);
      await delay(300); // anything settling twice would show up now
      emulator.off('uplink', onUplink);
      const elapsedMs = Date.now() - started;

      const confirmed = ok.map((msg) => msg.seq as number);
      const failed = caught.map((msg) => msg.seq as number);
      const settledSeqs = new Set([...confirmed, ...failed]);
      assert.equal(settledSeqs.size, confirmed.length + failed.length, 'no post settled twice');
      assert.equal(settledSeqs.size, sent, 'every accepted post settled (output or Catch)');
      for (const msg of ok) assert.equal((msg.onenet as { code: number }).code, 200);

      const duplicates = [...received.values()].filter((count) => count > 1).length;
      const phantom = [...received.keys()].filter((seq) => !settledSeqs.has(seq)).length;
      const unconfirmed = confirmed.filter((seq) => received.get(seq) !== 1);
      assert.deepEqual(unconfirmed, [], 'every confirmed post reached the platform exactly once');
      assert.equal(duplicates, 0, 'no post reached the platform twice');
      assert.equal(phantom, 0, 'the platform received nothing that was not sent');

      const reasons: Record<string, number> = {};
      let failedButReceived = 0;
      for (const msg of caught) {
        const reason = (msg.onenet as { reason?: string } | undefined)?.reason ?? 'other';
        reasons[reason] = (reasons[reason] ?? 0) + 1;
        if (received.has(msg.seq as number)) failedButReceived++;
        const text = (msg.error as { message?: string } | undefined)?.message ?? '';
        assert.ok(text.length > 10, `a failure says why: ${text}`);
      }
      const lost = sent - confirmed.length - failed.length;
      assert.equal(lost, 0);
      const kickedShown = devices.reduce(
        (sum, _device, i) => sum + statusHistory(`post-${i}`).filter((s) => s.text === STATUS.kicked).length,
        0,
      );

      report('broker restarts', {
        restarts: RESTARTS,
        'early restarts (<2 s after login)': EARLY_RESTARTS.size,
        'long outages (2 s)': LONG_RESTARTS.size,
        devices: DEVICES,
        'posts accepted': sent,
        'delivered and confirmed': confirmed.length,
        'failed and reported': failed.length,
        'failure reasons': JSON.stringify(reasons),
        'failed but received by the platform': failedButReceived,
        lost,
        'duplicates at the platform': duplicates,
        logins: emulator.stats.connects - loginsBefore,
        'max queue depth': maxQueue,
        '"kicked" statuses shown': kickedShown,
        'elapsed s': (elapsedMs / 1000).toFixed(1),
      });
    });
  });
}
