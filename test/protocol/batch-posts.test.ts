import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BATCH_LIMITS,
  buildHistoryPost,
  buildPackPost,
  countBatch,
  InvalidInputError,
  MAX_PAYLOAD_BYTES,
  parseHistoryPost,
  parsePackPost,
  type HistoryEntry,
  type HistoryValue,
  type PackEntry,
} from '../../src/protocol';

/** shared/onenet-protocol.md §3.1 #8, verbatim (line breaks included). */
const PACK_EXAMPLE = `{"id":"123","version":"1.0","params":[{"identity":{"productID":"","deviceName":""},
 "properties":{"Power":{"value":"on","time":1524448722000}},
 "events":{"alarmEvent1":{"value":{"Power":"on","WF":"2"},"time":1524448722000}}}]}`;

/** shared/onenet-next.md §Q3 3.1, the history example verbatim (indentation included). */
const HISTORY_EXAMPLE = `{"id":"123","version":"1.0","params":[{"identity":{"productID":"","deviceName":""},
    "properties":{"Power":[{"value":"on","time":1524448722000},{"value":"off","time":1524448723000}],
                  "WF":[{"value":"3","time":1524448723000},{"value":"3","time":1524448724000}]},
    "events":{"alarmEvent1":[{"value":{"Power":"on","WF":"2"},"time":1524448722000},{"value":{"Power":"off","WF":"3"},"time":1524448723000}]}}]}`;

const T = 1_700_000_000_000;
const PID = 'Ck2AF9QD2K';

function historyValues(n: number, start = T): HistoryValue[] {
  return Array.from({ length: n }, (_, i) => ({ value: i, time: start + i * 1000 }));
}
function devices(n: number): HistoryEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    identity: { productID: PID, deviceName: `d${i}` },
    properties: { t: historyValues(1) },
  }));
}
function points(n: number, events = 0): HistoryEntry {
  const properties: Record<string, HistoryValue[]> = {};
  for (let i = 0; i < n; i++) properties[`p${i}`] = historyValues(1);
  const entry: HistoryEntry = { properties };
  if (events > 0) {
    entry.events = {};
    for (let i = 0; i < events; i++) entry.events[`e${i}`] = [{ value: { level: i }, time: T }];
  }
  return entry;
}
function wire(entries: unknown): string {
  return JSON.stringify({ id: '7', version: '1.0', params: entries });
}
function refusedWith(
  result: ReturnType<typeof parseHistoryPost> | ReturnType<typeof parsePackPost>,
  code: number,
  pattern: RegExp,
  limit?: string,
): void {
  assert.equal(result.ok, false, 'expected a refusal');
  if (result.ok) return;
  assert.equal(result.code, code, result.reason);
  assert.match(result.reason, pattern);
  assert.equal(result.limit, limit);
}

describe('protocol/batch-posts', () => {
  describe('the documented examples', () => {
    it('parses the pack/post example of §3.1 #8; an empty identity is the topic device', () => {
      const result = parsePackPost(PACK_EXAMPLE);
      assert.ok(result.ok, result.ok ? '' : result.reason);
      assert.deepEqual(result.request, {
        id: '123',
        version: '1.0',
        params: [
          {
            properties: { Power: { value: 'on', time: 1524448722000 } },
            events: { alarmEvent1: { value: { Power: 'on', WF: '2' }, time: 1524448722000 } },
          },
        ],
      });
    });

    it('parses the history/post example of §Q3 with every value and its time', () => {
      const result = parseHistoryPost(Buffer.from(HISTORY_EXAMPLE));
      assert.ok(result.ok, result.ok ? '' : result.reason);
      assert.equal(result.request.id, '123');
      assert.deepEqual(result.request.params, [
        {
          properties: {
            Power: [
              { value: 'on', time: 1524448722000 },
              { value: 'off', time: 1524448723000 },
            ],
            WF: [
              { value: '3', time: 1524448723000 },
              { value: '3', time: 1524448724000 },
            ],
          },
          events: {
            alarmEvent1: [
              { value: { Power: 'on', WF: '2' }, time: 1524448722000 },
              { value: { Power: 'off', WF: '3' }, time: 1524448723000 },
            ],
          },
        },
      ]);
      assert.deepEqual(countBatch(result.request.params), {
        devices: 1,
        maxPointsPerDevice: 3,
        maxValuesPerPoint: 2,
        values: 6,
      });
    });

    it('tells the two shapes apart', () => {
      refusedWith(parseHistoryPost(PACK_EXAMPLE), 301, /Power must be an array/);
      refusedWith(parsePackPost(HISTORY_EXAMPLE), 301, /Power must be \{"value"/);
    });

    it('builds what it parses, and parses what it builds', () => {
      const history = parseHistoryPost(HISTORY_EXAMPLE);
      const pack = parsePackPost(PACK_EXAMPLE);
      assert.ok(history.ok && pack.ok);
      const rebuiltHistory = buildHistoryPost('123', history.request.params);
      assert.deepEqual(JSON.parse(rebuiltHistory), history.request);
      const rebuiltPack = buildPackPost('123', pack.request.params);
      assert.equal(
        rebuiltPack,
        '{"id":"123","version":"1.0","params":[{"properties":{"Power":{"value":"on","time":1524448722000}},' +
          '"events":{"alarmEvent1":{"value":{"Power":"on","WF":"2"},"time":1524448722000}}}]}',
      );
    });
  });

  describe('building', () => {
    it('writes identity, properties and events; pack times are optional', () => {
      const text = buildPackPost('42', [
        { identity: { productID: PID, deviceName: 'sub-1' }, properties: { t: { value: 1 } } },
        { properties: { t: { value: 2, time: T } } },
      ]);
      assert.deepEqual(JSON.parse(text), {
        id: '42',
        version: '1.0',
        params: [
          { identity: { productID: PID, deviceName: 'sub-1' }, properties: { t: { value: 1 } } },
          { properties: { t: { value: 2, time: T } } },
        ],
      });
    });

    it('keeps only value and time of each value, and leaves out empty maps', () => {
      const entry = { properties: { t: [{ value: 1, time: T, extra: 'x' }] }, events: {} };
      const text = buildHistoryPost('1', [entry as unknown as HistoryEntry]);
      assert.equal(
        text,
        `{"id":"1","version":"1.0","params":[{"properties":{"t":[{"value":1,"time":${T}}]}}]}`,
      );
    });

    const refusals: Array<[string, () => string, RegExp]> = [
      ['no entries', () => buildHistoryPost('1', []), /no device entries/],
      ['an entry with nothing', () => buildHistoryPost('1', [{}]), /no properties and no events/],
      [
        'an identifier with no values',
        () => buildHistoryPost('1', [{ properties: { t: [] } }]),
        /t has no values/,
      ],
      [
        'a bad identifier',
        () => buildHistoryPost('1', [{ properties: { 'bad-id': historyValues(1) } }]),
        /identifier "bad-id"/,
      ],
      [
        'a non-finite time',
        () => buildHistoryPost('1', [{ properties: { t: [{ value: 1, time: Number.NaN }] } }]),
        /entries\[0\]\.properties\.t\[0\]\.time must be a timestamp/,
      ],
      [
        'a history value without time',
        () => buildHistoryPost('1', [{ properties: { t: [{ value: 1 } as HistoryValue] } }]),
        /\.time must be a timestamp/,
      ],
      [
        'a non-finite value',
        () => buildPackPost('1', [{ properties: { t: { value: Number.POSITIVE_INFINITY } } }]),
        /not a finite number/,
      ],
      [
        'an event value that is not an object',
        () => buildPackPost('1', [{ events: { alarm: { value: 3 } } }]),
        /alarm\.value must be an object of output parameters/,
      ],
      [
        'a bad identity',
        () =>
          buildPackPost('1', [
            { identity: { productID: PID, deviceName: 'a/b' }, properties: { t: { value: 1 } } },
          ]),
        /identity: device name may use/,
      ],
      [
        'half an identity',
        () =>
          buildPackPost('1', [
            { identity: { productID: PID, deviceName: '' }, properties: { t: { value: 1 } } },
          ]),
        /device name is required/,
      ],
      [
        'the same device twice',
        () =>
          buildPackPost('1', [
            { identity: { productID: PID, deviceName: 'a' }, properties: { t: { value: 1 } } },
            { identity: { productID: PID, deviceName: 'a' }, properties: { u: { value: 1 } } },
          ]),
        /device Ck2AF9QD2K\/a appears in more than one entry/,
      ],
      [
        'the topic device twice',
        () =>
          buildPackPost('1', [
            { properties: { t: { value: 1 } } },
            { identity: { productID: '', deviceName: '' }, properties: { u: { value: 1 } } },
          ]),
        /the topic's own device appears in more than one entry/,
      ],
      [
        'an unknown entry key',
        () => buildPackPost('1', [{ properties: { t: { value: 1 } }, event: {} } as PackEntry]),
        /has the key "event"/,
      ],
      [
        'a bad message id',
        () => buildPackPost('abc', [{ properties: { t: { value: 1 } } }]),
        /message id "abc"/,
      ],
      [
        'more than 256 KB',
        () =>
          buildHistoryPost('1', [{ properties: { t: [{ value: 'x'.repeat(MAX_PAYLOAD_BYTES), time: T }] } }]),
        /bytes; OneNET accepts at most 262144/,
      ],
    ];
    for (const [what, call, message] of refusals) {
      it(`refuses ${what} with a sentence`, () => {
        assert.throws(call, (error: unknown) => {
          assert.ok(error instanceof InvalidInputError);
          assert.match(error.message, message);
          return true;
        });
      });
    }
  });

  describe('limits', () => {
    it('are the documented ones', () => {
      assert.deepEqual(BATCH_LIMITS, { devicesPerMessage: 10, pointsPerDevice: 100, valuesPerPoint: 100 });
    });

    it('10 devices pass, 11 are refused', () => {
      assert.doesNotThrow(() => buildHistoryPost('1', devices(10)));
      assert.ok(parseHistoryPost(wire(devices(10))).ok);
      assert.throws(() => buildHistoryPost('1', devices(11)), /11 device entries; OneNET accepts at most 10/);
      refusedWith(parseHistoryPost(wire(devices(11))), 301, /at most 10 per message/, 'devicesPerMessage');
    });

    it('100 points pass, 101 are refused; events count as points', () => {
      assert.doesNotThrow(() => buildHistoryPost('1', [points(100)]));
      assert.doesNotThrow(() => buildHistoryPost('1', [points(99, 1)]));
      assert.throws(() => buildHistoryPost('1', [points(101)]), /101 properties and events/);
      assert.throws(() => buildHistoryPost('1', [points(100, 1)]), /at most 100 points per device/);
      refusedWith(
        parseHistoryPost(wire([points(100, 1)])),
        301,
        /101 properties and events/,
        'pointsPerDevice',
      );
      assert.ok(parseHistoryPost(wire([points(100, 1)]), { eventsArePoints: false }).ok);
      assert.deepEqual(countBatch([points(100, 1)]).maxPointsPerDevice, 101);
      assert.deepEqual(countBatch([points(100, 1)], { eventsArePoints: false }).maxPointsPerDevice, 100);
    });

    it('100 values per identifier pass, 101 are refused, for properties and events', () => {
      assert.doesNotThrow(() => buildHistoryPost('1', [{ properties: { t: historyValues(100) } }]));
      assert.throws(
        () => buildHistoryPost('1', [{ properties: { t: historyValues(101) } }]),
        /t has 101 values; OneNET accepts at most 100 per identifier/,
      );
      const events = Array.from({ length: 101 }, (_, i) => ({ value: { n: i }, time: T + i }));
      refusedWith(
        parseHistoryPost(wire([{ events: { alarm: events } }])),
        301,
        /alarm has 101 values/,
        'valuesPerPoint',
      );
      assert.ok(parseHistoryPost(wire([{ events: { alarm: events.slice(0, 100) } }])).ok);
    });

    it('can be set by the caller of a parser (the emulator)', () => {
      refusedWith(
        parseHistoryPost(wire([{ properties: { t: historyValues(3) } }]), { limits: { valuesPerPoint: 2 } }),
        301,
        /at most 2 per identifier/,
        'valuesPerPoint',
      );
      refusedWith(
        parsePackPost(wire([{ properties: { a: { value: 1 }, b: { value: 2 } } }]), {
          limits: { pointsPerDevice: 1 },
        }),
        301,
        /at most 1 points/,
        'pointsPerDevice',
      );
    });

    it('countBatch counts a full message', () => {
      const entries = [...devices(9), points(100, 0)];
      assert.deepEqual(countBatch(entries), {
        devices: 10,
        maxPointsPerDevice: 100,
        maxValuesPerPoint: 1,
        values: 109,
      });
      assert.deepEqual(countBatch([{ properties: { a: { value: 1 }, b: { value: 2 } } } as PackEntry]), {
        devices: 1,
        maxPointsPerDevice: 2,
        maxValuesPerPoint: 1,
        values: 2,
      });
    });
  });

  describe('parsing', () => {
    const cases: Array<[string, string, number, RegExp]> = [
      ['not JSON', '{"id":"1",', 301, /malformed JSON/],
      ['no id', wire([points(1)]).replace('"id":"7",', ''), 312, /no "id"/],
      ['a bad id', '{"id":"12345678901234","params":[]}', 312, /at most 13 digits/],
      [
        'params not an array',
        '{"id":"1","params":{"t":{"value":1}}}',
        301,
        /must be an array of device entries/,
      ],
      ['no entries', '{"id":"1","params":[]}', 301, /no device entries/],
      ['an entry that is not an object', '{"id":"1","params":[3]}', 301, /params\[0\] must be an object/],
      ['a bad identifier', wire([{ properties: { 'a b': historyValues(1) } }]), 309, /identifier "a b"/],
      [
        'a value without time',
        wire([{ properties: { t: [{ value: 1 }] } }]),
        302,
        /t\[0\]\.time must be a timestamp/,
      ],
      [
        'a negative time',
        wire([{ properties: { t: [{ value: 1, time: -1 }] } }]),
        302,
        /time must be a timestamp/,
      ],
      ['a null value', wire([{ properties: { t: [{ value: null, time: T }] } }]), 302, /value is null/],
      ['a value without "value"', wire([{ properties: { t: [{ time: T }] } }]), 301, /must be \{"value"/],
      [
        'an identity of numbers',
        wire([{ identity: { productID: 1, deviceName: 2 }, properties: { t: historyValues(1) } }]),
        301,
        /strings "productID" and "deviceName"/,
      ],
      [
        'an identity with a bad product id',
        wire([{ identity: { productID: 'a-b', deviceName: 'x' }, properties: { t: historyValues(1) } }]),
        307,
        /product id must be letters and digits/,
      ],
      [
        '"__proto__" as identifier',
        '{"id":"1","params":[{"properties":{"__proto__":[{"value":1,"time":1}]}}]}',
        309,
        /reserved/,
      ],
      ['properties that are not an object', wire([{ properties: [1] }]), 301, /properties must be an object/],
    ];
    for (const [what, payload, code, reason] of cases) {
      it(`refuses ${what} with ${code}`, () => refusedWith(parseHistoryPost(payload), code, reason));
    }

    it('keeps the request id in a refusal when it was usable', () => {
      const result = parseHistoryPost(wire([{}]));
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.id, '7');
    });

    it('returns a refusal, not an exception, for input that is not bytes or text', () => {
      for (const input of [undefined, null, 3, {}, [], Symbol('x')]) {
        assert.equal(parseHistoryPost(input as unknown as string).ok, false);
        assert.equal(parsePackPost(input as unknown as string).ok, false);
      }
    });
  });

  describe('properties', () => {
    const identifier = fc.stringMatching(/^[A-Za-z0-9_]{1,12}$/).filter((id) => id !== '__proto__');
    const simple = fc.oneof(
      fc.integer(),
      fc.string({ maxLength: 8 }),
      fc.boolean(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    );
    const time = fc.nat({ max: 4_102_444_800_000 });
    const historyEntry = fc.record(
      {
        properties: fc.dictionary(
          identifier,
          fc.array(fc.record({ value: simple, time }, { noNullPrototype: true }), {
            minLength: 1,
            maxLength: 4,
          }),
          { minKeys: 1, maxKeys: 4, noNullPrototype: true },
        ),
        events: fc.dictionary(
          identifier,
          fc.array(
            fc.record(
              { value: fc.dictionary(identifier, simple, { noNullPrototype: true }), time },
              { noNullPrototype: true },
            ),
            {
              minLength: 1,
              maxLength: 3,
            },
          ),
          { maxKeys: 2, noNullPrototype: true },
        ),
      },
      { requiredKeys: ['properties'], noNullPrototype: true },
    );

    it('history entries survive build and parse unchanged', () => {
      fc.assert(
        fc.property(
          fc.stringMatching(/^\d{1,13}$/),
          fc.array(historyEntry, { minLength: 1, maxLength: 1 }),
          (id, entries) => {
            const normalised = entries.map((entry) => {
              const copy: HistoryEntry = { properties: entry.properties };
              if (entry.events && Object.keys(entry.events).length > 0) copy.events = entry.events;
              return copy;
            });
            const parsed = parseHistoryPost(buildHistoryPost(id, normalised));
            assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
            assert.deepEqual(parsed.request, { id, version: '1.0', params: normalised });
          },
        ),
        { numRuns: 300 },
      );
    });

    describe('parsers never throw', () => {
      const parsers = [parseHistoryPost, parsePackPost];
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
          fc.property(fc.json({ maxDepth: 6 }), (text) => {
            for (const parse of parsers) assert.equal(typeof parse(text).ok, 'boolean');
          }),
          { numRuns: 1000 },
        );
      });
      it('on near-valid requests with random entries', () => {
        const anyEntry = fc.oneof(
          fc.anything(),
          fc.record(
            {
              identity: fc.oneof(
                fc.anything(),
                fc.record({ productID: fc.anything(), deviceName: fc.anything() }),
              ),
              properties: fc.oneof(
                fc.anything(),
                fc.dictionary(
                  fc.string(),
                  fc.oneof(fc.anything(), fc.array(fc.record({ value: fc.anything(), time: fc.anything() }))),
                ),
              ),
              events: fc.oneof(fc.anything(), fc.dictionary(fc.string(), fc.anything())),
            },
            { requiredKeys: [] },
          ),
        );
        fc.assert(
          fc.property(
            fc.oneof(fc.stringMatching(/^\d{1,13}$/), fc.anything()),
            fc.oneof(fc.array(anyEntry, { maxLength: 12 }), fc.anything()),
            (id, params) => {
              let text: string;
              try {
                text = JSON.stringify({ id, version: '1.0', params });
              } catch {
                return; // BigInt and the like: not JSON, nothing to send
              }
              if (text === undefined) return;
              for (const parse of parsers) assert.equal(typeof parse(text).ok, 'boolean');
            },
          ),
          { numRuns: 1000 },
        );
      });
    });
  });
});
