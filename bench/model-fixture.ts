/**
 * The thing model and posts the model-check benchmarks use (issue 14: "a benchmark posts through a
 * 100-point model vs no model"): a 100-point model written the way the current console exports it,
 * and a post of ten properties, one of every data type, that the model accepts.
 */

const TYPES = ['int32', 'float', 'double', 'enum', 'bool', 'string', 'int64', 'date', 'bitMap', 'struct'];

/** A 100-point model written the way the current console exports it (strings for numbers). */
export function exportWith100Points(): unknown {
  const properties = Array.from({ length: 100 }, (_, i) => {
    const type = TYPES[i % TYPES.length]!;
    const specs: Record<string, unknown> =
      type === 'enum'
        ? { 0: 'off', 1: 'on', 2: 'auto' }
        : type === 'bool'
          ? { true: 'on', false: 'off' }
          : type === 'string'
            ? { length: 32 }
            : type === 'bitMap'
              ? { length: 8, define: [] }
              : type === 'date'
                ? {}
                : { min: '-1000', max: '1000', step: '', unit: '' };
    const dataType =
      type === 'struct'
        ? {
            type,
            specs: [
              { identifier: 'a', name: 'a', dataType: { type: 'int32', specs: { min: '0', max: '100' } } },
              { identifier: 'b', name: 'b', dataType: { type: 'string', specs: { length: 8 } } },
            ],
          }
        : { type, specs };
    return {
      identifier: `p${i}`,
      name: `point ${i}`,
      functionType: 'u',
      accessMode: 'rw',
      desc: '',
      dataType,
      functionMode: 'property',
      required: false,
    };
  });
  return { version: '1.0', properties, events: [], services: [], combs: [] };
}

/** A post of 10 properties (one of every type), `{identifier: {value}}`. */
export function tenPropertyPost(): Record<string, { value: unknown }> {
  const params: Record<string, { value: unknown }> = {};
  for (const [identifier, value] of Object.entries(tenPropertyValues(0))) params[identifier] = { value };
  return params;
}

/**
 * The same ten properties as a flow hands them to the property post node (`{identifier: value}`),
 * varied by `sequence` within the model's ranges, so no two posts are alike.
 */
export function tenPropertyValues(sequence: number): Record<string, unknown> {
  const values: unknown[] = [
    sequence % 1000,
    21.5 + (sequence % 10),
    0.25,
    sequence % 3,
    sequence % 2 === 0,
    'hello',
    999,
    1700000000000 + sequence,
    sequence % 256,
    { a: sequence % 100, b: 'x' },
  ];
  const params: Record<string, unknown> = {};
  for (let i = 0; i < 10; i++) params[`p${i * 10 + i}`] = values[i];
  return params;
}
