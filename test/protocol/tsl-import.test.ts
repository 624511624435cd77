import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { importThingModel, type TslDataType, type TslModel } from '../../src/protocol';
import { fixture, fixturePath } from './tsl-fixtures';

function typeOf(model: TslModel, identifier: string): TslDataType {
  const property = model.properties.find((p) => p.identifier === identifier);
  assert.ok(property, `property ${identifier}`);
  return property.dataType;
}

describe('thing model import: current console export (onenet-next.md §1.2a)', () => {
  const { model, problems } = importThingModel(fixture('current-all-types.json'));

  it('understands the whole file', () => assert.deepEqual(problems, []));

  it('reads every data type with its specs, numbers written as strings, "" as absent', () => {
    assert.deepEqual(typeOf(model, 'temp'), {
      type: 'float',
      min: -40,
      max: 85.5,
      step: 0.1,
      unit: '摄氏度 / °C',
    });
    assert.deepEqual(typeOf(model, 'energy'), { type: 'double', min: 0, max: 1000000, unit: '千瓦时 / kWh' });
    assert.deepEqual(typeOf(model, 'target'), {
      type: 'int32',
      min: 0,
      max: 3000,
      step: 10,
      unit: '瓦特 / W',
    });
    assert.deepEqual(typeOf(model, 'counter'), { type: 'int64', min: 0 });
    assert.deepEqual(typeOf(model, 'mode'), { type: 'enum', values: { 0: '待机', 1: '运行', 2: '维护' } });
    assert.deepEqual(typeOf(model, 'relay'), { type: 'bool', labels: { true: '闭合', false: '断开' } });
    assert.deepEqual(typeOf(model, 'label'), { type: 'string', length: 8 });
    assert.deepEqual(typeOf(model, 'lastReset'), { type: 'date' });
    const faults = typeOf(model, 'faults');
    assert.equal(faults.type === 'bitMap' && faults.length, 4);
    assert.deepEqual(faults.type === 'bitMap' && faults.bits[3], {
      bit: 3,
      labels: { 0: '正常', 1: '过温' },
    });
    const location = typeOf(model, 'location');
    assert.deepEqual(
      location.type === 'struct' && location.members.map((m) => [m.identifier, m.name, m.dataType.type]),
      [
        ['lat', '纬度', 'double'],
        ['lon', '经度', 'double'],
        ['src', '来源', 'string'],
      ],
    );
    assert.deepEqual(typeOf(model, 'samples'), {
      type: 'array',
      length: 3,
      item: { type: 'int32', min: 0, max: 100 },
    });
    const lbs = typeOf(model, '$OneNET_LBS');
    assert.equal(lbs.type === 'array' && lbs.item.type, 'struct');
  });

  it('reads access modes, point fields, events and services, and keeps unknown keys', () => {
    const temp = model.properties[0]!;
    assert.equal(temp.accessMode, 'r');
    assert.equal(temp.functionType, 'u');
    assert.equal(temp.required, false);
    assert.deepEqual(temp.extra, { functionMode: 'property' });
    assert.equal(model.properties.find((p) => p.identifier === 'relay')?.required, true);
    assert.deepEqual(model.extra, {
      version: '1.0',
      profile: { industryId: '3', sceneId: '31', categoryId: '402', productId: 'Tm7dQ2xLp9' },
      combs: [],
    });
    const alarm = model.events[0]!;
    assert.equal(alarm.eventType, 'alert');
    assert.deepEqual(
      alarm.output.map((p) => p.identifier),
      ['powerOff', 'reason'],
    );
    const service = model.services[0]!;
    assert.equal(service.callType, 's');
    assert.deepEqual(service.input[0]?.dataType, { type: 'float', min: -5, max: 5 });
    assert.deepEqual(service.output[0]?.dataType, { type: 'enum', values: { 0: '成功', 1: '失败' } });
  });

  it('importing the normalised model again gives the same model', () => {
    const again = importThingModel(JSON.parse(JSON.stringify(model)));
    assert.deepEqual(again, { model, problems: [] });
  });

  it('accepts the JSON text as well as the parsed object', () => {
    const text = readFileSync(fixturePath('current-all-types.json'), 'utf8');
    assert.deepEqual(importThingModel(text), { model, problems: [] });
  });
});

describe('thing model import: Studio export (onenet-next.md §1.2b)', () => {
  const { model, problems } = importThingModel(fixture('studio-all-types.json'));

  it('understands the whole file', () => assert.deepEqual(problems, []));

  it('reads null specs, string lengths, {size, items} and {size, item} arrays, 0/1 bool labels', () => {
    assert.deepEqual(typeOf(model, 'voltage'), { type: 'float', min: 0, max: 500, unit: '伏特 / V' });
    assert.deepEqual(typeOf(model, 'setpoint'), { type: 'int32', min: -1000, max: 1000 });
    assert.deepEqual(typeOf(model, 'uptime'), {
      type: 'int64',
      min: 0,
      max: 9007199254740991,
      unit: '秒 / s',
    });
    assert.deepEqual(typeOf(model, 'ratio'), { type: 'double', min: 0, max: 1 });
    assert.deepEqual(typeOf(model, 'level'), { type: 'enum', values: { 1: '低', 2: '中', 3: '高' } });
    assert.deepEqual(typeOf(model, 'door'), { type: 'bool', labels: { false: '关', true: '开' } });
    assert.deepEqual(typeOf(model, 'firmware'), { type: 'string', length: 16 });
    assert.deepEqual(typeOf(model, 'bootTime'), { type: 'date' });
    assert.deepEqual(typeOf(model, 'status'), {
      type: 'bitMap',
      length: 8,
      bits: [{ bit: 0, labels: { 0: '正常', 1: '故障' } }],
    });
    assert.deepEqual(typeOf(model, 'history'), {
      type: 'array',
      length: 4,
      item: { type: 'double', min: 0, max: 100 },
    });
    assert.deepEqual(typeOf(model, 'tags'), {
      type: 'array',
      length: 2,
      item: { type: 'string', length: 4 },
    });
    const config = typeOf(model, 'config');
    assert.deepEqual(config.type === 'struct' && config.members[1]?.dataType, {
      type: 'bool',
      labels: { true: '是', false: '否' },
    });
  });

  it('reads input/output, callType s/a and eventType', () => {
    assert.deepEqual(
      model.services.map((s) => [s.identifier, s.callType, s.input.length, s.output.length]),
      [
        ['multiply', 's', 2, 1],
        ['restart', 'a', 0, 0],
      ],
    );
    assert.deepEqual(
      model.events.map((e) => [e.identifier, e.eventType, e.output.length, e.desc]),
      [
        ['overload', 'error', 1, ''],
        ['heartbeat', 'info', 0, ''],
      ],
    );
  });
});

describe('thing model import: key variants (onenet-next.md §1.3)', () => {
  const param = { identifier: 'p', name: 'P', dataType: { type: 'int32', specs: { min: '0', max: '9' } } };
  const expectedParam = { identifier: 'p', name: 'P', dataType: { type: 'int32', min: 0, max: 9 } };

  it('input/inputData, output/outputData, inputs/outputs of the own format', () => {
    for (const [inKey, outKey] of [
      ['input', 'output'],
      ['inputData', 'outputData'],
      ['inputs', 'outputs'],
    ] as const) {
      const { model, problems } = importThingModel({
        services: [{ identifier: 's', [inKey]: [param], [outKey]: [param] }],
      });
      assert.deepEqual(problems, []);
      assert.deepEqual(model.services[0]?.input, [expectedParam], inKey);
      assert.deepEqual(model.services[0]?.output, [expectedParam], outKey);
    }
  });

  it('eventType/type for events, functionType/fuctionType, callType "sync"', () => {
    const { model, problems } = importThingModel({
      events: [{ identifier: 'e', type: 'info', fuctionType: 'u', output: [param] }],
      services: [{ identifier: 's', callType: 'sync' }],
    });
    assert.deepEqual(problems, []);
    assert.equal(model.events[0]?.eventType, 'info');
    assert.equal(model.events[0]?.functionType, 'u');
    assert.deepEqual(model.events[0]?.output, [expectedParam]);
    assert.equal(model.services[0]?.callType, 's');
  });

  it('both array shapes, with the lengths as strings or numbers (literal specs from the documents)', () => {
    const shapes = [
      // [TP-1] cell_info
      { type: 'array', specs: { length: 10, type: 'string', specs: { length: 256 } } },
      // [DOC-QH] om-update
      { type: 'array', specs: { length: '10', type: 'string', specs: { length: '256' } } },
      // [DOC-IOT] querySystemThingModel
      { type: 'array', specs: { size: '10', items: { type: 'string', specs: { length: 256 } } } },
      // [DOC-QH] $arrayTest
      { type: 'array', specs: { size: 10, item: { type: 'string', specs: { length: '256' } } } },
    ];
    for (const dataType of shapes) {
      const { model, problems } = importThingModel({ properties: [{ identifier: 'a', dataType }] });
      assert.deepEqual(problems, []);
      assert.deepEqual(model.properties[0]?.dataType, {
        type: 'array',
        length: 10,
        item: { type: 'string', length: 256 },
      });
    }
  });

  it('null and "" for step, unit, desc and max mean absent', () => {
    for (const empty of [null, '']) {
      const { model, problems } = importThingModel({
        properties: [
          {
            identifier: 'x',
            desc: empty,
            dataType: { type: 'float', specs: { min: '-1', max: empty, unit: empty, step: empty } },
          },
        ],
      });
      assert.deepEqual(problems, []);
      assert.deepEqual(model.properties[0], {
        identifier: 'x',
        name: '',
        desc: '',
        functionType: '',
        accessMode: 'rw',
        dataType: { type: 'float', min: -1 },
      });
    }
  });

  it('the emulator’s own earlier format: int is int64; values, maxLength, fields, item, outputs', () => {
    const { model, problems } = importThingModel({
      properties: [
        { identifier: 'n', accessMode: 'r', dataType: { type: 'int', min: 0, max: 10, unit: 'm' } },
        { identifier: 'e', dataType: { type: 'enum', values: { 0: 'off', 1: 'on' } } },
        { identifier: 's', dataType: { type: 'string', maxLength: 3 } },
        {
          identifier: 'st',
          dataType: { type: 'struct', fields: [{ identifier: 'a', dataType: { type: 'bool' } }] },
        },
        { identifier: 'ar', dataType: { type: 'array', maxLength: 2, item: { type: 'double' } } },
      ],
      events: [{ identifier: 'ev', outputs: [{ identifier: 'l', dataType: { type: 'int' } }] }],
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(
      model.properties.map((p) => p.dataType),
      [
        { type: 'int64', min: 0, max: 10, unit: 'm' },
        { type: 'enum', values: { 0: 'off', 1: 'on' } },
        { type: 'string', length: 3 },
        { type: 'struct', members: [{ identifier: 'a', name: '', dataType: { type: 'bool', labels: {} } }] },
        { type: 'array', length: 2, item: { type: 'double' } },
      ],
    );
    assert.equal(model.properties[0]?.accessMode, 'r');
    assert.deepEqual(model.events[0]?.output[0]?.dataType, { type: 'int64' });
  });

  it('the Studio API answer {data: {...}} is unwrapped', () => {
    const { model, problems } = importThingModel({
      data: { properties: [param] },
      requestId: 'r',
      success: true,
    });
    assert.deepEqual(problems, []);
    assert.equal(model.properties[0]?.identifier, 'p');
  });

  it('keeps unknown keys of points, params, data types and specs', () => {
    const { model } = importThingModel({
      properties: [
        {
          identifier: 'k',
          color: 'red',
          dataType: { type: 'int32', hint: 1, specs: { min: '0', precision: 2 } },
        },
      ],
    });
    assert.deepEqual(model.properties[0]?.extra, { color: 'red' });
    assert.deepEqual(model.properties[0]?.dataType, {
      type: 'int32',
      min: 0,
      extra: { hint: 1, precision: 2 },
    });
  });
});

describe('thing model import: what it cannot understand', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['not JSON text', '{"properties": [', /^$/],
    ['not an object', 42, /^$/],
    ['a list that is not a list', { properties: 'x' }, /^properties$/],
    ['an entry without identifier', { properties: [{ name: 'n' }] }, /^properties\[0\]$/],
    [
      'a duplicate identifier',
      { properties: [{ identifier: 'a' }, { identifier: 'a' }] },
      /^properties\[1\]$/,
    ],
    [
      'an unknown data type',
      { properties: [{ identifier: 'a', dataType: { type: 'color' } }] },
      /^properties\[0\]\.dataType\.type$/,
    ],
    ['a missing data type', { properties: [{ identifier: 'a' }] }, /^properties\[0\]\.dataType$/],
    [
      'a min that is no number',
      { properties: [{ identifier: 'a', dataType: { type: 'int32', specs: { min: 'low' } } }] },
      /specs\.min$/,
    ],
    [
      'a bad access mode',
      { properties: [{ identifier: 'a', accessMode: 'w', dataType: { type: 'bool' } }] },
      /accessMode$/,
    ],
    [
      'an enum key that is no integer',
      { properties: [{ identifier: 'a', dataType: { type: 'enum', specs: { x: 'y', 1: 'z' } } }] },
      /specs\.x$/,
    ],
    [
      'a bitMap wider than 32',
      { properties: [{ identifier: 'a', dataType: { type: 'bitMap', specs: { length: 40 } } }] },
      /specs\.length$/,
    ],
    [
      'a negative string length',
      { properties: [{ identifier: 'a', dataType: { type: 'string', specs: { length: -1 } } }] },
      /specs\.length$/,
    ],
    [
      'a struct member without identifier',
      { events: [{ identifier: 'e', outputData: [{ dataType: { type: 'bool' } }] }] },
      /^events\[0\]\.outputData\[0\]$/,
    ],
  ];
  for (const [what, input, path] of cases) {
    it(`reports ${what} with its path and still builds a model`, () => {
      const { model, problems } = importThingModel(input);
      assert.ok(problems.length > 0);
      assert.ok(
        problems.some((p) => path.test(p.path) && p.message.length > 0),
        JSON.stringify(problems),
      );
      assert.ok(
        Array.isArray(model.properties) && Array.isArray(model.events) && Array.isArray(model.services),
      );
    });
  }

  it('keeps what it understood beside what it did not', () => {
    const { model, problems } = importThingModel({
      properties: [
        { identifier: 'good', dataType: { type: 'bool' } },
        { identifier: 'odd', dataType: { type: 'color' } },
      ],
    });
    assert.equal(problems.length, 1);
    assert.deepEqual(
      model.properties.map((p) => [p.identifier, p.dataType.type]),
      [
        ['good', 'bool'],
        ['odd', 'unknown'],
      ],
    );
  });

  it('keeps "__proto__" keys as data', () => {
    const { model } = importThingModel(JSON.parse('{"__proto__": {"x": 1}, "properties": []}'));
    assert.deepEqual(Object.getPrototypeOf(model.extra), Object.prototype);
    assert.deepEqual(Object.keys(model.extra ?? {}), ['__proto__']);
  });

  it('never throws, whatever the input (fuzz)', () => {
    const typeName = fc.constantFrom(
      'int32',
      'int64',
      'float',
      'double',
      'enum',
      'bool',
      'string',
      'date',
      'bitMap',
      'struct',
      'array',
      'x',
    );
    const dataType = fc.letrec((tie) => ({
      dataType: fc.record(
        {
          type: typeName,
          specs: fc.oneof(
            fc.anything(),
            fc.array(tie('param'), { maxLength: 3 }),
            fc.record(
              { length: fc.anything(), type: typeName, specs: fc.anything(), item: tie('dataType') },
              { requiredKeys: [] },
            ),
          ),
        },
        { requiredKeys: [] },
      ),
      param: fc.record(
        { identifier: fc.oneof(fc.string(), fc.anything()), name: fc.anything(), dataType: tie('dataType') },
        { requiredKeys: [] },
      ),
    }));
    const point = fc.record(
      {
        identifier: fc.oneof(fc.string(), fc.anything()),
        accessMode: fc.anything(),
        dataType: dataType.dataType,
        input: fc.oneof(fc.anything(), fc.array(dataType.param, { maxLength: 3 })),
        outputData: fc.oneof(fc.anything(), fc.array(dataType.param, { maxLength: 3 })),
        required: fc.anything(),
      },
      { requiredKeys: [] },
    );
    const model = fc.oneof(
      fc.anything(),
      fc.string(),
      fc.record(
        {
          properties: fc.array(point),
          events: fc.array(point),
          services: fc.array(point),
          version: fc.anything(),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(model, (input) => {
        const result = importThingModel(input);
        assert.ok(Array.isArray(result.model.properties));
        for (const problem of result.problems) assert.equal(typeof problem.message, 'string');
        // Idempotent: the normalised model imports to itself.
        const json = JSON.stringify(result.model);
        assert.deepEqual(JSON.stringify(importThingModel(JSON.parse(json)).model), json);
      }),
      { numRuns: 500 },
    );
  });
});
