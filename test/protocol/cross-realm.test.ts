import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import { isPlainObject, toEventParams, toPropertyParams, valueError } from '../../src/protocol';

/**
 * Node-RED runs function nodes in a vm context: the objects they put in msg.payload have that
 * context's Object.prototype. They are still plain data and must be accepted like local ones.
 */
describe('plain data from another realm (Node-RED function nodes)', () => {
  const foreign = runInNewContext('({ temperature: 21.5, nested: { a: [1, { b: true }] } })') as Record<
    string,
    unknown
  >;

  it('counts an object literal from a vm context as a plain object', () => {
    assert.notEqual(Object.getPrototypeOf(foreign), Object.prototype, 'the test object really is foreign');
    assert.equal(isPlainObject(foreign), true);
    assert.equal(valueError(foreign, 'payload'), undefined);
  });

  it('builds property and event params from it', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(toPropertyParams(foreign))).temperature, { value: 21.5 });
    assert.deepEqual(Object.keys(toEventParams('alarm', foreign)), ['alarm']);
  });

  it('still refuses class instances, Dates and Maps from any realm', () => {
    for (const source of [
      'new Date()',
      'new Map()',
      '(new (class Reading { constructor() { this.v = 1; } })())',
    ]) {
      assert.equal(isPlainObject(runInNewContext(source)), false, source);
    }
    class Local {
      v = 1;
    }
    assert.equal(isPlainObject(new Local()), false);
    assert.equal(isPlainObject(new Date()), false);
    assert.equal(isPlainObject(Buffer.from('x')), false);
  });
});
