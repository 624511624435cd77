import assert from 'node:assert/strict';
import * as path from 'node:path';
import {
  DeviceConfigError,
  describeDevice,
  storeDirOf,
  toDeviceSettings,
  type DeviceConfigDef,
} from '../../src/node-red/device-settings';

const KEY = 'c2VjcmV0LWRldmljZS1rZXktZm9yLXRlc3Rz';

function def(overrides: Partial<DeviceConfigDef> = {}): DeviceConfigDef {
  return { id: 'cfg', type: 'onenet-device', productId: 'Prod01', deviceName: 'dev-1', ...overrides };
}

describe('onenet-device settings mapping', () => {
  it('fills the contract defaults: TLS on, OneNET TLS host and port, sha256, 30 days, keepalive 120, fail', () => {
    const { identity, options } = toDeviceSettings(def(), KEY);
    assert.deepEqual(identity, {
      host: 'mqttstls.heclouds.com',
      port: 8883,
      productId: 'Prod01',
      deviceName: 'dev-1',
    });
    assert.deepEqual(options, {
      key: KEY,
      signMethod: 'sha256',
      tokenTtlSeconds: 2592000,
      keepaliveSeconds: 120,
      tls: true,
      offlinePolicy: 'fail',
      uplinkRate: 1,
    });
  });

  it('reads the uplink rate: empty means 1 a second, 0 no limit, fractions allowed, nonsense refused', () => {
    const rate = (uplinkRate: string | number | undefined): number | undefined =>
      toDeviceSettings(def(uplinkRate === undefined ? {} : { uplinkRate }), KEY).options.uplinkRate;
    assert.equal(rate(undefined), 1);
    assert.equal(rate(''), 1);
    assert.equal(rate('0'), 0);
    assert.equal(rate('0.5'), 0.5);
    assert.equal(rate(5), 5);
    for (const bad of ['-1', 'fast', '1001']) {
      assert.throws(() => rate(bad), /uplink rate must be a number of messages per second/);
    }
  });

  it('reads the queue limit and the offline max age (seconds); empty leaves the connection defaults', () => {
    const options = (overrides: Partial<DeviceConfigDef>) => toDeviceSettings(def(overrides), KEY).options;
    for (const blank of [{}, { queueLimit: '', queueMaxAge: ' ' }]) {
      assert.equal(options(blank).queueLimit, undefined);
      assert.equal(options(blank).queueMaxAgeMs, undefined);
    }
    assert.equal(options({ queueLimit: '30000' }).queueLimit, 30000);
    assert.equal(options({ queueLimit: 2 }).queueLimit, 2);
    assert.equal(options({ queueMaxAge: '90' }).queueMaxAgeMs, 90_000);
    for (const bad of ['0', '1.5', 'many', '1000001']) {
      assert.throws(
        () => options({ queueLimit: bad }),
        (err: unknown) =>
          err instanceof DeviceConfigError &&
          /^queue limit must be a whole number, 1\.\.1000000/.test(err.message),
      );
    }
    for (const bad of ['0', '86401', '2.5', 'soon']) {
      assert.throws(
        () => options({ queueMaxAge: bad }),
        (err: unknown) =>
          err instanceof DeviceConfigError &&
          /^offline max age \(s\) must be a whole number, 1\.\.86400/.test(err.message),
      );
    }
  });

  it('uses the plain host and port 1883 when TLS is off (boolean or the string "false")', () => {
    for (const tls of [false, 'false'] as const) {
      const { identity, options } = toDeviceSettings(def({ tls }), KEY);
      assert.equal(identity.host, 'mqtts.heclouds.com');
      assert.equal(identity.port, 1883);
      assert.equal(options.tls, false);
    }
  });

  it('takes host, port, keepalive, token lifetime and sign method from the editor strings', () => {
    const { identity, options } = toDeviceSettings(
      def({
        host: ' 127.0.0.1 ',
        port: '18830',
        tls: false,
        keepalive: '30',
        tokenTtl: '3600',
        signMethod: 'md5',
      }),
      KEY,
    );
    assert.equal(identity.host, '127.0.0.1');
    assert.equal(identity.port, 18830);
    assert.equal(options.keepaliveSeconds, 30);
    assert.equal(options.tokenTtlSeconds, 3600);
    assert.equal(options.signMethod, 'md5');
  });

  it('passes the options of a tls-config node through only while TLS is on', () => {
    const tlsOptions = { ca: 'CA', rejectUnauthorized: true };
    assert.equal(toDeviceSettings(def(), KEY, tlsOptions).options.tls, tlsOptions);
    assert.equal(toDeviceSettings(def({ tls: false }), KEY, tlsOptions).options.tls, false);
  });

  it('maps offlinePolicy "queue" and treats anything else, including a missing property, as "fail"', () => {
    assert.equal(toDeviceSettings(def({ offlinePolicy: 'queue' }), KEY).options.offlinePolicy, 'queue');
    assert.equal(toDeviceSettings(def({ offlinePolicy: 'bogus' }), KEY).options.offlinePolicy, 'fail');
    assert.equal(toDeviceSettings(def(), KEY).options.offlinePolicy, 'fail');
  });

  it('maps offlinePolicy "store" with its bounds (100 MB and 30 days when empty), the directory left to the node', () => {
    const stored = toDeviceSettings(def({ offlinePolicy: 'store' }), KEY).options;
    assert.equal(stored.offlinePolicy, 'store');
    assert.deepEqual(stored.store, { dir: '', maxBytes: 100 * 1024 * 1024, maxAgeMs: 30 * 86_400_000 });
    const sized = toDeviceSettings(def({ offlinePolicy: 'store', storeSizeMb: '5', storeAgeDays: 2 }), KEY);
    assert.deepEqual(sized.options.store, { dir: '', maxBytes: 5 * 1024 * 1024, maxAgeMs: 2 * 86_400_000 });
    assert.throws(
      () => toDeviceSettings(def({ offlinePolicy: 'store', storeSizeMb: '0' }), KEY),
      /store size \(MB\) must be a whole number/,
    );
    assert.equal(toDeviceSettings(def({ offlinePolicy: 'queue' }), KEY).options.store, undefined);
  });

  it("puts each identity's store in its own directory under the user directory, safe for any file system", () => {
    const identity = { host: 'MQTTS.heclouds.com', port: 1883, productId: 'P1', deviceName: 'dev:1/x' };
    assert.equal(
      storeDirOf('/data', identity),
      path.join('/data', 'onenet-store', 'P1', 'dev%3a1%2fx@mqtts.heclouds.com_1883'),
    );
    assert.notEqual(storeDirOf('/data', identity), storeDirOf('/data', { ...identity, deviceName: 'dev2' }));
  });

  const refusals: Array<[string, Partial<DeviceConfigDef>, RegExp]> = [
    ['an empty product id', { productId: '' }, /product id is required/],
    ['a product id with a slash', { productId: 'a/b' }, /product id/],
    ['a device name with a slash', { deviceName: 'a/b' }, /device name/],
    ['port 70000', { port: '70000' }, /port must be a whole number, 1\.\.65535/],
    ['port "abc"', { port: 'abc' }, /port/],
    ['keepalive 5', { keepalive: 5 }, /keepalive must be a whole number, 10\.\.1800/],
    ['keepalive 1801', { keepalive: '1801' }, /keepalive/],
    ['token lifetime 10 s', { tokenTtl: '10' }, /token lifetime must be a whole number, at least 60/],
    ['sign method sha512', { signMethod: 'sha512' }, /sign method must be one of md5, sha1, sha256/],
  ];
  for (const [what, overrides, message] of refusals) {
    it(`refuses ${what} with a message naming the field`, () => {
      assert.throws(
        () => toDeviceSettings(def(overrides), KEY),
        (err: unknown) => {
          assert.ok(err instanceof DeviceConfigError);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  it('refuses a missing or blank key without echoing anything secret', () => {
    for (const key of [undefined, '', '   ']) {
      assert.throws(() => toDeviceSettings(def(), key), /device key is missing/);
    }
  });

  it('never puts the key into an error message', () => {
    try {
      toDeviceSettings(def({ port: 'nope' }), KEY);
      assert.fail('expected a config error');
    } catch (err) {
      assert.ok(!(err as Error).message.includes(KEY));
    }
  });

  describe('with a product (onenet-product)', () => {
    const PRODUCT_KEY = 'cHJvZHVjdC1hY2Nlc3Mta2V5LWZvci10ZXN0cw==';

    it("takes the product's id when the device's is empty, and accepts the same id", () => {
      const product = { productId: 'Prod02', key: PRODUCT_KEY };
      assert.equal(
        toDeviceSettings(def({ productId: '' }), KEY, undefined, product).identity.productId,
        'Prod02',
      );
      assert.equal(
        toDeviceSettings(def({ productId: ' Prod02 ' }), KEY, undefined, product).identity.productId,
        'Prod02',
      );
    });

    it("refuses a device whose own Product ID differs from the product's, naming both", () => {
      assert.throws(
        () => toDeviceSettings(def({ productId: 'Prod01' }), KEY, undefined, { productId: 'Prod02' }),
        (err: unknown) =>
          err instanceof DeviceConfigError && /"Prod01" differs from "Prod02"/.test(err.message),
      );
    });

    it('signs with its own key when it has one, else with the product key', () => {
      const product = { productId: 'Prod01', key: PRODUCT_KEY };
      assert.equal(toDeviceSettings(def(), KEY, undefined, product).options.key, KEY);
      assert.equal(toDeviceSettings(def(), undefined, undefined, product).options.key, PRODUCT_KEY);
      assert.equal(toDeviceSettings(def(), '  ', undefined, product).options.key, PRODUCT_KEY);
    });

    it('says where a key can go when neither has one, without echoing anything secret', () => {
      assert.throws(
        () => toDeviceSettings(def(), undefined, undefined, { productId: 'Prod01' }),
        /device key is missing: .*or the product access_key into its product config node/,
      );
    });

    it('refuses a product whose id is not valid', () => {
      assert.throws(
        () => toDeviceSettings(def({ productId: '' }), KEY, undefined, { productId: 'a b' }),
        /the product config node chosen for this device: product id must be letters and digits only/,
      );
    });
  });

  it('describes a device as productId/deviceName', () => {
    assert.equal(describeDevice(toDeviceSettings(def(), KEY).identity), 'Prod01/dev-1');
  });
});
