import assert from 'node:assert/strict';
import {
  ConnectionPool,
  OneNetRequestError,
  type ConnectionStatus,
  type DeviceConnection,
} from '../../src/connection';
import type { ClientDisconnectedEvent, OneNetEmulator, UplinkRecord } from '../../src/emulator';
import { report } from './figures';
import { transcript } from './ledger';
import { delay, makeDevices, startEmulator, waitFor } from './support';

const DEVICES = 5;
const TOKEN_TTL_SECONDS = 5;
const RUN_MS = 16_000;
const POST_INTERVAL_MS = 100;
/** The platform revokes a token early this often (a session older than the kick window is picked). */
const REVOKE_EVERY_MS = 2500;

/**
 * Issue 7, scenario 2, on the connection layer (Node-RED's device node does not accept a token
 * lifetime under 60 s): 5 devices whose tokens live 5 s post for 16 s. The client renews each token
 * before it runs out, and the platform also revokes tokens early now and then. Every login must use a
 * fresh token, no login may be refused, and no post may be lost.
 */
export function shortTokens(): void {
  describe('tokens with a 5-second lifetime', function () {
    this.timeout(60_000);
    const devices = makeDevices('token', DEVICES);
    let emulator: OneNetEmulator;
    const pool = new ConnectionPool();

    before(async () => {
      emulator = await startEmulator(devices, { uplinkLogLimit: 1 }); // traced through 'uplink' events instead
    });
    after(async () => {
      await pool.closeAll();
      await emulator.close();
    });

    it('keeps the devices connected through many expiries, a fresh token each login, never auth-failed', async () => {
      const tokens: string[] = [];
      const platformDrops: string[] = [];
      emulator.on('client-connected', (event) => tokens.push(event.token));
      emulator.on('client-disconnected', (event: ClientDisconnectedEvent) =>
        platformDrops.push(event.reason),
      );
      const received = new Map<string, number>();
      emulator.on('uplink', (record: UplinkRecord) => {
        // Ids are unique per device, not across devices.
        const key = `${record.deviceName}/${record.id}`;
        if (record.id !== undefined) received.set(key, (received.get(key) ?? 0) + 1);
      });

      const states: string[] = [];
      let longestGapMs = 0;
      const connections = devices.map((device, i) => {
        const connection = pool.acquire(
          { host: emulator.host, port: emulator.port, ...device.ref },
          { key: device.key, tls: false, tokenTtlSeconds: TOKEN_TTL_SECONDS, offlinePolicy: 'queue' },
          `token-user-${i}`,
        );
        let offlineSince: number | undefined;
        connection.on('status', (status: ConnectionStatus) => {
          states.push(status.state);
          transcript.add('connection status', status);
          if (status.state === 'connected' && offlineSince !== undefined) {
            longestGapMs = Math.max(longestGapMs, Date.now() - offlineSince);
            offlineSince = undefined;
          } else if (status.state !== 'connected' && offlineSince === undefined) {
            offlineSince = Date.now();
          }
        });
        return connection;
      });
      await waitFor(() => connections.every((c) => c.status().state === 'connected'), 'all connected');

      const posts: Array<Promise<{ ok: boolean; key?: string; reason?: string }>> = [];
      const post = (connection: DeviceConnection, n: number): void => {
        posts.push(
          connection.request('property-post', { n }).then(
            (outcome) => ({ ok: true, key: `${connection.identity.deviceName}/${outcome.id}` }),
            (err: unknown) => {
              assert.ok(err instanceof OneNetRequestError);
              transcript.add('request error', err.message);
              return { ok: false, reason: err.reason };
            },
          ),
        );
      };
      let revocations = 0;
      const started = Date.now();
      let lastRevocation = started;
      let n = 0;
      while (Date.now() - started < RUN_MS) {
        for (const connection of connections) post(connection, n++);
        if (Date.now() - lastRevocation >= REVOKE_EVERY_MS) {
          // Only a session past the kick window: an earlier drop would be taken for a duplicate login.
          const old = emulator.connections().find((session) => Date.now() - session.connectedAt > 2200);
          if (old) {
            emulator.expireTokens(old);
            revocations++;
            lastRevocation = Date.now();
          }
        }
        await delay(POST_INTERVAL_MS);
      }
      const outcomes = await Promise.all(posts);

      const delivered = outcomes.filter((o) => o.ok);
      const failed = outcomes.filter((o) => !o.ok);
      const renewals = platformDrops.filter((reason) => reason === 'the device sent DISCONNECT').length;
      const platformExpiries = platformDrops.filter((reason) =>
        /token expired \(its et passed\)/.test(reason),
      );
      assert.equal(emulator.stats.authFailures, 0, 'no login was refused');
      assert.ok(!states.includes('auth-failed'), 'no connection ever showed auth failed');
      assert.equal(new Set(tokens).size, tokens.length, 'every login used a fresh token');
      // A session lives at most about 5 s, so in 16 s each device goes through 3 expiries or more.
      assert.ok(renewals >= DEVICES, `the client renewed tokens itself (${renewals})`);
      assert.ok(
        renewals + revocations >= DEVICES * 3,
        `many expiries (${renewals} renewed, ${revocations} revoked)`,
      );
      assert.deepEqual(platformExpiries, [], 'the client renewed before the platform had to cut a session');
      for (const outcome of delivered)
        assert.equal(received.get(outcome.key!), 1, 'a confirmed post reached the platform once');
      assert.equal(
        [...received.values()].filter((count) => count > 1).length,
        0,
        'no post reached the platform twice',
      );
      assert.ok(longestGapMs < 2000, `never offline for long (longest gap ${longestGapMs} ms)`);
      assert.ok(
        connections.every((c) => c.status().state === 'connected'),
        'all connected at the end',
      );

      report('5 s tokens', {
        devices: DEVICES,
        'run s': RUN_MS / 1000,
        logins: tokens.length,
        'distinct tokens': new Set(tokens).size,
        'renewals before expiry': renewals,
        'early revocations by the platform': revocations,
        'sessions cut by an expired token': platformExpiries.length,
        'auth failures': emulator.stats.authFailures,
        'posts sent': outcomes.length,
        delivered: delivered.length,
        'failed and reported': failed.length,
        lost: outcomes.length - delivered.length - failed.length,
        'longest time not connected ms': longestGapMs,
      });
    });
  });
}
