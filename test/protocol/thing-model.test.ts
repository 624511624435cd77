import assert from 'node:assert/strict';
import {
  checkEventPost,
  checkPropertyGet,
  checkPropertyPost,
  checkPropertySet,
  checkServiceInvoke,
  dataTypeError,
  parseThingModel,
  type ThingDataType,
  type ThingModel,
} from '../../src/protocol/thing-model';

describe('thing model value checks (§3.1)', () => {
  const accepts: Array<[ThingDataType, unknown]> = [
    [{ type: 'int' }, 3],
    [{ type: 'int', min: 0, max: 10 }, 10],
    [{ type: 'float' }, 1.5],
    [{ type: 'double', min: -1 }, -1],
    [{ type: 'bool' }, false],
    [{ type: 'enum', values: { '0': 'off', '1': 'on' } }, 1],
    [{ type: 'string', maxLength: 3 }, 'abc'],
    [{ type: 'date' }, 1700000000000],
    [{ type: 'date' }, '1700000000000'],
    [{ type: 'struct', fields: [{ identifier: 'a', dataType: { type: 'int' } }] }, { a: 1 }],
    [{ type: 'struct', fields: [{ identifier: 'a', dataType: { type: 'int' } }] }, {}],
    [{ type: 'array', item: { type: 'string' }, maxLength: 2 }, ['x', 'y']],
  ];
  for (const [dataType, value] of accepts) {
    it(`accepts ${JSON.stringify(value)} as ${JSON.stringify(dataType)}`, () => {
      assert.equal(dataTypeError(dataType, value, 'v'), undefined);
    });
  }

  const refuses: Array<[ThingDataType, unknown, RegExp]> = [
    [{ type: 'int' }, 1.5, /integer/],
    [{ type: 'int' }, '3', /number/],
    [{ type: 'int', max: 10 }, 11, /maximum/],
    [{ type: 'float', min: 0 }, -0.1, /minimum/],
    [{ type: 'double' }, Number.NaN, /number/],
    [{ type: 'bool' }, 1, /true or false/],
    [{ type: 'enum', values: { '0': 'off' } }, 2, /not one of/],
    [{ type: 'enum', values: { '0': 'off' } }, '0', /enum integer/],
    [{ type: 'string', maxLength: 2 }, 'abc', /longer/],
    [{ type: 'string' }, 5, /string/],
    [{ type: 'date' }, 'yesterday', /timestamp/],
    [
      { type: 'struct', fields: [{ identifier: 'a', dataType: { type: 'int' } }] },
      { b: 1 },
      /v\.b is not a declared field/,
    ],
    [
      { type: 'struct', fields: [{ identifier: 'a', dataType: { type: 'int' } }] },
      { a: 'x' },
      /v\.a must be a number/,
    ],
    [{ type: 'array', item: { type: 'int' } }, [1, 'x'], /v\[1\]/],
    [{ type: 'array', item: { type: 'int' }, maxLength: 1 }, [1, 2], /more than 1/],
    [{ type: 'array', item: { type: 'int' } }, { 0: 1 }, /array/],
  ];
  for (const [dataType, value, reason] of refuses) {
    it(`refuses ${JSON.stringify(value)} as ${JSON.stringify(dataType)}`, () => {
      assert.match(dataTypeError(dataType, value, 'v') ?? '', reason);
    });
  }
});

describe('thing model message checks (§3.2 codes)', () => {
  const model: ThingModel = {
    properties: [
      { identifier: 'temp', dataType: { type: 'float' } },
      { identifier: 'serial', accessMode: 'r', dataType: { type: 'string' } },
    ],
    events: [{ identifier: 'alarm', outputs: [{ identifier: 'level', dataType: { type: 'int' } }] }],
    services: [
      { identifier: 'reboot', inputs: [{ identifier: 'delay', dataType: { type: 'int' } }], outputs: [] },
    ],
  };

  it('property post: 309 for unknown identifiers, 302 for wrong types', () => {
    assert.equal(checkPropertyPost(model, { temp: { value: 1.5 }, serial: { value: 'a' } }), undefined);
    assert.equal(checkPropertyPost(model, { hum: { value: 1 } })?.code, 309);
    assert.equal(checkPropertyPost(model, { temp: { value: 'hot' } })?.code, 302);
  });

  it('event post checks the event and its outputs', () => {
    assert.equal(checkEventPost(model, { alarm: { value: { level: 2 } } }), undefined);
    assert.equal(checkEventPost(model, { fire: { value: {} } })?.code, 309);
    assert.equal(checkEventPost(model, { alarm: { value: { level: 'x' } } })?.code, 302);
    assert.equal(checkEventPost(model, { alarm: { value: { other: 1 } } })?.code, 302);
  });

  it('property set refuses read-only properties with 313', () => {
    assert.equal(checkPropertySet(model, { temp: 2 }), undefined);
    assert.equal(checkPropertySet(model, { serial: 'x' })?.code, 313);
    assert.equal(checkPropertySet(model, { nope: 1 })?.code, 309);
  });

  it('property get and service invoke check identifiers and inputs', () => {
    assert.equal(checkPropertyGet(model, ['temp', 'serial']), undefined);
    assert.equal(checkPropertyGet(model, ['temp', 'x'])?.code, 309);
    assert.equal(checkServiceInvoke(model, 'reboot', { delay: 1 }), undefined);
    assert.equal(checkServiceInvoke(model, 'shutdown', {})?.code, 309);
    assert.equal(checkServiceInvoke(model, 'reboot', { delay: 'now' })?.code, 302);
  });
});

describe('parseThingModel', () => {
  it('reads every data type and keeps what it understands', () => {
    const json = {
      properties: [
        {
          identifier: 'a',
          name: 'A',
          accessMode: 'r',
          dataType: { type: 'int', min: 0, max: 9, unit: '°C' },
        },
        { identifier: 'b', dataType: { type: 'enum', values: { '0': 'off', '1': 'on' } } },
        {
          identifier: 'c',
          dataType: {
            type: 'array',
            maxLength: 3,
            item: { type: 'struct', fields: [{ identifier: 'x', dataType: { type: 'date' } }] },
          },
        },
        { identifier: 'd', dataType: { type: 'string', maxLength: 10 } },
        { identifier: 'e', dataType: { type: 'bool' } },
        { identifier: 'f', dataType: { type: 'double' } },
      ],
      events: [{ identifier: 'ev', outputs: [{ identifier: 'o', dataType: { type: 'float' } }] }],
      services: [{ identifier: 'sv', inputs: [], outputs: [{ identifier: 'r', dataType: { type: 'int' } }] }],
    };
    assert.deepEqual(parseThingModel(json), json);
  });

  const broken: Array<[unknown, RegExp]> = [
    [[], /must be an object/],
    [{ properties: {} }, /thingModel\.properties must be an array/],
    [{ properties: [{ identifier: 'a-b', dataType: { type: 'int' } }] }, /properties\[0\]\.identifier/],
    [
      { properties: [{ identifier: 'a', dataType: { type: 'long' } }] },
      /properties\[0\]\.dataType\.type must be one of/,
    ],
    [
      { properties: [{ identifier: 'a', dataType: { type: 'enum', values: { on: 'x' } } }] },
      /must be an integer/,
    ],
    [{ properties: [{ identifier: 'a', accessMode: 'w', dataType: { type: 'int' } }] }, /accessMode/],
    [{ properties: [{ identifier: 'a', dataType: { type: 'int', min: 'low' } }] }, /min must be a number/],
    [
      { events: [{ identifier: 'e', outputs: [{ identifier: 'o' }] }] },
      /events\[0\]\.outputs\[0\]\.dataType/,
    ],
    [
      { services: [{ identifier: 's', inputs: [{ identifier: 'i', dataType: { type: 'array' } }] }] },
      /item must be an object/,
    ],
  ];
  for (const [json, reason] of broken) {
    it(`refuses ${JSON.stringify(json)} naming the fault`, () => {
      assert.throws(() => parseThingModel(json), reason);
    });
  }
});
