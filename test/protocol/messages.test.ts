import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  buildReply,
  buildRequest,
  createMessageIdGenerator,
  InvalidInputError,
  MAX_PAYLOAD_BYTES,
  parseEventPost,
  parsePropertyGet,
  parsePropertyPost,
  parsePropertySet,
  parseReply,
  parseServiceInvoke,
  serializeMessage,
  toEventParams,
  toPropertyParams,
} from '../../src/protocol';

const wire = (message: Parameters<typeof serializeMessage>[0]) => serializeMessage(message);

/** JSON-safe values as OneNET carries them: finite numbers, strings, booleans, arrays and objects. */
const jsonValue = fc
  .jsonValue({ maxDepth: 4 })
  .filter((v) => v !== null && !containsNull(v) && !containsNegativeZero(v));
// `__proto__` fits the pattern but is refused on purpose (see validation.ts).
const identifier = fc.stringMatching(/^\$?[A-Za-z0-9_]{1,50}$/).filter((id) => id !== '__proto__');
const messageId = fc.stringMatching(/^\d{1,13}$/);

function containsNull(value: unknown): boolean {
  if (value === null) return true;
  if (typeof value !== 'object') return false;
  return Object.values(value as object).some(containsNull);
}
function containsNegativeZero(value: unknown): boolean {
  if (Object.is(value, -0)) return true;
  if (typeof value !== 'object' || value === null) return false;
  return Object.values(value as object).some(containsNegativeZero);
}

describe('protocol/messages', () => {
  describe('message ids', () => {
    it('are numeric strings of at most 13 digits, unique per generator', () => {
      const next = createMessageIdGenerator();
      const seen = new Set<string>();
      for (let i = 0; i < 10_000; i++) {
        const id = next();
        assert.match(id, /^\d{1,13}$/);
        assert.ok(!seen.has(id));
        seen.add(id);
      }
    });
    it('wrap around before reaching 14 digits', () => {
      const next = createMessageIdGenerator(9_999_999_999_999);
      assert.equal(next(), '9999999999999');
      assert.equal(next(), '1');
    });
  });

  describe('property post', () => {
    it('normalises plain values and {value, time} entries, applying msg.time to the rest', () => {
      const params = toPropertyParams(
        { temp: 21.5, power: { value: 'on', time: 1700000000000 }, pos: { x: 1, y: 2 } },
        1600000000000,
      );
      assert.deepEqual(params, {
        temp: { value: 21.5, time: 1600000000000 },
        power: { value: 'on', time: 1700000000000 },
        pos: { value: { x: 1, y: 2 }, time: 1600000000000 },
      });
    });
    it('builds the documented request shape (§3.1)', () => {
      const request = buildRequest(
        '123',
        toPropertyParams({
          Power: { value: 'on', time: 1524448722123 },
          WF: { value: 23.6, time: 1524448722123 },
        }),
      );
      assert.equal(
        wire(request).toString(),
        '{"id":"123","version":"1.0","params":{"Power":{"value":"on","time":1524448722123},"WF":{"value":23.6,"time":1524448722123}}}',
      );
    });
    it('round-trips: parse(build(x)) == x', () => {
      fc.assert(
        fc.property(
          messageId,
          fc.dictionary(identifier, jsonValue, { minKeys: 1, maxKeys: 5, noNullPrototype: true }),
          fc.option(fc.nat(), { nil: undefined }),
          (id, payload, time) => {
            const request = buildRequest(id, toPropertyParams(payload, time));
            assert.deepEqual(parsePropertyPost(wire(request)), { ok: true, value: request });
          },
        ),
      );
    });
    it('rejects input a user must fix, saying what to change', () => {
      const cases: Array<[unknown, RegExp, number?]> = [
        ['hello', /payload must be an object.*not string/],
        [[1, 2], /not array/],
        [null, /not null/],
        [Buffer.from('x'), /not Buffer/],
        [{}, /no properties/],
        [{ 'bad id': 1 }, /identifier "bad id"/],
        [JSON.parse('{"__proto__": 1}'), /"__proto__" is reserved/],
        [{ t: NaN }, /payload\.t is NaN/],
        [{ t: Infinity }, /not a finite number/],
        [{ t: () => 1 }, /payload\.t is a function/],
        [{ t: undefined }, /payload\.t is undefined/],
        [{ t: { value: 1, time: -5 } }, /payload\.t\.time must be a timestamp/],
        [{ t: new Date() }, /Date, not plain data/],
        [{ t: 1 }, /msg\.time must be a timestamp/, 1.5],
      ];
      for (const [payload, message, time] of cases) {
        assert.throws(
          () => toPropertyParams(payload, time),
          (err: Error) => err instanceof InvalidInputError && message.test(err.message),
          String(message),
        );
      }
    });
    it('rejects circular and absurdly deep values', () => {
      const circular: Record<string, unknown> = { a: 1 };
      circular.self = circular;
      assert.throws(() => toPropertyParams({ c: circular }), /circular/);
      let deep: unknown = 1;
      for (let i = 0; i < 100; i++) deep = { d: deep };
      assert.throws(() => toPropertyParams({ deep }), /nested more than/);
    });
    it('refuses to serialise more than 256 KB', () => {
      const request = buildRequest('1', toPropertyParams({ big: 'x'.repeat(MAX_PAYLOAD_BYTES) }));
      assert.throws(() => serializeMessage(request), /OneNET accepts at most 262144/);
    });
  });

  describe('event post', () => {
    it('builds {event: {value: output, time}} (§3.1 #6) and round-trips', () => {
      const request = buildRequest('7', toEventParams('alarm', { level: 3, text: 'hot' }, 1524448722123));
      assert.deepEqual(request.params, { alarm: { value: { level: 3, text: 'hot' }, time: 1524448722123 } });
      assert.deepEqual(parseEventPost(wire(request)), { ok: true, value: request });
    });
    it('round-trips random events', () => {
      fc.assert(
        fc.property(
          messageId,
          identifier,
          fc.dictionary(identifier, jsonValue, { maxKeys: 4, noNullPrototype: true }),
          (id, event, output) => {
            const request = buildRequest(id, toEventParams(event, output));
            assert.deepEqual(parseEventPost(wire(request)), { ok: true, value: request });
          },
        ),
      );
    });
    it('rejects a bad event identifier and a non-object output', () => {
      assert.throws(() => toEventParams('no spaces', {}), /identifier/);
      assert.throws(() => toEventParams('alarm', 42), /event output must be an object/);
    });
  });

  describe('downlink requests', () => {
    it('parses property set, property get and service invoke (§3.1 #2, #3, #7)', () => {
      assert.deepEqual(parsePropertySet('{"id":"123","version":"1.0","params":{"temperature":"30.5"}}'), {
        ok: true,
        value: { id: '123', version: '1.0', params: { temperature: '30.5' } },
      });
      assert.deepEqual(parsePropertyGet('{"id":"123","version":"1.0","params":["temperature","humidity"]}'), {
        ok: true,
        value: { id: '123', version: '1.0', params: ['temperature', 'humidity'] },
      });
      assert.deepEqual(parseServiceInvoke('{"id":"9","params":{"Power1":"on"}}'), {
        ok: true,
        value: { id: '9', version: '1.0', params: { Power1: 'on' } },
      });
    });
    it('round-trips: parse(build(x)) == x for set, get and invoke', () => {
      fc.assert(
        fc.property(
          messageId,
          fc.dictionary(identifier, jsonValue, { maxKeys: 5, noNullPrototype: true }),
          fc.array(identifier, { maxLength: 5 }),
          (id, values, ids) => {
            const set = buildRequest(id, values);
            assert.deepEqual(parsePropertySet(wire(set)), { ok: true, value: set });
            assert.deepEqual(parseServiceInvoke(wire(set)), { ok: true, value: set });
            const get = buildRequest(id, ids);
            assert.deepEqual(parsePropertyGet(wire(get)), { ok: true, value: get });
          },
        ),
      );
    });
    it('gives precise reasons and OneNET codes for malformed requests', () => {
      const cases: Array<[string, number, RegExp, string?]> = [
        ['not json', 301, /malformed JSON/],
        ['[1,2]', 301, /expected a JSON object, got array/],
        ['{"params":{}}', 312, /no "id"/],
        ['{"id":123,"params":{}}', 312, /numeric string/],
        ['{"id":"12345678901234","params":{}}', 312, /at most 13 digits/],
        ['{"id":"1a","params":{}}', 312, /numeric string/],
        ['{"id":"5"}', 301, /no "params"/, '5'],
        ['{"id":"5","params":[]}', 301, /must be an object, got array/, '5'],
        ['{"id":"5","version":1,"params":{}}', 301, /"version" must be a string/, '5'],
        ['{"id":"5","params":{"bad-id":1}}', 309, /identifier/, '5'],
        ['{"id":"5","params":{"t":null}}', 302, /params\.t is null/, '5'],
      ];
      for (const [text, code, reason, id] of cases) {
        const result = parsePropertySet(text);
        assert.equal(result.ok, false, text);
        if (result.ok) continue;
        assert.equal(result.code, code, text);
        assert.match(result.reason, reason, text);
        assert.equal(result.id, id, text);
      }
      const get = parsePropertyGet('{"id":"5","params":{"a":1}}');
      assert.ok(!get.ok && get.code === 301 && /array of identifiers/.test(get.reason));
      const getBadId = parsePropertyGet('{"id":"5","params":["ok", 7]}');
      assert.ok(!getBadId.ok && getBadId.code === 309);
    });
    it('rejects uplink posts without {value}, with bad times, or with non-object event output', () => {
      const noValue = parsePropertyPost('{"id":"1","params":{"t":21}}');
      assert.ok(!noValue.ok && noValue.code === 301 && /\{"value"/.test(noValue.reason));
      const badTime = parsePropertyPost('{"id":"1","params":{"t":{"value":1,"time":"now"}}}');
      assert.ok(!badTime.ok && badTime.code === 302 && /time/.test(badTime.reason));
      const empty = parsePropertyPost('{"id":"1","params":{}}');
      assert.ok(!empty.ok && /empty/.test(empty.reason));
      const eventScalar = parseEventPost('{"id":"1","params":{"alarm":{"value":3}}}');
      assert.ok(!eventScalar.ok && eventScalar.code === 302);
    });
  });

  describe('replies', () => {
    it('builds and parses {id, code, msg, data?} (§3)', () => {
      const plain = buildReply('123', 200, 'success');
      assert.equal(wire(plain).toString(), '{"id":"123","code":200,"msg":"success"}');
      assert.deepEqual(parseReply(wire(plain)), { ok: true, value: plain });
      const withData = buildReply('123', 200, 'ok', { temperature: 39.5, humidity: 20 });
      assert.deepEqual(parseReply(wire(withData)), { ok: true, value: withData });
    });
    it('round-trips random replies', () => {
      fc.assert(
        fc.property(
          messageId,
          fc.integer({ min: 0, max: 9999 }),
          fc.string(),
          fc.option(jsonValue, { nil: undefined }),
          (id, code, msg, data) => {
            const reply = buildReply(id, code, msg, data);
            assert.deepEqual(parseReply(wire(reply)), { ok: true, value: reply });
          },
        ),
      );
    });
    it('reads the plain {id, code, msg} reply as JSON.parse would, and leaves every near miss to JSON', () => {
      // The shapes OneNET sends to posts, read on a fast path: the same values as JSON gives.
      for (const text of [
        '{"id":"123","code":200,"msg":"success"}',
        '{"id":"1700000000000","code":309,"msg":"identifier not exist"}',
        '{"id":"7","code":-1,"msg":""}',
        '{"id":"7","code":0,"msg":"a\'b ~ [x]"}',
      ]) {
        const { id, code, msg } = JSON.parse(text) as { id: string; code: number; msg: string };
        assert.deepEqual(parseReply(Buffer.from(text)), { ok: true, value: { id, code, msg } }, text);
      }
      // Texts the fast path must not take: invalid JSON, invalid ids, escapes and non-ASCII text.
      assert.equal(parseReply('{"id":"1","code":0200,"msg":"x"}').ok, false, 'a leading zero is not JSON');
      assert.equal(parseReply('{"id":"12345678901234","code":200,"msg":"x"}').ok, false, 'a 14-digit id');
      assert.deepEqual(parseReply(Buffer.from('{"id":"1","code":200,"msg":"成功"}')), {
        ok: true,
        value: { id: '1', code: 200, msg: '成功' },
      });
      assert.deepEqual(parseReply('{"id":"1","code":200,"msg":"a\\"b"}'), {
        ok: true,
        value: { id: '1', code: 200, msg: 'a"b' },
      });
      fc.assert(
        fc.property(
          messageId,
          fc.integer({ min: -1000, max: 1e12 }),
          fc.string({ unit: 'binary' }),
          (id, code, msg) => {
            const text = JSON.stringify({ id, code, msg });
            assert.deepEqual(parseReply(Buffer.from(text)), { ok: true, value: { id, code, msg } });
          },
        ),
      );
    });
    it('accepts a reply without msg, and refuses bad ids and codes', () => {
      assert.deepEqual(parseReply('{"id":"1","code":200}'), {
        ok: true,
        value: { id: '1', code: 200, msg: '' },
      });
      assert.equal(parseReply('{"id":1,"code":200}').ok, false);
      assert.equal(parseReply('{"id":"1","code":"200"}').ok, false);
      assert.equal(parseReply('{"id":"1","code":200,"msg":5}').ok, false);
      assert.throws(() => buildReply('1', 1.5, 'x'), /integer/);
      assert.throws(() => buildReply('1', 200, 'x', { f: NaN }), /reply data\.f is NaN/);
    });
  });

  describe('parsers never throw', () => {
    const parsers = [
      parsePropertyPost,
      parseEventPost,
      parsePropertySet,
      parsePropertyGet,
      parseServiceInvoke,
      parseReply,
    ];
    it('on arbitrary bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
          for (const parse of parsers) assert.equal(typeof parse(Buffer.from(bytes)).ok, 'boolean');
        }),
        { numRuns: 1000 },
      );
    });
    it('on arbitrary JSON', () => {
      fc.assert(
        fc.property(fc.json({ maxDepth: 5 }), (text) => {
          for (const parse of parsers) assert.equal(typeof parse(text).ok, 'boolean');
        }),
        { numRuns: 1000 },
      );
    });
    it('on near-valid requests with random fields', () => {
      const envelope = fc.record(
        { id: fc.oneof(messageId, fc.anything()), version: fc.anything(), params: fc.anything() },
        { requiredKeys: [] },
      );
      fc.assert(
        fc.property(envelope, (object) => {
          let text: string;
          try {
            text = JSON.stringify(object);
          } catch {
            return;
          }
          if (text === undefined) return;
          for (const parse of parsers) assert.equal(typeof parse(text).ok, 'boolean');
        }),
        { numRuns: 1000 },
      );
    });
  });
});
