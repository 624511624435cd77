import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { DeviceConnection, ONENET_CA } from '../../src/connection';
import { buildClientOptions, signLogin } from '../../src/connection/client-options';
import { conflictingSettings, identityKey, resolveOptions } from '../../src/connection/options';
import { verifyToken, deviceResource } from '../../src/protocol';
import { newKey, PRODUCT } from './helpers';

const identity = { host: 'mqttstls.heclouds.com', port: 8883, productId: PRODUCT, deviceName: 'dev1' };

describe('connection / options', () => {
  it('fills in the documented defaults', () => {
    const resolved = resolveOptions({ key: newKey() });
    assert.equal(resolved.signMethod, 'sha256');
    assert.equal(resolved.tokenTtlSeconds, 2_592_000);
    assert.equal(resolved.keepaliveSeconds, 120);
    assert.equal(resolved.tls, true);
    assert.equal(resolved.offlinePolicy, 'fail');
    assert.equal(resolved.queueLimit, 1000);
    assert.equal(resolved.queueMaxAgeMs, 60_000);
    assert.equal(resolved.requestTimeoutMs, 5000);
  });

  it('refuses keepalive outside 10..1800 s and other nonsense, never quoting the key', () => {
    const key = newKey();
    for (const keepaliveSeconds of [9, 1801, 0, 12.5]) {
      assert.throws(() => resolveOptions({ key, keepaliveSeconds }), /keepalive must be 10\.\.1800/);
    }
    assert.throws(() => resolveOptions({ key, offlinePolicy: 'drop' as never }), /offline policy/);
    assert.throws(() => resolveOptions({ key, offlinePolicy: 'store' }), /needs a store directory/);
    assert.throws(
      () => resolveOptions({ key, offlinePolicy: 'store', store: { dir: '/tmp/x', maxBytes: -1 } }),
      /store size/,
    );
    assert.throws(() => resolveOptions({ key, queueLimit: 0 }), /queue limit/);
    assert.throws(() => resolveOptions({ key, signMethod: 'sha512' as never }), /sign method/);
    assert.throws(() => resolveOptions({ key: '' }), /device key is required/);
    const badKey = 'not base64 at all!';
    assert.throws(
      () => resolveOptions({ key: badKey }),
      (err: Error) => /base64/.test(err.message) && !err.message.includes(badKey),
    );
  });

  it('refuses identities OneNET cannot log in with', () => {
    const key = newKey();
    assert.throws(() => new DeviceConnection({ ...identity, deviceName: 'a/b' }, { key }), /device name/);
    assert.throws(() => new DeviceConnection({ ...identity, productId: '' }, { key }), /product id/);
    assert.throws(() => new DeviceConnection({ ...identity, port: 70000 }, { key }), /port/);
    assert.throws(() => new DeviceConnection({ ...identity, host: ' ' }, { key }), /host/);
  });

  it('keys identities by host (case-insensitive), port, product and device', () => {
    assert.equal(
      identityKey({ ...identity, host: 'MQTTSTLS.heclouds.com' }),
      'mqttstls.heclouds.com:8883/Ck2AF9QD2K/dev1',
    );
    const connection = new DeviceConnection(identity, { key: newKey() });
    assert.equal(connection.key, 'mqttstls.heclouds.com:8883/Ck2AF9QD2K/dev1');
    assert.deepEqual(connection.status(), { state: 'disconnected', queueDepth: 0 });
  });

  it('names the login settings two users disagree on, and only their names', () => {
    const a = resolveOptions({ key: newKey(), tls: { ca: 'A' } });
    assert.deepEqual(conflictingSettings(a, resolveOptions({ key: a.key, tls: { ca: 'A' } })), []);
    assert.deepEqual(
      conflictingSettings(a, resolveOptions({ key: a.key, tls: { ca: Buffer.from('A') } })),
      [],
      'same PEM',
    );
    assert.deepEqual(conflictingSettings(a, resolveOptions({ key: a.key, tls: { ca: Buffer.from('B') } })), [
      'TLS',
    ]);
    const b = resolveOptions({ key: newKey(), tls: true, keepaliveSeconds: 60, offlinePolicy: 'queue' });
    assert.deepEqual(conflictingSettings(a, b), ['key', 'TLS', 'keepalive']);
  });
});

describe('connection / client options', () => {
  it('logs in as OneNET requires: MQTT 3.1.1, clean session, no will, no MQTT.js reconnect', () => {
    const resolved = resolveOptions({ key: newKey(), tls: false, keepaliveSeconds: 30 });
    const options = buildClientOptions(identity, resolved, 'TOKEN');
    assert.equal(options.protocol, 'mqtt');
    assert.equal(options.protocolVersion, 4);
    assert.equal(options.clean, true);
    assert.equal(options.will, undefined);
    assert.equal(options.clientId, 'dev1');
    assert.equal(options.username, PRODUCT);
    assert.equal(options.password, 'TOKEN');
    assert.equal(options.keepalive, 30);
    assert.equal(options.reconnectPeriod, 0);
  });

  it('with tls: true trusts only the bundled OneNET CA and skips the host name check', () => {
    const options = buildClientOptions(identity, resolveOptions({ key: newKey() }), 'TOKEN');
    assert.equal(options.protocol, 'mqtts');
    assert.deepEqual(options.ca, [ONENET_CA]);
    assert.equal(options.rejectUnauthorized, true);
    assert.equal(options.servername, 'mqttstls.heclouds.com');
    const { checkServerIdentity } = options as TlsConnectionOptions;
    assert.equal(typeof checkServerIdentity, 'function');
    assert.equal(checkServerIdentity!('other.example', {} as never), undefined);
    const ca = new X509Certificate(ONENET_CA);
    assert.equal(
      ca.fingerprint256,
      '7D:E9:BC:4C:1A:ED:01:34:46:67:64:56:78:D4:49:74:12:10:B1:70:49:48:98:38:BF:63:79:53:B3:E9:01:17',
    );
    assert.match(ca.subject, /CN=OneNET MQTTS/);
  });

  it('with TLS options uses exactly those', () => {
    const tls = { ca: 'PEM', rejectUnauthorized: false };
    const options = buildClientOptions(identity, resolveOptions({ key: newKey(), tls }), 'TOKEN');
    assert.equal(options.protocol, 'mqtts');
    assert.equal(options.ca, 'PEM');
    assert.equal(options.rejectUnauthorized, false);
    assert.equal((options as TlsConnectionOptions).checkServerIdentity, undefined);
  });

  it('signs a fresh token valid for at least tokenTtlSeconds', () => {
    const resolved = resolveOptions({ key: newKey(), tokenTtlSeconds: 100, signMethod: 'sha1' });
    const now = 1_700_000_000_500;
    const login = signLogin(identity, resolved, now);
    assert.equal(login.expiresAt, 1_700_000_101_000);
    const verified = verifyToken(login.token, {
      acceptedResources: [deviceResource(PRODUCT, 'dev1')],
      keys: [resolved.key],
      nowSeconds: now / 1000,
    });
    assert.ok(verified.ok);
    assert.equal(verified.fields.method, 'sha1');
    assert.notEqual(signLogin(identity, resolved, now + 1000).token, login.token);
    const again = signLogin(identity, resolved, now, login.expiresAt / 1000 + 1);
    assert.notEqual(again.token, login.token, 'a second login within the same second still gets a new token');
    assert.equal(again.expiresAt, login.expiresAt + 1000);
  });
});
