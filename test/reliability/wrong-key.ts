import assert from 'node:assert/strict';
import { DeviceConnection, type ConnectionStatus } from '../../src/connection';
import { DEFAULTS } from '../../src/connection/options';
import type { ClientRefusedEvent, OneNetEmulator } from '../../src/emulator';
import { report } from './figures';
import { transcript } from './ledger';
import {
  STATUS,
  captureAndUnload,
  catchAll,
  collect,
  credentialsOf,
  delay,
  deviceConfig,
  flowNode,
  lastStatusText,
  load,
  makeDevices,
  newKey,
  node,
  startEmulator,
  statusHistory,
  waitFor,
} from './support';

/** How long the shipped defaults are watched: long enough to see that nothing is retried early. */
const WATCH_MS = 20_000;

/** "…; next attempt in 47 s" at the end of an offline error. */
function nextAttemptSeconds(text: string): number {
  const match = /next attempt in (\d+) s/.exec(text);
  assert.ok(match, `the error says when the next attempt is: ${text}`);
  return Number(match[1]);
}

/**
 * Issue 7, scenario 4: a device configured with the wrong key. Node-RED with the shipped defaults
 * must show "auth failed" within a second and then log in rarely (OneNET bans a device that logs in
 * too often, §1.4). The defaults are watched for 20 s; that the delays keep growing is shown on the
 * connection layer with the same policy scaled down 600 times.
 */
export function wrongKey(): void {
  describe('a device with the wrong key', function () {
    this.timeout(60_000);
    const [device] = makeDevices('wrongkey', 1);
    let emulator: OneNetEmulator;

    before(async () => {
      emulator = await startEmulator([device!]);
    });
    after(async () => {
      await emulator.close();
    });

    it('shows "auth failed" within a second and logs in at most twice a minute (shipped defaults)', async () => {
      const refusals: number[] = [];
      emulator.on('client-refused', (event: ClientRefusedEvent) => {
        if (event.clientId === device!.ref.deviceName) refusals.push(Date.now());
      });
      const wrong = { ...device!, key: newKey() };
      const deployedAt = Date.now();
      try {
        await load(
          [
            deviceConfig(emulator, wrong),
            flowNode('post', 'onenet-property-post', { device: wrong.configId }, [['ok']]),
            flowNode('ok', 'helper'),
            ...catchAll(),
          ],
          credentialsOf([wrong]),
        );
        await waitFor(() => lastStatusText('post') === STATUS.authFailed, '"auth failed"', 1000);
        const shownAfterMs = Date.now() - deployedAt;
        assert.ok(shownAfterMs < 1000, `"auth failed" shown ${shownAfterMs} ms after the deploy`);
        const caught = collect('catch-out');
        node('post').receive({ payload: { temperature: 1 } });
        await waitFor(() => caught.length === 1, 'the post to fail');
        const error = (caught[0]!.error as { message: string }).message;
        assert.match(error, /auth failed: OneNET refused the login/);
        const firstRetryInS = nextAttemptSeconds(error);
        assert.ok(
          firstRetryInS >= DEFAULTS.authFailedDelayMs / 2000 - 1,
          `the first retry waits at least half the auth-failed delay (${firstRetryInS} s)`,
        );

        await delay(WATCH_MS - (Date.now() - deployedAt));
        assert.equal(refusals.length, 1, `CONNECTs within ${WATCH_MS / 1000} s of the deploy`);
        assert.equal(emulator.stats.connects, 0);
        const shown = statusHistory('post').map((s) => s.text);
        assert.ok(!shown.includes(STATUS.connected));
        // Any minute holds at most two logins: the first retry waits at least half of 60 s, and each
        // later one at least half of twice the previous nominal delay (60 s, 120 s, ... up to 600 s).
        const perMinute = firstRetryInS >= 60 ? 1 : 2;

        report('wrong key (defaults)', {
          '"auth failed" shown after ms': shownAfterMs,
          [`CONNECTs in ${WATCH_MS / 1000} s`]: refusals.length,
          'first retry scheduled after s': firstRetryInS,
          'CONNECTs in any minute, at most': perMinute,
        });
      } finally {
        await captureAndUnload();
      }
    });

    it('waits longer after each refusal (the default policy scaled down 600 times)', async () => {
      const scale = 600;
      const authFailedDelayMs = DEFAULTS.authFailedDelayMs / scale;
      const refusals: number[] = [];
      emulator.on('client-refused', (event: ClientRefusedEvent) => {
        if (event.clientId === device!.ref.deviceName) refusals.push(Date.now());
      });
      const connection = new DeviceConnection(
        { host: emulator.host, port: emulator.port, ...device!.ref },
        { key: newKey(), tls: false, reconnect: { authFailedDelayMs } },
      );
      const states: string[] = [];
      connection.on('status', (status: ConnectionStatus) => {
        states.push(status.state);
        transcript.add('connection status', status);
      });
      try {
        connection.connect();
        await waitFor(() => refusals.length >= 5, 'five refused logins', 5000);
      } finally {
        await connection.close();
      }
      const gaps = refusals.slice(1, 5).map((at, i) => at - refusals[i]!);
      gaps.forEach((gap, i) => {
        const nominal = authFailedDelayMs * 2 ** i;
        assert.ok(gap >= nominal / 2 - 5, `gap ${i + 1} is ${gap} ms, at least half of ${nominal}`);
        if (i > 0) assert.ok(gap >= gaps[i - 1]! - 5, `gaps grow: ${gaps.join(', ')} ms`);
      });
      assert.ok(!states.includes('connected'));
      report('wrong key (policy ×1/600)', {
        'gaps between CONNECTs ms': gaps.join(' / '),
        'same at the shipped defaults s': gaps.map((gap) => Math.round((gap * scale) / 1000)).join(' / '),
      });
    });
  });
}
