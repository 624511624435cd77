/**
 * Issue 16's crash figure, the long version of test/reliability/crash.test.ts: a real `node-red` with
 * a device on offlinePolicy 'store', posting 100 values a second, killed with SIGKILL at random points,
 * alternately while storing (the emulator not listening) and while backfilling (listening, replies
 * held back 1 s so that kills land between OneNET keeping a value and the store hearing so), and
 * restarted each time; then run until the store is empty. Beside it, the same cycles ended by
 * Node-RED's orderly stop (SIGINT), measured in the same run: what a crash costs over a restart.
 * Run: node .build/bench/bench-11-crash.js [--kills N] [--seed S]
 */
import { runCrashTest, type CrashRunResult } from '../test/support/crash-run';
import { formatTable, median } from './stats';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const KILLS = flag('--kills', 10);
const SEED = flag('--seed', Date.now() % 1_000_000);

async function run(signal: 'SIGKILL' | 'SIGINT'): Promise<CrashRunResult> {
  console.log(`${signal}: ${KILLS} stops, seed ${SEED}`);
  return runCrashTest({
    kills: KILLS,
    storingKillMs: [1000, 6000],
    backfillKillMs: [100, 4000],
    replyDelayMs: 1000,
    drainTimeoutMs: 300_000,
    seed: SEED,
    signal,
    log: (line) => console.log(`  ${line}`),
  });
}

function column(result: CrashRunResult): Array<string | number> {
  const backfilling = result.kills.filter((kill) => kill.phase === 'backfilling');
  return [
    result.kills.length,
    backfilling.filter((kill) => kill.undelivered + kill.unanswered > 0).length,
    result.generated,
    result.reportedStored + result.reportedSent,
    result.delivered,
    result.lost.length,
    result.duplicates,
    result.timeChanged,
    result.unknown,
    result.tornSkipped,
    median(result.startupMs),
    result.durationMs / 1000,
  ];
}

async function main(): Promise<void> {
  const killed = await run('SIGKILL');
  const stopped = await run('SIGINT');
  const labels = [
    'stops',
    'stops during a backfill with values waiting',
    'values made by the flow',
    'reported stored or sent',
    'distinct values delivered',
    'lost (reported, never delivered)',
    'extra copies delivered',
    'repeats with another time',
    'delivered values the flow never made',
    'torn ends skipped',
    'start-up, median (ms)',
    'whole run (s)',
  ];
  const ours = column(killed);
  const baseline = column(stopped);
  console.log(
    '\n' +
      formatTable(
        `Crash: SIGKILL beside an orderly stop, ${KILLS} each, seed ${SEED}`,
        ['', 'SIGKILL', 'SIGINT'],
        labels.map((label, i) => [label, ours[i]!, baseline[i]!]),
      ),
  );
  const met = killed.lost.length === 0 && killed.timeChanged === 0 && killed.unknown === 0;
  console.log(
    `\ngoal: lost 0 (every repeat identical, nothing replayed that was never made): ${met ? 'met' : 'NOT met'}`,
  );
  if (!met) process.exitCode = 1;
}

void main();
