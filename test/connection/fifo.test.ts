import assert from 'node:assert/strict';
import { Fifo } from '../../src/connection/fifo';

describe('connection / Fifo', () => {
  it('keeps first-in-first-out order across compaction', () => {
    const fifo = new Fifo<number>();
    for (let i = 0; i < 5000; i++) fifo.push(i);
    for (let i = 0; i < 4000; i++) assert.equal(fifo.shift(), i);
    assert.equal(fifo.length, 1000);
    fifo.push(5000);
    assert.equal(fifo.peek(), 4000);
    const rest = fifo.drain();
    assert.deepEqual(
      rest,
      Array.from({ length: 1001 }, (_, i) => 4000 + i),
    );
    assert.equal(fifo.length, 0);
    assert.equal(fifo.shift(), undefined);
  });

  it('puts items back in front in their own order', () => {
    const fifo = new Fifo<string>();
    fifo.push('c');
    fifo.push('d');
    fifo.shift();
    fifo.unshiftAll(['a', 'b']);
    assert.deepEqual(fifo.drain(), ['a', 'b', 'd']);
  });
});
