import assert from 'node:assert/strict';
import { parseToken, verifyToken } from '../../src/protocol';
import { closeAll, connected, startEmulator } from '../emulator/helpers';
import { runToken, type Finished } from './run-bin';

/**
 * `onenet-token` run as a child process, as a user runs it. The expected tokens are copied from the
 * golden vectors of shared/onenet-protocol.md §2.5, not computed here, so a wrong signature, field
 * order or encoding in the tool fails these tests.
 */

const DOC_KEY = 'KuF3NT/jUBJ62LNBB/A8XZA9CqS3Cu79B/ABmfA1UCw=';
const OLD_KEY = 'adfasdfadsfadsf=';
const DEVICE = ['--product', 'Ck2AF9QD2K', '--device', 'test'];
// §2.5: et 32472115200 = 2999-01-01 00:00 +08:00.
const FAR = ['--expires', '32472115200'];

const V1_PRODUCT_SHA1 =
  'version=2018-10-31&res=products%2F123123&et=1537255523&method=sha1&sign=lsaPSiiGvEFFjXu5WU7a6IkScqE%3D';
const V2_MD5 =
  'version=2018-10-31&res=products%2FCk2AF9QD2K%2Fdevices%2Ftest&et=32472115200&method=md5&sign=htDD26UhXtXayMFAWRmNiA%3D%3D';
const V3_SHA1 =
  'version=2018-10-31&res=products%2FCk2AF9QD2K%2Fdevices%2Ftest&et=32472115200&method=sha1&sign=onzQlILHFFNqIY%2BdOXYM3lthLT8%3D';
const V4_SHA256 =
  'version=2018-10-31&res=products%2FCk2AF9QD2K%2Fdevices%2Ftest&et=32472115200&method=sha256&sign=6Y4zbk3Sa89tRf9lMxCCE0jG74uEcEuu%2Fnly1pU9ADM%3D';
const V7_MD5 =
  'version=2018-10-31&res=products%2F12342334%2Fdevices%2Ftest&et=32472115200&method=md5&sign=wZWDnoyHugla0wMlcl75xg%3D%3D';
const V7_SHA1 =
  'version=2018-10-31&res=products%2F12342334%2Fdevices%2Ftest&et=32472115200&method=sha1&sign=FHt8BqSNGv0VEJKbHN4zod6a69Q%3D';

/** Exit 0, exactly the token and a newline on stdout (what `$(...)` keeps), and the key nowhere. */
function assertToken(run: Finished, token: string, key: string): void {
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, `${token}\n`);
  assertKeyHidden(run, key);
}

function assertKeyHidden(run: Finished, key: string): void {
  assert.ok(!run.stdout.includes(key) && !run.stderr.includes(key), 'the key is never printed');
}

/** Exit 2, nothing on stdout, one line on stderr that matches `pattern`, and the key nowhere. */
function assertUsageError(run: Finished, pattern: RegExp, key = DOC_KEY): void {
  assert.equal(run.code, 2, `exit code; stderr: ${run.stderr}`);
  assert.equal(run.stdout, '');
  assert.equal(run.stderr.trimEnd().split('\n').length, 1, `one line: ${run.stderr}`);
  assert.match(run.stderr, /^onenet-token: /);
  assert.match(run.stderr, pattern);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  assertKeyHidden(run, key);
}

describe('onenet-token CLI', function () {
  this.timeout(20_000);

  describe('golden vectors (onenet-protocol.md §2.5)', () => {
    it('V4: device level, sha256 by default, expiry as a date-time with its zone', async () => {
      const run = await runToken([...DEVICE, '--key', DOC_KEY, '--expires', '2999-01-01T00:00:00+08:00']);
      assertToken(run, V4_SHA256, DOC_KEY);
    });

    it('V2: md5, expiry as unix seconds', async () => {
      assertToken(await runToken([...DEVICE, '--key', DOC_KEY, '--method', 'md5', ...FAR]), V2_MD5, DOC_KEY);
    });

    it('V3: sha1 with the key from ONENET_KEY', async () => {
      const run = await runToken([...DEVICE, '--method', 'sha1', ...FAR], { env: { ONENET_KEY: DOC_KEY } });
      assertToken(run, V3_SHA1, DOC_KEY);
    });

    it('V3: sha1 with the key from stdin (--key -), newline and all', async () => {
      const run = await runToken([...DEVICE, '--key', '-', '--method', 'sha1', ...FAR], {
        stdin: `${DOC_KEY}\n`,
      });
      assertToken(run, V3_SHA1, DOC_KEY);
    });

    it('V7: an old numeric product and an 11-byte key, read from stdin without --key', async () => {
      const product = ['--product', '12342334', '--device', 'test', ...FAR];
      assertToken(
        await runToken([...product, '--method', 'md5'], { stdin: `${OLD_KEY}\r\n` }),
        V7_MD5,
        OLD_KEY,
      );
      assertToken(await runToken([...product, '--method', 'sha1'], { stdin: OLD_KEY }), V7_SHA1, OLD_KEY);
    });

    it('V1: product level (--res product), and a warning that this past et is expired', async () => {
      const run = await runToken(
        ['--product', '123123', '--res', 'product', '--method', 'sha1', '--expires', '1537255523'],
        { env: { ONENET_KEY: DOC_KEY } },
      );
      assertToken(run, V1_PRODUCT_SHA1, DOC_KEY);
      assert.match(run.stderr, /res +products\/123123\n/);
      assert.match(run.stderr, /client id the device name/);
      assert.match(run.stderr, /warning: this token expired at 2018-09-18T07:25:23Z/);
    });
  });

  it('describes on stderr what it signed and the MQTT fields to use', async () => {
    const run = await runToken([...DEVICE, '--key', DOC_KEY, ...FAR]);
    assert.equal(run.code, 0);
    assert.match(run.stderr, /res +products\/Ck2AF9QD2K\/devices\/test\n/);
    assert.match(run.stderr, /et +32472115200 = 2998-12-31T16:00:00Z\n/);
    assert.match(run.stderr, /method +sha256\n/);
    assert.match(run.stderr, /version +2018-10-31\n/);
    assert.match(run.stderr, /client id test\n/);
    assert.match(run.stderr, /username +Ck2AF9QD2K\n/);
    assert.doesNotMatch(run.stderr, /warning/);
    assert.ok(!run.stderr.includes(V4_SHA256), 'the token itself stays on stdout');
  });

  it('--ttl and the 30-day default count from now', async () => {
    const cases: Array<{ args: string[]; ttl: number }> = [
      { args: ['--ttl', '600'], ttl: 600 },
      { args: [], ttl: 2_592_000 },
    ];
    for (const { args, ttl } of cases) {
      const before = Math.floor(Date.now() / 1000);
      const run = await runToken([...DEVICE, '--key', DOC_KEY, ...args]);
      const after = Math.ceil(Date.now() / 1000);
      assert.equal(run.code, 0, run.stderr);
      const parsed = parseToken(run.stdout.trimEnd());
      assert.ok(parsed.ok);
      assert.ok(
        parsed.fields.et >= before + ttl && parsed.fields.et <= after + ttl,
        `et ${parsed.fields.et} is ${ttl} s after ${before}..${after}`,
      );
    }
  });

  it('makes a token the emulator accepts as the MQTT password', async () => {
    const device = { productId: 'Ck2AF9QD2K', deviceName: 'cli-made', key: DOC_KEY };
    try {
      const emulator = await startEmulator({ port: 0, devices: [device] });
      const run = await runToken(
        ['--product', device.productId, '--device', device.deviceName, '--ttl', '600'],
        {
          env: { ONENET_KEY: DOC_KEY },
        },
      );
      assert.equal(run.code, 0, run.stderr);
      const token = run.stdout.trimEnd();
      const res = `products/${device.productId}/devices/${device.deviceName}`;
      const checked = verifyToken(token, {
        acceptedResources: [res],
        keys: [DOC_KEY],
        nowSeconds: Math.floor(Date.now() / 1000),
      });
      assert.ok(checked.ok);
      await connected(emulator.port, device, { token });
    } finally {
      await closeAll();
    }
  });

  it('--help prints the usage and exits 0', async () => {
    const run = await runToken(['--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^Usage: onenet-token --product <id> --device <name>/);
    assert.match(run.stdout, /ONENET_KEY/);
  });

  describe('errors: exit 2, one line, never the key', () => {
    const withKey = (...args: string[]): string[] => [...DEVICE, '--key', DOC_KEY, ...args];

    it('a missing --product or --device', async () => {
      assertUsageError(await runToken(['--device', 'test', '--key', DOC_KEY]), /--product <id> is required/);
      assertUsageError(await runToken(['--product', 'P1', '--key', DOC_KEY]), /--device <name> is required/);
      assertUsageError(await runToken([...DEVICE, '--key']), /--key needs a value/);
    });

    it('a product id or device name OneNET would not take', async () => {
      assertUsageError(
        await runToken(['--product', 'a/b', '--device', 'test', '--key', DOC_KEY]),
        /--product: product id must be letters and digits/,
      );
      assertUsageError(
        await runToken(['--product', 'P1', '--device', 'a&b', '--key', DOC_KEY]),
        /--device: device name may use/,
      );
    });

    it('a key that is not base64, from each source', async () => {
      const bad = 'not*a*key!but-secret-material';
      assertUsageError(await runToken([...DEVICE, '--key', bad]), /the --key value is not base64/, bad);
      assertUsageError(await runToken(DEVICE, { env: { ONENET_KEY: bad } }), /ONENET_KEY is not base64/, bad);
      assertUsageError(
        await runToken([...DEVICE, '--key', '-'], { stdin: bad }),
        /key on stdin is not base64/,
        bad,
      );
    });

    it('a key cut short in copying', async () => {
      const cut = DOC_KEY.slice(0, -2);
      assertUsageError(await runToken([...DEVICE, '--key', cut]), /not base64: .*cut short/, cut);
    });

    it('no key at all, or an empty one', async () => {
      assertUsageError(await runToken(DEVICE), /no key: set ONENET_KEY, .* \(stdin was empty\)/);
      assertUsageError(
        await runToken([...DEVICE, '--key', '-'], { stdin: '\n' }),
        /the key on stdin is empty/,
      );
      assertUsageError(await runToken([...DEVICE, '--key', '']), /the --key value is empty/);
    });

    it('a bad date', async () => {
      for (const [date, why] of [
        ['2030-13-01', /--expires: bad date "2030-13-01": no such day/],
        ['2030-02-30', /no such day/],
        ['2030-01-01T08:00', /add the time zone/],
        ['next tuesday', /bad date \(a value of 12 characters, not shown\): use YYYY-MM-DD/],
        ['32472115200000', /after year 9999 \(et is in seconds, not milliseconds\)/],
      ] as const) {
        assertUsageError(await runToken(withKey('--expires', date)), why);
      }
    });

    it('a bad --ttl, or both --ttl and --expires', async () => {
      assertUsageError(await runToken(withKey('--ttl', '0')), /--ttl needs a positive whole number/);
      assertUsageError(await runToken(withKey('--ttl', '1h')), /--ttl needs a positive whole number/);
      assertUsageError(
        await runToken(withKey('--ttl', '60', '--expires', '2030-01-01')),
        /give --expires or --ttl, not both/,
      );
    });

    it('an unknown method, option or --res', async () => {
      assertUsageError(
        await runToken(withKey('--method', 'sha512')),
        /unknown method "sha512": use sha256, sha1 or md5/,
      );
      assertUsageError(await runToken(withKey('--method', 'SHA256')), /unknown method "SHA256"/);
      assertUsageError(await runToken(withKey('--expiry', '2030-01-01')), /unknown option --expiry/);
      assertUsageError(await runToken(withKey('--res', 'user')), /--res must be device or product/);
    });

    it('a key in the wrong place is not quoted back', async () => {
      assertUsageError(await runToken([...DEVICE, DOC_KEY]), /unexpected argument \(not shown\)/);
      assertUsageError(await runToken([...DEVICE, '--method', DOC_KEY]), /unknown method \(a value of 44/);
      assertUsageError(await runToken([...DEVICE, '--expires', DOC_KEY]), /bad date \(a value of 44/);
    });
  });
});
