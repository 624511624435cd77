import assert from 'node:assert/strict';
import {
  computeSignature,
  deviceResource,
  parseToken,
  productResource,
  signToken,
  verifyToken,
  type SignMethod,
} from '../../src/protocol';

// Golden vectors from shared/onenet-protocol.md §2.5; each was checked against its source there.
const DOC_KEY = 'KuF3NT/jUBJ62LNBB/A8XZA9CqS3Cu79B/ABmfA1UCw=';
const FAR_FUTURE = 32472115200;

interface Vector {
  name: string;
  key: string;
  res: string;
  et: number;
  method: string;
  version: string;
  token: string;
}

const DEVICE_RES = 'products/Ck2AF9QD2K/devices/test';
const VECTORS: Vector[] = [
  {
    name: 'V1 product level sha1',
    key: DOC_KEY,
    res: 'products/123123',
    et: 1537255523,
    method: 'sha1',
    version: '2018-10-31',
    token:
      'version=2018-10-31&res=products%2F123123&et=1537255523&method=sha1&sign=lsaPSiiGvEFFjXu5WU7a6IkScqE%3D',
  },
  {
    name: 'V2 device md5',
    key: DOC_KEY,
    res: DEVICE_RES,
    et: FAR_FUTURE,
    method: 'md5',
    version: '2018-10-31',
    token:
      'version=2018-10-31&res=products%2FCk2AF9QD2K%2Fdevices%2Ftest&et=32472115200&method=md5&sign=htDD26UhXtXayMFAWRmNiA%3D%3D',
  },
  {
    name: 'V3 device sha1',
    key: DOC_KEY,
    res: DEVICE_RES,
    et: FAR_FUTURE,
    method: 'sha1',
    version: '2018-10-31',
    token:
      'version=2018-10-31&res=products%2FCk2AF9QD2K%2Fdevices%2Ftest&et=32472115200&method=sha1&sign=onzQlILHFFNqIY%2BdOXYM3lthLT8%3D',
  },
  {
    name: 'V4 device sha256',
    key: DOC_KEY,
    res: DEVICE_RES,
    et: FAR_FUTURE,
    method: 'sha256',
    version: '2018-10-31',
    token:
      'version=2018-10-31&res=products%2FCk2AF9QD2K%2Fdevices%2Ftest&et=32472115200&method=sha256&sign=6Y4zbk3Sa89tRf9lMxCCE0jG74uEcEuu%2Fnly1pU9ADM%3D',
  },
  {
    name: 'V5 device upper-case MD5',
    key: DOC_KEY,
    res: DEVICE_RES,
    et: FAR_FUTURE,
    method: 'MD5',
    version: '2018-10-31',
    token:
      'version=2018-10-31&res=products%2FCk2AF9QD2K%2Fdevices%2Ftest&et=32472115200&method=MD5&sign=y215sMm9evP3NThz5QRsiA%3D%3D',
  },
  {
    name: 'V6 device sha256 version 2022-05-01',
    key: DOC_KEY,
    res: DEVICE_RES,
    et: FAR_FUTURE,
    method: 'sha256',
    version: '2022-05-01',
    token:
      'version=2022-05-01&res=products%2FCk2AF9QD2K%2Fdevices%2Ftest&et=32472115200&method=sha256&sign=N41Pmx3YpLyOoc9jtyCFPJX1etO8MxfcCr7xHYw40ws%3D',
  },
  {
    name: 'V7 numeric product md5 (11-byte key)',
    key: 'adfasdfadsfadsf=',
    res: 'products/12342334/devices/test',
    et: FAR_FUTURE,
    method: 'md5',
    version: '2018-10-31',
    token:
      'version=2018-10-31&res=products%2F12342334%2Fdevices%2Ftest&et=32472115200&method=md5&sign=wZWDnoyHugla0wMlcl75xg%3D%3D',
  },
  {
    name: 'V7 numeric product sha1',
    key: 'adfasdfadsfadsf=',
    res: 'products/12342334/devices/test',
    et: FAR_FUTURE,
    method: 'sha1',
    version: '2018-10-31',
    token:
      'version=2018-10-31&res=products%2F12342334%2Fdevices%2Ftest&et=32472115200&method=sha1&sign=FHt8BqSNGv0VEJKbHN4zod6a69Q%3D',
  },
  {
    name: 'V8 user level 2022-05-01 sha1',
    key: '720e323b10d54d3a8cdbe5dd4e641052',
    res: 'userid/511932',
    et: 1770000000,
    method: 'sha1',
    version: '2022-05-01',
    token:
      'version=2022-05-01&res=userid%2F511932&et=1770000000&method=sha1&sign=xRvkt1q2HU7quic8C8xb28%2BdrQ4%3D',
  },
  {
    name: 'extra sha256 with / + = in sign',
    key: DOC_KEY,
    res: 'products/123123/devices/mydev',
    et: 1537255523,
    method: 'sha256',
    version: '2018-10-31',
    token:
      'version=2018-10-31&res=products%2F123123%2Fdevices%2Fmydev&et=1537255523&method=sha256&sign=dL9mxHdJXyd2TZcmTna60TMUei2dYU5W6iOow7fH%2F7w%3D',
  },
  {
    name: 'extra che1 sha1',
    key: DOC_KEY,
    res: 'products/123123/devices/che1',
    et: 1537255523,
    method: 'sha1',
    version: '2018-10-31',
    token:
      'version=2018-10-31&res=products%2F123123%2Fdevices%2Fche1&et=1537255523&method=sha1&sign=N5PgE6RT3FHPOfo6d%2BrjrDKXRPc%3D',
  },
  {
    name: 'extra C-SDK defaults',
    key: DOC_KEY,
    res: DEVICE_RES,
    et: 2524579200,
    method: 'sha1',
    version: '2018-10-31',
    token:
      'version=2018-10-31&res=products%2FCk2AF9QD2K%2Fdevices%2Ftest&et=2524579200&method=sha1&sign=7P5uPE%2BP%2FXzQkERc7r7xV0rtDMs%3D',
  },
];

const SIGN_ONLY = [
  {
    res: 'products/123123/devices/mydev',
    method: 'sha1',
    version: '2018-10-31',
    sign: 'p2Bv5QYrZolQCtt68923gtxRCVk=',
  },
  { res: 'userid/12321', method: 'md5', version: '2018-10-31', sign: 'iNAy/Ynb+OP/q+pA1Z2YuQ==' },
  { res: 'userid/12321', method: 'sha1', version: '2020-05-29', sign: 'oyasoXdLw7eiH+sDM4QrlF59LvE=' },
  { res: 'userid/12321', method: 'sha1', version: '2022-05-01', sign: 'EWI3xcVT+9vvnk/WOel6VYmSU4I=' },
];

describe('protocol/token', () => {
  describe('golden vectors (onenet-protocol.md §2.5)', () => {
    for (const v of VECTORS) {
      it(`signs ${v.name}`, () => {
        const token = signToken({
          key: v.key,
          res: v.res,
          et: v.et,
          method: v.method as SignMethod,
          version: v.version,
        });
        assert.equal(token, v.token);
      });
      it(`parses ${v.name} back to its fields`, () => {
        const parsed = parseToken(v.token);
        assert.ok(parsed.ok);
        assert.deepEqual(
          {
            res: parsed.fields.res,
            et: parsed.fields.et,
            method: parsed.fields.method,
            version: parsed.fields.version,
          },
          { res: v.res, et: v.et, method: v.method, version: v.version },
        );
        assert.equal(computeSignature(v.key, parsed.fields), parsed.fields.sign);
      });
    }
    for (const v of SIGN_ONLY) {
      it(`computes sign for ${v.res} ${v.method} ${v.version}`, () => {
        assert.equal(
          computeSignature(DOC_KEY, { res: v.res, et: 1537255523, method: v.method, version: v.version }),
          v.sign,
        );
      });
    }
  });

  describe('verifyToken', () => {
    const res = deviceResource('Ck2AF9QD2K', 'test');
    const now = 1_800_000_000;
    const good = signToken({ key: DOC_KEY, res, et: now + 60 });
    const options = { acceptedResources: [res], keys: [DOC_KEY], nowSeconds: now };

    it('accepts a fresh token signed with the device key', () => {
      assert.equal(verifyToken(good, options).ok, true);
    });
    it('accepts the product key among several keys', () => {
      const productKey = Buffer.from('product-key-bytes').toString('base64');
      const token = signToken({ key: productKey, res, et: now + 60, method: 'md5' });
      assert.equal(verifyToken(token, { ...options, keys: [DOC_KEY, productKey] }).ok, true);
    });
    it('accepts a product-level res when offered', () => {
      const token = signToken({ key: DOC_KEY, res: productResource('Ck2AF9QD2K'), et: now + 60 });
      assert.equal(
        verifyToken(token, { ...options, acceptedResources: [res, productResource('Ck2AF9QD2K')] }).ok,
        true,
      );
    });
    it('refuses an expired token with log code 1104', () => {
      const expired = signToken({ key: DOC_KEY, res, et: now - 1 });
      assert.deepEqual(pick(verifyToken(expired, options)), { ok: false, logCode: 1104 });
    });
    it('refuses a tampered sign with 1106', () => {
      const tampered = good.replace(
        /sign=[^&]+/,
        'sign=' + encodeURIComponent(Buffer.alloc(32, 1).toString('base64')),
      );
      assert.deepEqual(pick(verifyToken(tampered, options)), { ok: false, logCode: 1106 });
    });
    it('refuses a token whose et was changed after signing', () => {
      const stretched = good.replace(/et=\d+/, `et=${now + 999999}`);
      assert.deepEqual(pick(verifyToken(stretched, options)), { ok: false, logCode: 1106 });
    });
    it('refuses a token for another device with 1114', () => {
      const other = signToken({ key: DOC_KEY, res: deviceResource('Ck2AF9QD2K', 'other'), et: now + 60 });
      assert.deepEqual(pick(verifyToken(other, options)), { ok: false, logCode: 1114 });
    });
    it('refuses the wrong key with 1106', () => {
      assert.deepEqual(pick(verifyToken(good, { ...options, keys: [Buffer.from('x').toString('base64')] })), {
        ok: false,
        logCode: 1106,
      });
    });
    it('refuses unsupported versions and methods', () => {
      const v2022 = signToken({ key: DOC_KEY, res, et: now + 60, version: '2022-05-01' });
      assert.deepEqual(pick(verifyToken(v2022, options)), { ok: false, logCode: 1111 });
      const upper = good.replace('method=sha256', 'method=SHA256');
      assert.deepEqual(pick(verifyToken(upper, options)), { ok: false, logCode: 1110 });
    });
    it('refuses malformed tokens with 1103', () => {
      for (const bad of ['', 'nonsense', 'version=2018-10-31&res=x', 'a=%E0%A4%A', `${good}&et`]) {
        assert.deepEqual(pick(verifyToken(bad, options)), { ok: false, logCode: 1103 }, bad);
      }
    });
    it('never echoes any part of a malformed token (a pasted key must not leak)', () => {
      const pastedKey = 'S3cr3tKeyMaterialABCDEFGHIJKLMNOPQRSTUV/+==';
      for (const bad of [pastedKey, `version=1&${pastedKey}`, `res=%E0%A4%A&x=${pastedKey}`]) {
        const parsed = parseToken(bad);
        assert.ok(!parsed.ok);
        if (!parsed.ok)
          assert.ok(!parsed.reason.includes('S3cr3t') && !parsed.reason.includes('%E0'), parsed.reason);
      }
    });
    it('throws on an unsupported sign method when signing', () => {
      assert.throws(
        () => signToken({ key: DOC_KEY, res, et: 1, method: 'sha512' as SignMethod }),
        /unsupported sign method/,
      );
    });
  });
});

function pick(result: { ok: boolean; logCode?: number }): { ok: boolean; logCode?: number } {
  return result.ok ? { ok: true } : { ok: false, logCode: result.logCode };
}
