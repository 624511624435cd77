import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checkModelEventParams,
  checkModelEventPost,
  checkModelPropertyIdentifiers,
  checkModelPropertyPost,
  checkModelPropertySet,
  checkModelPropertyValues,
  checkModelServiceInput,
  checkModelServiceOutput,
  checkModelValue,
  importThingModel,
  type ModelRule,
  type ModelViolation,
  type TslDataType,
} from '../../src/protocol';
import { fixture } from './tsl-fixtures';

function violations(dataType: TslDataType, value: unknown): ModelViolation[] {
  const out: ModelViolation[] = [];
  checkModelValue(dataType, value, 'x', 'x', out);
  return out;
}

const struct: TslDataType = {
  type: 'struct',
  members: [
    { identifier: 'lat', name: '', dataType: { type: 'double', min: -90, max: 90 } },
    { identifier: 'src', name: '', dataType: { type: 'string', length: 3 } },
  ],
};

/** [data type, accepted values, refused values with the rule] — every data type of onenet-next.md §1.4. */
const cases: Array<[TslDataType, unknown[], Array<[unknown, ModelRule]>]> = [
  [
    { type: 'int32', min: -10, max: 10 },
    [0, -10, 10, 3.0],
    [
      [1.5, 'integer'],
      ['5', 'numeric-string'],
      [true, 'type'],
      [Number.NaN, 'type'],
      [-11, 'min'],
      [11, 'max'],
    ],
  ],
  [
    { type: 'int32' },
    [2147483647, -2147483648],
    [
      [2147483648, 'int32-range'],
      [-2147483649, 'int32-range'],
    ],
  ],
  [
    { type: 'int64' },
    [2 ** 53, -(2 ** 62), 0],
    [
      [2 ** 63, 'int64-range'],
      [0.5, 'integer'],
      [null, 'type'],
    ],
  ],
  [
    { type: 'float', min: -40, max: 85.5 },
    [21.5, 20, -40, 85.5],
    [
      ['21.5', 'numeric-string'],
      [85.6, 'max'],
      [-41, 'min'],
      [Number.POSITIVE_INFINITY, 'type'],
    ],
  ],
  [{ type: 'float' }, [3.4e38], [[1e39, 'float-range']]],
  [
    { type: 'double', max: 1 },
    [1e-300, 1],
    [
      [1.0001, 'max'],
      ['', 'type'],
    ],
  ],
  [
    { type: 'enum', values: { 0: 'a', 1: 'b', 2: 'c' } },
    [0, 2],
    [
      [3, 'enum'],
      [1.5, 'integer'],
      ['1', 'numeric-string'],
    ],
  ],
  [
    { type: 'bool', labels: {} },
    [true, false],
    [
      [1, 'type'],
      ['true', 'type'],
    ],
  ],
  [
    { type: 'string', length: 3 },
    ['', 'abc', '温度计', '😀😀😀'],
    [
      ['abcd', 'string-length'],
      [5, 'type'],
    ],
  ],
  [
    { type: 'date' },
    [1700000000000, 0],
    [
      ['1700000000000', 'numeric-string'],
      [1700000000000.5, 'integer'],
      ['yesterday', 'type'],
    ],
  ],
  [
    { type: 'bitMap', length: 4, bits: [] },
    [0, 15, 5],
    [
      [16, 'bitmap-width'],
      [-1, 'bitmap-width'],
      [1.5, 'integer'],
    ],
  ],
  [
    struct,
    [{ lat: 1, src: 'gps' }, {}, { lat: -90 }],
    [
      [{ lat: 1, alt: 2 }, 'unknown-member'],
      [{ lat: 91 }, 'max'],
      [{ src: 'long' }, 'string-length'],
      [[1], 'type'],
      [null, 'type'],
    ],
  ],
  [
    { type: 'array', length: 2, item: { type: 'int32', min: 0 } },
    [[], [1, 2]],
    [
      [[1, 2, 3], 'array-length'],
      [[1, -1], 'min'],
      [[1, 'a'], 'type'],
      [{ 0: 1 }, 'type'],
    ],
  ],
  [
    { type: 'array', item: struct },
    [[{ lat: 1 }, { src: 'a' }]],
    [[[{ lat: 1 }, { nope: 1 }], 'unknown-member']],
  ],
  [{ type: 'unknown' }, [1, 'x', {}, null], []],
];

describe('thing model checks: every data type (onenet-next.md §1.4)', () => {
  for (const [dataType, accepted, refused] of cases) {
    const label = JSON.stringify(dataType).slice(0, 60);
    for (const value of accepted) {
      it(`${label} accepts ${JSON.stringify(value)}`, () =>
        assert.deepEqual(violations(dataType, value), []));
    }
    for (const [value, rule] of refused) {
      it(`${label} refuses ${String(JSON.stringify(value))} (${rule})`, () => {
        const found = violations(dataType, value);
        assert.equal(found.length, 1, JSON.stringify(found));
        assert.equal(found[0]!.rule, rule);
        assert.equal(found[0]!.code, 302);
        assert.equal(found[0]!.identifier, 'x');
        assert.match(found[0]!.message, /^x/);
      });
    }
  }

  it('names path, short value and limit', () => {
    const [violation] = violations({ type: 'array', item: struct }, [{ lat: 1 }, { lat: 100 }]);
    assert.deepEqual(violation, {
      identifier: 'x',
      path: 'x[1].lat',
      value: '100',
      rule: 'max',
      code: 302,
      message: 'x[1].lat: 100 is above the maximum 90',
      limit: 90,
    });
    const [long] = violations({ type: 'string', length: 1 }, 'y'.repeat(100));
    assert.ok(long!.value.length <= 40);
  });

  it('a numeric string gets a hint to convert it', () => {
    assert.match(violations({ type: 'float' }, '21.5')[0]!.message, /convert it first/);
  });
});

describe('thing model checks: messages against an imported export', () => {
  const { model } = importThingModel(fixture('current-all-types.json'));

  it('property post: accepts a valid post of every type', () => {
    const params = {
      temp: { value: 21.5, time: 1700000000000 },
      energy: { value: 12 },
      target: { value: 1500 },
      counter: { value: 2 ** 40 },
      mode: { value: 1 },
      relay: { value: true },
      label: { value: 'A1' },
      lastReset: { value: 1700000000000 },
      faults: { value: 0b1010 },
      location: { value: { lat: 30.5, lon: 114.3, src: 'gps' } },
      samples: { value: [1, 2, 3] },
      $OneNET_LBS: { value: [{ mnc: 0, cid: 1234 }] },
    };
    assert.deepEqual(checkModelPropertyPost(model, params), []);
  });

  it('property post: 309 unknown or wrong-kind identifiers, 302 values, one violation per identifier', () => {
    const found = checkModelPropertyPost(model, {
      humidity: { value: 1 },
      alarm: { value: 1 },
      temp: { value: '21.5' },
      mode: { value: 7 },
      label: 'bare',
    });
    assert.deepEqual(
      found.map((v) => [v.identifier, v.rule, v.code]),
      [
        ['humidity', 'unknown-identifier', 309],
        ['alarm', 'wrong-kind', 309],
        ['temp', 'numeric-string', 302],
        ['mode', 'enum', 302],
        ['label', 'type', 302],
      ],
    );
    assert.equal(found[1]!.message, 'alarm: "alarm" is an event of the thing model, not a property');
  });

  it('event post: identifier + output', () => {
    assert.deepEqual(checkModelEventPost(model, 'alarm', { powerOff: 1, reason: 'grid' }), []);
    assert.deepEqual(checkModelEventPost(model, 'alarm', {}), []);
    const rules = (id: string, output: unknown): string[] =>
      checkModelEventPost(model, id, output).map((v) => `${v.path}:${v.rule}`);
    assert.deepEqual(rules('meltdown', {}), ['meltdown:unknown-identifier']);
    assert.deepEqual(rules('temp', {}), ['temp:wrong-kind']);
    assert.deepEqual(rules('alarm', { powerOff: 2 }), ['alarm.powerOff:max']);
    assert.deepEqual(rules('alarm', { level: 1 }), ['alarm.level:unknown-member']);
    assert.deepEqual(rules('alarm', 5), ['alarm:type']);
    assert.deepEqual(
      checkModelEventParams(model, { alarm: { value: { powerOff: 0.5 } } }).map((v) => v.rule),
      ['integer'],
    );
  });

  it('command replies: property get data and service output', () => {
    assert.deepEqual(checkModelPropertyValues(model, { temp: 20, mode: 2 }), []);
    assert.deepEqual(
      checkModelPropertyValues(model, { temp: 'hot', nope: 1 }).map((v) => v.rule),
      ['type', 'unknown-identifier'],
    );
    assert.deepEqual(checkModelServiceOutput(model, 'calibrate', { result: 0 }), []);
    assert.deepEqual(
      checkModelServiceOutput(model, 'calibrate', { result: 5 }).map((v) => v.rule),
      ['enum'],
    );
    assert.deepEqual(
      checkModelServiceOutput(model, 'reboot', {}).map((v) => v.code),
      [309],
    );
  });

  it('platform property sets: read-only refused (313), values checked, identifiers known', () => {
    assert.deepEqual(checkModelPropertySet(model, { target: 100, mode: 0 }), []);
    assert.deepEqual(
      checkModelPropertySet(model, { temp: 20, target: 5000, nope: 1 }).map((v) => [v.rule, v.code]),
      [
        ['read-only', 313],
        ['max', 302],
        ['unknown-identifier', 309],
      ],
    );
    assert.deepEqual(
      checkModelPropertyIdentifiers(model, ['temp', 'nope']).map((v) => v.path),
      ['nope'],
    );
    assert.deepEqual(
      checkModelServiceInput(model, 'calibrate', { offset: 6 }).map((v) => v.rule),
      ['max'],
    );
  });

  it('Studio export: input/output services and bool 0/1 labels', () => {
    const studio = importThingModel(fixture('studio-all-types.json')).model;
    assert.deepEqual(checkModelServiceInput(studio, 'multiply', { x: 3, y: 4 }), []);
    assert.deepEqual(checkModelServiceOutput(studio, 'multiply', { product: 12 }), []);
    assert.deepEqual(
      checkModelPropertyPost(studio, { door: { value: 1 }, tags: { value: ['abcde'] } }).map((v) => v.rule),
      ['type', 'string-length'],
    );
  });
});

describe('thing model checks: odd input', () => {
  const { model } = importThingModel(fixture('current-all-types.json'));

  it('params that are not an object are one violation, not an exception', () => {
    for (const params of [null, 5, 'x', [1]]) {
      const found = checkModelPropertyPost(model, params as unknown as Record<string, unknown>);
      assert.deepEqual(
        found.map((v) => [v.path, v.rule]),
        [['params', 'type']],
      );
    }
    assert.equal(checkModelPropertyIdentifiers(model, 'temp' as unknown as string[])[0]?.rule, 'type');
  });

  it('never throw, whatever the values (fuzz)', () => {
    const identifier = fc.constantFrom(...model.properties.map((p) => p.identifier), 'alarm', 'nope');
    fc.assert(
      fc.property(fc.dictionary(identifier, fc.anything()), fc.anything(), (values, output) => {
        const posts = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v }]));
        for (const found of [
          checkModelPropertyPost(model, posts),
          checkModelPropertyValues(model, values),
          checkModelPropertySet(model, values),
          checkModelEventPost(model, 'alarm', output),
          checkModelServiceOutput(model, 'calibrate', output),
        ]) {
          for (const v of found) assert.ok(v.value.length <= 40 && typeof v.message === 'string');
        }
      }),
      { numRuns: 300 },
    );
  });
});
