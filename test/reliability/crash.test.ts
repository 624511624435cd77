import assert from 'node:assert/strict';
import { runCrashTest, type CrashRunResult } from '../support/crash-run';

/**
 * Issue 16: the store survives `kill -9`. A real `node-red` is killed 10 times at random points,
 * alternately while storing and while backfilling, and restarted; then every value the flow was told
 * was stored (or sent) must be at the emulator, a repeat identical to the first copy, and nothing
 * replayed that the flow never made. bench/bench-11-crash.ts runs the same for longer.
 */
describe('durable store: a real Node-RED killed with SIGKILL while storing and backfilling', function () {
  this.timeout(240_000);
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
  let result: CrashRunResult;

  before(async () => {
    result = await runCrashTest({
      kills: 10,
      storingKillMs: [800, 2500],
      backfillKillMs: [100, 900],
      replyDelayMs: 1000,
      drainTimeoutMs: 60_000,
      seed,
      log: (line) => process.env.CRASH_VERBOSE && console.log(line),
    });
    if (process.env.CRASH_VERBOSE) console.log(JSON.stringify({ ...result, kills: undefined }));
  });

  it(`loses no value reported stored or sent (seed ${seed})`, () => {
    assert.ok(result.reportedStored > 0, 'some posts were stored');
    assert.deepEqual(result.lost, [], `lost: ${JSON.stringify(result, null, 1)}`);
  });

  it('was killed while values were waiting in the store, not only between backfills', () => {
    const withWaiting = result.kills.filter(
      (kill) => kill.phase === 'backfilling' && kill.undelivered + kill.unanswered > 0,
    );
    assert.ok(withWaiting.length > 0, JSON.stringify(result.kills));
    assert.ok(result.viaHistory > 0, 'values were delivered by history post');
  });

  it('delivers a repeat identical to the first copy, each value within the life of the process that made it', () => {
    assert.equal(result.timeChanged, 0);
    assert.equal(result.timeOutsideRun, 0);
  });

  it('replays nothing the flow did not make', () => {
    assert.equal(result.unknown, 0);
  });
});
