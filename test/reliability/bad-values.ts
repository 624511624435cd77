import fc from 'fast-check';

/**
 * Bad input for the fuzz scenarios: values a flow might put in msg.payload (hand-picked and
 * generated), and bytes a broken or hostile platform might publish on the device's downlink topics.
 * Seeds are fixed so a failure can be replayed; the run's seed is printed with its figures.
 */

export interface NamedValue {
  name: string;
  value: unknown;
}

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < depth; i++) value = { level: value };
  return value;
}

function circular(): Record<string, unknown> {
  const value: Record<string, unknown> = { temp: 1 };
  value.self = value;
  return value;
}

class Reading {
  constructor(readonly temp = 1) {}
}

/** The values the issue names, and a few more a flow produces by mistake. */
export function nastyPayloads(): NamedValue[] {
  const circularInside = { temp: { a: 1 } as Record<string, unknown> };
  circularInside.temp.back = circularInside;
  return [
    { name: 'NaN', value: NaN },
    { name: 'Infinity', value: Infinity },
    { name: 'a number', value: 42 },
    { name: 'a string', value: 'temp=21.5' },
    { name: 'a JSON string', value: '{"temp": 21.5}' },
    { name: 'a 1 MB string', value: 'x'.repeat(1_000_000) },
    { name: 'null', value: null },
    { name: 'undefined', value: undefined },
    { name: 'true', value: true },
    { name: 'an empty object', value: {} },
    { name: 'an array', value: [1, 2, 3] },
    { name: 'a huge array', value: Array.from({ length: 200_000 }, (_, i) => i) },
    {
      name: 'an object holding a huge array',
      value: { samples: Array.from({ length: 200_000 }, (_, i) => i) },
    },
    { name: 'an object nested 100 deep', value: nested(100) },
    { name: 'a value nested 100 deep', value: { temp: nested(100) } },
    { name: 'a circular object', value: circular() },
    { name: 'a circular value', value: circularInside },
    { name: 'a Buffer', value: Buffer.from('temp') },
    { name: 'a Buffer value', value: { temp: Buffer.from([1, 2, 3]) } },
    { name: 'a NaN value', value: { temp: NaN } },
    { name: 'an Infinity value', value: { temp: -Infinity } },
    { name: 'a null value', value: { temp: null } },
    { name: 'an undefined value', value: { temp: undefined } },
    { name: 'a function value', value: { temp: () => 1 } },
    { name: 'a symbol value', value: { temp: Symbol('x') } },
    { name: 'a BigInt value', value: { temp: 10n } },
    { name: 'a Date value', value: { temp: new Date(0) } },
    { name: 'a Map', value: new Map([['temp', 1]]) },
    { name: 'a class instance', value: new Reading() },
    { name: 'an identifier with a space', value: { 'room temp': 1 } },
    { name: 'an identifier 60 characters long', value: { ['t'.repeat(60)]: 1 } },
    { name: 'a 100 000 character identifier', value: { ['k'.repeat(100_000)]: 1 } },
    { name: 'a 100 000 character key deep inside', value: { temp: { ['k'.repeat(100_000)]: NaN } } },
    { name: 'a topic-like identifier', value: { 'a/b/#': 1 } },
    { name: '__proto__ as identifier', value: JSON.parse('{"__proto__": 1}') },
    { name: 'a bad {value, time}', value: { temp: { value: 1, time: 'yesterday' } } },
    { name: 'a negative time', value: { temp: { value: 1, time: -5 } } },
    { name: 'a 300 KB value', value: { blob: 'y'.repeat(300_000) } },
  ];
}

const identifier = fc.stringMatching(/^[A-Za-z0-9_]{1,12}$/);

/** `count` generated payloads: anything at all, and objects that look almost right. */
export function randomPayloads(count: number, seed: number): unknown[] {
  return fc.sample(
    fc.oneof(
      fc.anything({
        maxDepth: 4,
        withBigInt: true,
        withBoxedValues: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withObjectString: true,
        withTypedArray: true,
        withSparseArray: true,
      }),
      fc.dictionary(identifier, fc.jsonValue({ maxDepth: 3 }), { minKeys: 1, maxKeys: 5 }),
      fc.dictionary(fc.string(), fc.anything({ maxDepth: 2 }), { maxKeys: 4 }),
    ),
    { seed, numRuns: count },
  );
}

/** Random values for the other msg properties the nodes read (msg.time, msg.event, msg.code, ...). */
export function randomScalars(count: number, seed: number): unknown[] {
  return fc.sample(
    fc.oneof(
      fc.anything({ maxDepth: 1, withBigInt: true, withDate: true }),
      fc.double(),
      fc.string({ maxLength: 80 }),
    ),
    { seed, numRuns: count },
  );
}

export interface BadDownlink {
  /** Topic suffix after `$sys/{pid}/{device}/`. */
  suffix: string;
  payload: Buffer;
  what: string;
}

/** The downlink topics our devices subscribe to (the post replies, and the three platform requests). */
export const DOWNLINK_SUFFIXES = [
  'thing/property/post/reply',
  'thing/event/post/reply',
  'thing/property/set',
  'thing/property/get',
  'thing/service/reboot/invoke',
];

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/**
 * Bad platform messages, each invalid by construction: random bytes that are not UTF-8 JSON, cut-off
 * JSON, a missing or wrong id, params of the wrong type, bad identifiers, non-object JSON, empty and
 * oversized payloads, and a request on a service topic whose identifier cannot be answered.
 */
export function badDownlinks(randomCount: number, seed: number): BadDownlink[] {
  const bad: BadDownlink[] = [];
  const bytes = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 300 }), { seed, numRuns: randomCount });
  const cuts = fc.sample(fc.double({ min: 0, max: 0.999, noNaN: true }), {
    seed: seed + 1,
    numRuns: randomCount,
  });
  bytes.forEach((random, i) => {
    const suffix = DOWNLINK_SUFFIXES[i % DOWNLINK_SUFFIXES.length]!;
    // 0xff is never valid UTF-8, so the text starts with U+FFFD and is never JSON.
    bad.push({ suffix, payload: Buffer.concat([Buffer.from([0xff]), random]), what: 'random bytes' });
    const whole = JSON.stringify({
      id: String(1000 + i),
      version: '1.0',
      params: { power: true },
      code: 200,
    });
    const cut = Math.floor(cuts[i]! * (whole.length - 1));
    bad.push({ suffix, payload: Buffer.from(whole.slice(0, cut)), what: 'cut-off JSON' });
  });
  const requests = ['thing/property/set', 'thing/property/get', 'thing/service/reboot/invoke'];
  const replies = ['thing/property/post/reply', 'thing/event/post/reply'];
  for (const suffix of DOWNLINK_SUFFIXES) {
    bad.push({ suffix, payload: Buffer.alloc(0), what: 'an empty payload' });
    for (const value of [null, 42, 'text', [1, 2], true])
      bad.push({ suffix, payload: json(value), what: 'non-object JSON' });
    bad.push({ suffix, payload: json({ pad: 'z'.repeat(300_000) }), what: 'a 300 KB payload without id' });
    bad.push({ suffix, payload: json({ id: '9'.repeat(100_000), code: 200 }), what: 'a 100 000 digit id' });
  }
  for (const suffix of requests) {
    const params = suffix === 'thing/property/get' ? ['temp'] : { power: true };
    bad.push({ suffix, payload: json({ version: '1.0', params }), what: 'no id' });
    for (const id of [7, 'abc', '12345678901234', '-1', null, {}, true])
      bad.push({ suffix, payload: json({ id, params }), what: 'a wrong id' });
    bad.push({ suffix, payload: json({ id: '77' }), what: 'no params' });
    for (const wrong of ['on', 5, null])
      bad.push({ suffix, payload: json({ id: '78', params: wrong }), what: 'params of the wrong type' });
    bad.push({
      suffix,
      payload: json({ id: '79', params: suffix === 'thing/property/get' ? { temp: 1 } : [1] }),
      what: 'params of the wrong shape',
    });
    bad.push({
      suffix,
      payload: json({ id: '80', params: suffix === 'thing/property/get' ? ['bad id'] : { 'bad id': 1 } }),
      what: 'a bad identifier in params',
    });
    if (suffix !== 'thing/property/get')
      bad.push({ suffix, payload: json({ id: '81', params: { power: null } }), what: 'a null value' });
  }
  for (const suffix of replies) {
    bad.push({ suffix, payload: json({ code: 200, msg: 'success' }), what: 'a reply without id' });
    bad.push({ suffix, payload: json({ id: 'x1', code: 200 }), what: 'a reply with a wrong id' });
    bad.push({ suffix, payload: json({ id: '90', code: '200' }), what: 'a reply with a string code' });
    bad.push({ suffix, payload: json({ id: '91', code: 1.5 }), what: 'a reply with a fractional code' });
    bad.push({ suffix, payload: json({ id: '92', code: 200, msg: 5 }), what: 'a reply with a numeric msg' });
  }
  for (const service of ['bad id', 'a.b', 'x'.repeat(60)]) {
    bad.push({
      suffix: `thing/service/${service}/invoke`,
      payload: json({ id: '95', version: '1.0', params: {} }),
      what: 'a service identifier that cannot be answered',
    });
  }
  return bad;
}
