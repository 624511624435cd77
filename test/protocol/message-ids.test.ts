import assert from 'node:assert/strict';
import { createMessageIdGenerator } from '../../src/protocol';

/**
 * The id generator keeps its counter in two parts for speed (issue 6); its ids must still be exactly
 * String(counter), across every boundary between the parts and at the 13-digit wrap.
 */

function reference(first: number): () => string {
  let next = first;
  return () => {
    const id = String(next);
    next = next + 1 >= 10 ** 13 ? 1 : next + 1;
    return id;
  };
}

describe('protocol / message id generator', () => {
  // Each start is a little before a boundary of the six-digit low part, or before the wrap.
  const starts = [0, 7, 998_500, 1_998_999, 123_999_000, 1_732_560_999_000, 9_999_999_998_800];
  for (const first of starts) {
    it(`gives String(counter) from ${first} on, across part boundaries and the wrap`, () => {
      const fast = createMessageIdGenerator(first);
      const slow = reference(first);
      for (let i = 0; i < 3000; i++) {
        const expected = slow();
        const actual = fast();
        if (actual !== expected) assert.fail(`id ${i} from ${first}: ${actual} instead of ${expected}`);
      }
    });
  }

  it('still gives String(counter) for a start that is not a whole number', () => {
    const next = createMessageIdGenerator(2.5);
    assert.deepEqual([next(), next()], ['2.5', '3.5']);
  });
});
