import assert from 'node:assert/strict';
import type { ConnectionStatus, DownlinkErrorEvent } from '../../src/connection';
import { generateTestCertificate, type ClientConnectedEvent } from '../../src/emulator';
import { delay, Harness, newKey, record, waitForStatus } from './helpers';

describe('connection / TLS and secrets', function () {
  let harness: Harness;
  let cert: string;

  beforeEach(async () => {
    const { key, cert: freshCert } = await generateTestCertificate();
    cert = freshCert;
    harness = await Harness.start({ tls: { key, cert } });
  });

  afterEach(async () => {
    await harness.close();
  });

  it('connects over TLS with the TLS options it is given', async () => {
    const device = harness.device('tls-dev', harness.emulator.tlsPort!);
    const connection = await harness.connected(device, { tls: { ca: cert } });
    assert.equal((await connection.request('property-post', { t: 1 })).code, 200);
  });

  it('with tls: true trusts only the OneNET CA, so a foreign certificate fails cleanly', async () => {
    const device = harness.device('tls-dev', harness.emulator.tlsPort!);
    const connection = harness.connection(device, { tls: true });
    connection.connect();
    const status = await waitForStatus(
      connection,
      (s) => s.state === 'disconnected' && s.lastError !== undefined,
    );
    assert.match(status.lastError!, /^TLS: .*certificate/i);
    assert.equal(harness.emulator.stats.connects, 0);
  });

  it('never puts the key or a token in a status, an error or an event', async () => {
    const device = harness.device();
    const tokens = record<ClientConnectedEvent>(harness.emulator, 'client-connected');
    const texts: string[] = [];
    const watch = (connection: ReturnType<Harness['connection']>): void => {
      connection.on('status', (status: ConnectionStatus) => texts.push(JSON.stringify(status)));
      connection.on('downlink-error', (event: DownlinkErrorEvent) => texts.push(JSON.stringify(event)));
    };
    // A good session with traffic, a drop, a failed request and a malformed command.
    const good = await harness.connected(device, { offlinePolicy: 'fail' });
    watch(good);
    await good.request('property-post', { t: 1 });
    harness.emulator.failReplies(303);
    await good
      .request('property-post', { t: 2 })
      .catch((err: Error) => texts.push(err.message, String(err.stack)));
    harness.emulator.failReplies(undefined);
    harness.emulator.dropDevice(device.ref);
    await good.request('property-post', { t: 3 }).catch((err: Error) => texts.push(err.message));
    await waitForStatus(good, (s) => s.state === 'connected');
    await harness.emulator.setProperty(device.ref, { a: 1 });
    // A wrong key (auth failure) and a TLS failure.
    const wrongKey = newKey();
    const refused = harness.connection(
      { ...harness.device(), key: wrongKey },
      { reconnect: { authFailedDelayMs: 5000 } },
    );
    watch(refused);
    refused.connect();
    await waitForStatus(refused, (s) => s.state === 'auth-failed');
    await refused.request('property-post', { t: 1 }).catch((err: Error) => texts.push(err.message));
    const tlsDevice = harness.device('tls-secret', harness.emulator.tlsPort!);
    const tlsFailing = harness.connection(tlsDevice, { tls: true });
    watch(tlsFailing);
    tlsFailing.connect();
    await waitForStatus(tlsFailing, (s) => s.lastError !== undefined);
    await delay(50);
    tokens.stop();
    const secrets = [device.key, wrongKey, tlsDevice.key, ...tokens.values.map((t) => t.token)];
    assert.ok(tokens.values.length >= 2 && texts.length > 5);
    for (const text of texts) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `a secret leaked into: ${text}`);
      assert.doesNotMatch(text, /sign=|version=2018/, `token material leaked into: ${text}`);
    }
  });
});
