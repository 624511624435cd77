import assert from 'node:assert/strict';
import {
  buildRequest,
  inPieces,
  parseDesiredDelete,
  parseDesiredGet,
  readDesiredValues,
  toDesiredDeleteParams,
  toDesiredGetParams,
} from '../../src/protocol';

/**
 * Desired get / delete payloads (期望值), against the literal examples of
 * shared/onenet-protocol.md §3.1 items 4–5 and onenet-next.md §Q4.1.
 */
describe('protocol: desired values (§3.1 items 4–5)', () => {
  describe('desired/get', () => {
    it('builds the documented request: the identifiers as params', () => {
      const request = buildRequest('123', toDesiredGetParams(['power', 'temperature']));
      assert.equal(JSON.stringify(request), '{"id":"123","version":"1.0","params":["power","temperature"]}');
    });

    it('parses the documented request on the platform side', () => {
      const parsed = parseDesiredGet('{"id":"123","version":"1.0","params":["power","temperature"]}');
      assert.deepEqual(parsed, {
        ok: true,
        value: { id: '123', version: '1.0', params: ['power', 'temperature'] },
      });
    });

    it('refuses params that are not identifiers, with the codes of property get', () => {
      const notArray = parseDesiredGet('{"id":"1","params":{"power":1}}');
      assert.equal(notArray.ok, false);
      assert.equal(!notArray.ok && notArray.code, 301);
      const badIdentifier = parseDesiredGet('{"id":"1","params":["bad id"]}');
      assert.equal(!badIdentifier.ok && badIdentifier.code, 309);
    });

    it('reads the documented reply data: values and versions as numbers, absent ones omitted', () => {
      const reply = JSON.parse(
        '{"id":"123","code":200,"msg":"xxxx","data":{"power":{"value":"on","version":2}}}',
      ) as { data: unknown };
      assert.deepEqual(readDesiredValues(reply.data), {
        values: { power: 'on' },
        versions: { power: 2 },
        problems: [],
      });
    });

    it('accepts a version written as text, as the application API does in one place (§Q4.1)', () => {
      assert.deepEqual(readDesiredValues({ power: { value: true, version: '2' } }).versions, { power: 2 });
    });

    it('reads no data, empty data and null as nothing, never throwing on odd input', () => {
      for (const data of [undefined, null, {}]) {
        assert.deepEqual(readDesiredValues(data), { values: {}, versions: {}, problems: [] });
      }
      const odd = readDesiredValues({
        ok: { value: { nested: [1, 2] }, version: 1 },
        noVersion: { value: 1 },
        zero: { value: 1, version: 0 },
        fraction: { value: 1, version: 1.5 },
        notEntry: 5,
        'bad id': { value: 1, version: 1 },
      });
      assert.deepEqual(odd.values, { ok: { nested: [1, 2] } });
      assert.deepEqual(odd.versions, { ok: 1 });
      assert.equal(odd.problems.length, 5);
      assert.equal(readDesiredValues('text').problems.length, 1);
      assert.equal(readDesiredValues([1]).problems.length, 1);
    });

    it('asks in pieces of at most the per-message limit', () => {
      assert.deepEqual(inPieces(['a', 'b', 'c', 'd', 'e'], 2), [['a', 'b'], ['c', 'd'], ['e']]);
      assert.deepEqual(inPieces([], 100), []);
      assert.throws(() => toDesiredGetParams([]), /at least one identifier/);
      assert.throws(() => toDesiredGetParams(['ok', 'not ok']), /identifier/);
    });
  });

  describe('desired/delete', () => {
    it('builds the documented request: a version where known, {} to clear whatever is there', () => {
      const request = buildRequest('123', toDesiredDeleteParams({ power: 1, temperature: undefined }));
      assert.equal(
        JSON.stringify(request),
        '{"id":"123","version":"1.0","params":{"power":{"version":1},"temperature":{}}}',
      );
    });

    it('parses the documented request on the platform side', () => {
      const parsed = parseDesiredDelete(
        '{"id":"123","version":"1.0","params":{"power":{"version":1},"temperature":{}}}',
      );
      assert.deepEqual(parsed, {
        ok: true,
        value: { id: '123', version: '1.0', params: { power: { version: 1 }, temperature: {} } },
      });
    });

    it('refuses what the documents do not describe: no entries, a bad identifier, a bad version', () => {
      const cases: Array<[string, number]> = [
        ['{"id":"1","params":{}}', 301],
        ['{"id":"1","params":["power"]}', 301],
        ['{"id":"1","params":{"power":1}}', 301],
        ['{"id":"1","params":{"bad id":{}}}', 309],
        ['{"id":"1","params":{"power":{"version":0}}}', 302],
        ['{"id":"1","params":{"power":{"version":"1"}}}', 302],
        ['{"id":"1","params":{"power":{"version":1.5}}}', 302],
      ];
      for (const [payload, code] of cases) {
        const parsed = parseDesiredDelete(payload);
        assert.equal(parsed.ok, false, payload);
        assert.equal(!parsed.ok && parsed.code, code, payload);
      }
    });

    it('refuses to build a delete without identifiers or with a version that is not a whole number from 1', () => {
      assert.throws(() => toDesiredDeleteParams({}), /at least one identifier/);
      assert.throws(() => toDesiredDeleteParams({ power: 0 }), /whole number from 1/);
      assert.throws(() => toDesiredDeleteParams({ power: Number.NaN }), /whole number from 1/);
      assert.throws(() => toDesiredDeleteParams({ 'bad id': 1 }), /identifier/);
    });
  });
});
