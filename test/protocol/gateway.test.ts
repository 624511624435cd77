import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  InvalidInputError,
  MAX_IDENTITIES_PER_BATCH,
  MAX_POINTS_PER_SUB_DEVICE,
  MAX_PROPERTIES_PER_SUB_REQUEST,
  MAX_SUB_DEVICES_PER_GATEWAY,
  SUB_DEVICE_REPLY_DEADLINE_MS,
  buildPackPost,
  buildSubLoginRequest,
  buildSubLogoutRequest,
  buildSubPropertyGetReply,
  buildSubPropertyGetRequest,
  buildSubPropertySetReply,
  buildSubPropertySetRequest,
  buildSubServiceInvokeReply,
  buildSubServiceInvokeRequest,
  buildTopoAddRequest,
  buildTopoChangeReply,
  buildTopoChangeRequest,
  buildTopoDeleteRequest,
  buildTopoGetReply,
  buildTopoGetRequest,
  buildTopoGetResult,
  invokeReplyMismatch,
  parseGatewayReply,
  parsePackPost,
  parseSubDownlink,
  parseSubLoginRequest,
  parseSubLogoutRequest,
  parseSubPropertyGetReply,
  parseSubPropertyGetRequest,
  parseSubPropertySetReply,
  parseSubPropertySetRequest,
  parseSubServiceInvokeReply,
  parseSubServiceInvokeRequest,
  parseTopoAddRequest,
  parseTopoChangeReply,
  parseTopoChangeRequest,
  parseTopoDeleteRequest,
  parseTopoGetReply,
  parseTopoGetRequest,
  parseTopoGetResult,
  signSubDeviceToken,
  subServiceInvokeReplyData,
  tokenResEncoding,
  topologyDiff,
  serializeMessage,
  verifySubDeviceToken,
  type SubDeviceIdentity,
} from '../../src/protocol';

// shared/onenet-next.md §Q2 2.3, every payload verbatim.
const TOPO_ADD =
  '{"id":"123","version":"1.0","params":{"deviceName":"device1","productID":"product1","sasToken":"version=2018-10-31&res=products/product1/devices/device1&et=1537255523&method=sha1&sign=ZjA1NzZlMmMxYzIOTg3MjBzNjYTI2MjA4Yw%3D"}}';
const TOPO_ADD_REPLY = '{"id":"123","code":200,"msg":"xxxx"}';
const TOPO_GET = '{"id":"123","version":"1.0"}';
const TOPO_GET_REPLY =
  '{"id":"123","code":200,"msg":"xxxx","data":[{"deviceName":"device1","productID":"product1"},{"deviceName":"device2","productID":"product2"}]}';
const TOPO_GET_RESULT = '{"id":"123","code":200,"msg":"xxxx"}';
const SUB_LOGIN = '{"id":"123","version":"1.0","params":{"productID":"product1","deviceName":"device1"}}';
const SUB_LOGIN_REPLY = '{"id":"123","code":200,"msg":"xxxx"}';
const PACK_POST = `{"id":"123","version":"1.0","params":[{"identity":{"productID":"","deviceName":""},
 "properties":{"Power":{"value":"on","time":1524448722000},"WF":{"value":"3","time":1524448723000}},
 "events":{"alarmEvent1":{"value":{"Power":"on","WF":"2"},"time":1524448722000}}}]}`;
const SUB_GET =
  '{"id":"123","version":"1.0","params":{"deviceName":"device1","productID":"product1","params":["temperature","humidity"]}}';
const SUB_GET_REPLY = '{"id":"123","code":200,"msg":"xxx","data":{"temperature":39.5,"humidity":20}}';
const SUB_SET =
  '{"id":"123","version":"1.0","params":{"deviceName":"device1","productID":"product1","params":{"temperature":"30.5","humidity":"20.5"}}}';
const SUB_SET_REPLY = '{"id":"123","code":200,"msg":"xxxx"}';
const SUB_INVOKE =
  '{"id":"123","version":"1.0","params":{"deviceName":"device1","productID":"product1","identifier":"xxxx","input":{"Power1":"on","WF1":"2"}}}';
const SUB_INVOKE_REPLY =
  '{"id":"123","code":200,"msg":"xxxx","data":{"deviceName":"device1","productID":"product1","identifier":"xxxx","output":{"result1":"on","result2":"2"}}}';
const TOPO_CHANGE =
  '{"id":"123","version":"1.0","params":{"subList":[{"deviceName":"device1","productID":"product1"},{"deviceName":"device2","productID":"product2"}]}}';
const TOPO_CHANGE_REPLY = '{"id":"123","code":200,"msg":"xxxx"}';

const DOC_SAS_TOKEN =
  'version=2018-10-31&res=products/product1/devices/device1&et=1537255523&method=sha1&sign=ZjA1NzZlMmMxYzIOTg3MjBzNjYTI2MjA4Yw%3D';
const DEVICE1: SubDeviceIdentity = { productID: 'product1', deviceName: 'device1' };
const DEVICE2: SubDeviceIdentity = { productID: 'product2', deviceName: 'device2' };

/** onenet-protocol.md §2.5: the docs' sample key and the C-SDK-default vector computed from it. */
const DOC_KEY = 'KuF3NT/jUBJ62LNBB/A8XZA9CqS3Cu79B/ABmfA1UCw=';
const C_SDK_VECTOR =
  'version=2018-10-31&res=products%2FCk2AF9QD2K%2Fdevices%2Ftest&et=2524579200&method=sha1&sign=7P5uPE%2BP%2FXzQkERc7r7xV0rtDMs%3D';

function value<T>(result: { ok: true; value: T } | { ok: false; reason: string }): T {
  if (!result.ok) assert.fail(`expected a parsed message, got: ${result.reason}`);
  return result.value;
}

function refused(
  result: { ok: true } | { ok: false; code: number; reason: string; id?: string },
  code: number,
  pattern: RegExp,
): void {
  assert.equal(result.ok, false, 'expected a refusal');
  if (result.ok) return;
  assert.equal(result.code, code, result.reason);
  assert.match(result.reason, pattern);
}

describe('gateway protocol (onenet-next.md §Q2)', () => {
  describe('limits', () => {
    it('names the documented numbers', () => {
      assert.equal(MAX_SUB_DEVICES_PER_GATEWAY, 1500);
      assert.equal(MAX_IDENTITIES_PER_BATCH, 10);
      assert.equal(MAX_POINTS_PER_SUB_DEVICE, 100);
      assert.equal(MAX_PROPERTIES_PER_SUB_REQUEST, 50);
      assert.equal(SUB_DEVICE_REPLY_DEADLINE_MS, 5000);
    });
  });

  describe('topology', () => {
    it('parses the documented topo/add and rebuilds it byte for byte', () => {
      const request = value(parseTopoAddRequest(TOPO_ADD));
      assert.deepEqual(request, {
        id: '123',
        version: '1.0',
        params: { deviceName: 'device1', productID: 'product1', sasToken: DOC_SAS_TOKEN },
      });
      assert.equal(
        JSON.stringify(buildTopoAddRequest('123', { ...DEVICE1, sasToken: DOC_SAS_TOKEN })),
        TOPO_ADD,
      );
    });

    it('topo/delete takes the same params as topo/add, sasToken included', () => {
      const deletion = TOPO_ADD;
      assert.deepEqual(value(parseTopoDeleteRequest(deletion)), value(parseTopoAddRequest(TOPO_ADD)));
      assert.equal(
        JSON.stringify(buildTopoDeleteRequest('123', { ...DEVICE1, sasToken: DOC_SAS_TOKEN })),
        deletion,
      );
      refused(parseTopoDeleteRequest(SUB_LOGIN), 301, /sasToken/);
    });

    it('parses the documented replies of topo/add, login, set and topo/change', () => {
      for (const text of [TOPO_ADD_REPLY, SUB_LOGIN_REPLY, SUB_SET_REPLY, TOPO_CHANGE_REPLY])
        assert.deepEqual(value(parseGatewayReply(text)), { id: '123', code: 200, msg: 'xxxx' });
      assert.deepEqual(value(parseTopoChangeReply(TOPO_CHANGE_REPLY)), { id: '123', code: 200, msg: 'xxxx' });
      assert.equal(JSON.stringify(buildTopoChangeReply('123', 200, 'xxxx')), TOPO_CHANGE_REPLY);
    });

    it('topo/get has no params, and its reply lists the bound sub-devices', () => {
      assert.deepEqual(value(parseTopoGetRequest(TOPO_GET)), { id: '123', version: '1.0' });
      assert.equal(JSON.stringify(buildTopoGetRequest('123')), TOPO_GET);
      assert.deepEqual(value(parseTopoGetReply(TOPO_GET_REPLY)), {
        id: '123',
        code: 200,
        msg: 'xxxx',
        data: [DEVICE1, DEVICE2].map(({ productID, deviceName }) => ({ deviceName, productID })),
      });
      assert.equal(JSON.stringify(buildTopoGetReply('123', 200, 'xxxx', [DEVICE1, DEVICE2])), TOPO_GET_REPLY);
      assert.equal(
        JSON.stringify(buildTopoGetReply('123', 200, 'xxxx', [])),
        '{"id":"123","code":200,"msg":"xxxx","data":[]}',
      );
    });

    it('the gateway answers a topo/get reply with topo/get/result', () => {
      assert.deepEqual(value(parseTopoGetResult(TOPO_GET_RESULT)), { id: '123', code: 200, msg: 'xxxx' });
      assert.equal(JSON.stringify(buildTopoGetResult('123', 200, 'xxxx')), TOPO_GET_RESULT);
    });

    it('a successful topo/get reply without a list is refused; a failed one needs none', () => {
      refused(parseTopoGetReply('{"id":"123","code":200,"msg":"x"}'), 301, /data must be an array/);
      assert.deepEqual(value(parseTopoGetReply('{"id":"9","code":307,"msg":"no","data":"?"}')), {
        id: '9',
        code: 307,
        msg: 'no',
      });
      assert.throws(() => buildTopoGetReply('1', 200, 'ok'), InvalidInputError);
    });

    it('parses the documented topo/change and rebuilds it byte for byte', () => {
      assert.deepEqual(value(parseTopoChangeRequest(TOPO_CHANGE)).params, {
        subList: [
          { deviceName: 'device1', productID: 'product1' },
          { deviceName: 'device2', productID: 'product2' },
        ],
      });
      assert.equal(JSON.stringify(buildTopoChangeRequest('123', [DEVICE1, DEVICE2])), TOPO_CHANGE);
    });

    it('a topology list holds at most 1,500 distinct sub-devices', () => {
      const list = (n: number): SubDeviceIdentity[] =>
        Array.from({ length: n }, (_, i) => ({ productID: 'product1', deviceName: `d${i}` }));
      assert.equal(buildTopoChangeRequest('1', list(1500)).params.subList.length, 1500);
      assert.throws(() => buildTopoChangeRequest('1', list(1501)), /at most 1500/);
      refused(
        parseTopoChangeRequest(JSON.stringify({ id: '1', params: { subList: list(1501) } })),
        301,
        /1501/,
      );
      refused(
        parseTopoChangeRequest(JSON.stringify({ id: '1', params: { subList: [DEVICE1, DEVICE1] } })),
        301,
        /listed twice/,
      );
    });

    it('refuses bad requests with the code of what is wrong, keeping the id', () => {
      const add = (params: unknown, id: unknown = '5'): string =>
        JSON.stringify({ id, version: '1.0', params });
      refused(parseTopoAddRequest(add({ deviceName: 'd', productID: 'p' })), 301, /sasToken/);
      refused(
        parseTopoAddRequest(add({ deviceName: 'd', productID: 'p/x', sasToken: 't' })),
        307,
        /product id/,
      );
      refused(
        parseTopoAddRequest(add({ deviceName: 'a b', productID: 'p', sasToken: 't' })),
        307,
        /device name/,
      );
      refused(parseTopoAddRequest(add([DEVICE1])), 301, /must be an object/);
      refused(parseTopoAddRequest(add(DEVICE1, 12)), 312, /numeric string/);
      refused(parseTopoAddRequest('{"id":"1"'), 301, /malformed JSON/);
      const noDevice = parseSubLoginRequest(add({ productID: 'p' }));
      refused(noDevice, 301, /deviceName/);
      assert.equal(!noDevice.ok && noDevice.id, '5');
      refused(parseTopoGetRequest('{"id":"1","params":[1]}'), 301, /no "params"/);
    });

    it('compares the wanted sub-devices with the platform list of a topo/get reply', () => {
      const platform = value(parseTopoGetReply(TOPO_GET_REPLY)).data!;
      const device3 = { productID: 'product1', deviceName: 'device3' };
      assert.deepEqual(topologyDiff([DEVICE1, device3], platform), {
        missing: [device3],
        extra: [{ deviceName: 'device2', productID: 'product2' }],
      });
      assert.deepEqual(topologyDiff([], []), { missing: [], extra: [] });
    });

    it('serializes a topo/get for the wire as it is documented', () => {
      assert.equal(serializeMessage(buildTopoGetRequest('123')).toString(), TOPO_GET);
    });

    it('builders refuse what the platform would refuse', () => {
      assert.throws(() => buildTopoAddRequest('1', { ...DEVICE1, sasToken: '' }), /sasToken/);
      assert.throws(() => buildTopoAddRequest('x', { ...DEVICE1, sasToken: 't' }), /message id/);
      assert.throws(() => buildSubLoginRequest('1', { productID: '', deviceName: 'd' }), /product id/);
    });
  });

  describe('sessions', () => {
    it('parses the documented sub/login and rebuilds login and logout byte for byte', () => {
      assert.deepEqual(value(parseSubLoginRequest(SUB_LOGIN)), {
        id: '123',
        version: '1.0',
        params: DEVICE1,
      });
      assert.deepEqual(value(parseSubLogoutRequest(SUB_LOGIN)), value(parseSubLoginRequest(SUB_LOGIN)));
      assert.equal(
        JSON.stringify(buildSubLoginRequest('123', { deviceName: 'device1', productID: 'product1' })),
        SUB_LOGIN,
      );
      assert.equal(JSON.stringify(buildSubLogoutRequest('123', DEVICE1)), SUB_LOGIN);
    });

    it('keeps only the identity of a login (no credential travels in it)', () => {
      const login = value(
        parseSubLoginRequest(JSON.stringify({ id: '1', params: { ...DEVICE1, sasToken: 'x' } })),
      );
      assert.deepEqual(login.params, DEVICE1);
    });
  });

  describe('sub-device data in pack/post', () => {
    it('the documented pack/post carries a sub-device once identity names it', () => {
      const withIdentity = PACK_POST.replace(
        '"productID":"","deviceName":""',
        '"productID":"product1","deviceName":"device1"',
      );
      const parsed = parsePackPost(withIdentity);
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
      assert.deepEqual(parsed.request.params[0]!.identity, DEVICE1);
      assert.deepEqual(parsed.request.params[0]!.properties, {
        Power: { value: 'on', time: 1524448722000 },
        WF: { value: '3', time: 1524448723000 },
      });
      const text = buildPackPost('123', [
        { identity: DEVICE1, properties: { Power: { value: 'on', time: 1524448722000 } } },
      ]);
      assert.match(text, /"identity":\{"productID":"product1","deviceName":"device1"\}/);
    });
  });

  describe('sub-device commands', () => {
    it('parses the documented sub/property/get and rebuilds it byte for byte', () => {
      assert.deepEqual(value(parseSubPropertyGetRequest(SUB_GET)).params, {
        deviceName: 'device1',
        productID: 'product1',
        params: ['temperature', 'humidity'],
      });
      assert.equal(
        JSON.stringify(buildSubPropertyGetRequest('123', DEVICE1, ['temperature', 'humidity'])),
        SUB_GET,
      );
    });

    it('parses the documented get_reply and rebuilds it byte for byte', () => {
      assert.deepEqual(value(parseSubPropertyGetReply(SUB_GET_REPLY)), {
        id: '123',
        code: 200,
        msg: 'xxx',
        data: { temperature: 39.5, humidity: 20 },
      });
      assert.equal(
        JSON.stringify(buildSubPropertyGetReply('123', 200, 'xxx', { temperature: 39.5, humidity: 20 })),
        SUB_GET_REPLY,
      );
    });

    it('parses the documented sub/property/set and its reply, and rebuilds both', () => {
      assert.deepEqual(value(parseSubPropertySetRequest(SUB_SET)).params, {
        deviceName: 'device1',
        productID: 'product1',
        params: { temperature: '30.5', humidity: '20.5' },
      });
      assert.equal(
        JSON.stringify(buildSubPropertySetRequest('123', DEVICE1, { temperature: '30.5', humidity: '20.5' })),
        SUB_SET,
      );
      assert.deepEqual(value(parseSubPropertySetReply(SUB_SET_REPLY)), { id: '123', code: 200, msg: 'xxxx' });
      assert.equal(JSON.stringify(buildSubPropertySetReply('123', 200, 'xxxx')), SUB_SET_REPLY);
    });

    it('parses the documented sub/service/invoke and rebuilds it byte for byte', () => {
      assert.deepEqual(value(parseSubServiceInvokeRequest(SUB_INVOKE)).params, {
        deviceName: 'device1',
        productID: 'product1',
        identifier: 'xxxx',
        input: { Power1: 'on', WF1: '2' },
      });
      assert.equal(
        JSON.stringify(buildSubServiceInvokeRequest('123', DEVICE1, 'xxxx', { Power1: 'on', WF1: '2' })),
        SUB_INVOKE,
      );
    });

    it('the invoke_reply echoes productID, deviceName and identifier and carries output', () => {
      const request = value(parseSubServiceInvokeRequest(SUB_INVOKE));
      const data = subServiceInvokeReplyData(request.params, { result1: 'on', result2: '2' });
      assert.equal(
        JSON.stringify(buildSubServiceInvokeReply(request.id, 200, 'xxxx', data)),
        SUB_INVOKE_REPLY,
      );
      const parsed = value(parseSubServiceInvokeReply(SUB_INVOKE_REPLY));
      assert.deepEqual(parsed.data, data);
      assert.equal(invokeReplyMismatch(request.params, parsed.data!), undefined);
      assert.match(
        invokeReplyMismatch(request.params, { ...parsed.data!, deviceName: 'device2' })!,
        /deviceName/,
      );
      refused(
        parseSubServiceInvokeReply('{"id":"123","code":200,"msg":"x","data":{"output":{}}}'),
        301,
        /productID/,
      );
    });

    it('a failed reply needs no data and keeps none', () => {
      assert.deepEqual(value(parseSubServiceInvokeReply('{"id":"7","code":100,"msg":"failed","data":3}')), {
        id: '7',
        code: 100,
        msg: 'failed',
      });
      assert.deepEqual(buildSubPropertyGetReply('7', 100, 'failed'), { id: '7', code: 100, msg: 'failed' });
      refused(parseSubPropertyGetReply('{"id":"7","code":200,"msg":"x"}'), 301, /data must be an object/);
    });

    it('routes a downlink by kind, naming the sub-device', () => {
      for (const [kind, text] of [
        ['sub-property-get', SUB_GET],
        ['sub-property-set', SUB_SET],
        ['sub-service-invoke', SUB_INVOKE],
      ] as const) {
        const routed = parseSubDownlink(kind, text);
        assert.ok(routed.ok && routed.kind === kind);
        assert.equal(routed.request.params.productID, 'product1');
        assert.equal(routed.request.params.deviceName, 'device1');
      }
      refused(parseSubDownlink('sub-property-get', SUB_SET), 301, /array of identifiers/);
    });

    it('holds builders to 50 properties; parsers take what the platform sends', () => {
      const names = Array.from({ length: 51 }, (_, i) => `p${i}`);
      assert.equal(buildSubPropertyGetRequest('1', DEVICE1, names.slice(0, 50)).params.params.length, 50);
      assert.throws(() => buildSubPropertyGetRequest('1', DEVICE1, names), /at most 50/);
      const values = Object.fromEntries(names.map((name) => [name, 1]));
      assert.throws(() => buildSubPropertySetRequest('1', DEVICE1, values), /at most 50/);
      const sent = JSON.stringify({ id: '1', params: { ...DEVICE1, params: names } });
      assert.equal(value(parseSubPropertyGetRequest(sent)).params.params.length, 51);
    });

    it('refuses bad commands with the code of what is wrong', () => {
      const get = (params: unknown): string => JSON.stringify({ id: '3', params });
      refused(parseSubPropertyGetRequest(get({ ...DEVICE1, params: ['bad-id'] })), 309, /identifier/);
      refused(parseSubPropertyGetRequest(get({ ...DEVICE1, params: [] })), 301, /names no property/);
      refused(parseSubPropertySetRequest(get({ ...DEVICE1, params: { t: null } })), 302, /null/);
      refused(parseSubPropertySetRequest(get({ params: { t: 1 } })), 301, /productID/);
      refused(
        parseSubServiceInvokeRequest(get({ ...DEVICE1, identifier: 'a/b', input: {} })),
        309,
        /identifier/,
      );
      assert.deepEqual(
        value(parseSubServiceInvokeRequest(get({ ...DEVICE1, identifier: 'reboot' }))).params.input,
        {},
      );
    });
  });

  describe('sasToken', () => {
    it('is the sub-device token the C SDK signs, res encoded as in the CONNECT password', () => {
      const token = signSubDeviceToken({
        productID: 'Ck2AF9QD2K',
        deviceName: 'test',
        key: DOC_KEY,
        et: 2524579200,
        method: 'sha1',
      });
      assert.equal(token, C_SDK_VECTOR);
      assert.equal(tokenResEncoding(token), 'encoded');
    });

    it('can write res plain, as OneNET example does, with the same signature', () => {
      const plain = signSubDeviceToken({
        productID: 'Ck2AF9QD2K',
        deviceName: 'test',
        key: DOC_KEY,
        et: 2524579200,
        method: 'sha1',
        resEncoding: 'plain',
      });
      assert.equal(
        plain,
        C_SDK_VECTOR.replace('products%2FCk2AF9QD2K%2Fdevices%2Ftest', 'products/Ck2AF9QD2K/devices/test'),
      );
      assert.equal(tokenResEncoding(DOC_SAS_TOKEN), 'plain');
    });

    it('verifies against the sub-device key or its product key, for that sub-device only', () => {
      const subKey = Buffer.alloc(32, 1).toString('base64');
      const productKey = Buffer.alloc(32, 2).toString('base64');
      const options = {
        productID: 'product1',
        deviceName: 'device1',
        keys: [subKey, productKey],
        nowSeconds: 1_700_000_000,
      };
      const sign = (key: string, deviceName = 'device1', et = 1_800_000_000): string =>
        signSubDeviceToken({ productID: 'product1', deviceName, key, et });
      assert.ok(verifySubDeviceToken(sign(subKey), options).ok);
      assert.ok(verifySubDeviceToken(sign(productKey), options).ok);
      const wrongKey = Buffer.alloc(32, 3).toString('base64');
      const cases: Array<[string, number]> = [
        [sign(wrongKey), 1106],
        [sign(subKey, 'device2'), 1114],
        [sign(subKey, 'device1', 1_600_000_000), 1104],
        [DOC_SAS_TOKEN, 1104],
        ['not a token', 1103],
      ];
      for (const [token, logCode] of cases) {
        const verdict = verifySubDeviceToken(token, options);
        assert.equal(verdict.ok, false);
        if (verdict.ok) continue;
        assert.equal(verdict.logCode, logCode, verdict.reason);
        assert.ok(!verdict.reason.includes(subKey) && !verdict.reason.includes('sign='), verdict.reason);
      }
      assert.equal(verifySubDeviceToken(undefined, options).ok, false);
    });

    it('can be told to take one res encoding only', () => {
      const key = Buffer.alloc(32, 1).toString('base64');
      const plain = signSubDeviceToken({
        productID: 'p1',
        deviceName: 'd1',
        key,
        et: 1_800_000_000,
        resEncoding: 'plain',
      });
      const options = { productID: 'p1', deviceName: 'd1', keys: [key], nowSeconds: 1_700_000_000 };
      assert.ok(verifySubDeviceToken(plain, options).ok);
      const strict = verifySubDeviceToken(plain, { ...options, acceptResEncodings: ['encoded'] });
      assert.ok(!strict.ok && /res is written plain/.test(strict.reason));
    });
  });

  describe('parsers never throw', () => {
    const parsers = [
      parseTopoAddRequest,
      parseTopoDeleteRequest,
      parseTopoGetRequest,
      parseTopoGetReply,
      parseTopoGetResult,
      parseTopoChangeRequest,
      parseTopoChangeReply,
      parseSubLoginRequest,
      parseSubLogoutRequest,
      parseSubPropertyGetRequest,
      parseSubPropertySetRequest,
      parseSubServiceInvokeRequest,
      parseSubPropertyGetReply,
      parseSubPropertySetReply,
      parseSubServiceInvokeReply,
      parseGatewayReply,
    ];
    it('on any text or JSON value', () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string(),
            fc.jsonValue().map((v) => JSON.stringify(v)),
          ),
          (text) => {
            for (const parse of parsers) {
              const result = parse(text) as { ok: boolean; reason?: string };
              if (!result.ok) assert.equal(typeof result.reason, 'string');
            }
          },
        ),
        { numRuns: 300 },
      );
      for (const parse of parsers) assert.equal(parse(undefined as unknown as string).ok, false);
    });
  });
});
