import assert from 'node:assert/strict';
import { TakingTurns } from '../../src/connection/taking-turns';

/** Work that runs until the test finishes it. */
function pending(): { promise: Promise<void>; finish: () => void; fail: (error: Error) => void } {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return { promise, finish, fail };
}

/** Lets every promise callback that is ready run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TakingTurns (sub-devices bound a few at a time)', () => {
  it('runs at most the limit at once, the others in the order they came, each once a turn is free', async () => {
    const turns = new TakingTurns(2);
    const works = [0, 1, 2, 3].map(() => pending());
    const started: number[] = [];
    const done = works.map((work, i) =>
      turns.run(() => {
        started.push(i);
        return work.promise;
      }),
    );
    await settle();
    assert.deepEqual(started, [0, 1]);
    works[1]!.finish();
    await done[1];
    await settle();
    assert.deepEqual(started, [0, 1, 2]);
    works[0]!.finish();
    await settle();
    assert.deepEqual(started, [0, 1, 2, 3]);
    works[2]!.finish();
    works[3]!.finish();
    await Promise.all(done);
  });

  it('gives the turn of failed work to the next, and the failure to its caller', async () => {
    const turns = new TakingTurns(1);
    const first = pending();
    const started: string[] = [];
    const failing = turns.run(() => {
      started.push('first');
      return first.promise;
    });
    const second = turns.run(async () => {
      started.push('second');
    });
    await settle();
    assert.deepEqual(started, ['first']);
    first.fail(new Error('refused'));
    await assert.rejects(failing, /refused/);
    await second;
    assert.deepEqual(started, ['first', 'second']);
    // With nothing waiting, the turn is given back: the next runs at once.
    let third = false;
    await turns.run(async () => {
      third = true;
    });
    assert.equal(third, true);
  });
});
