/**
 * #10 Gateway with 1,000 sub-devices (issue 15, Scale): 1,000 sub-devices behind one gateway in one
 * Node-RED, each with a property post node posting one property every 10 s for 120 s, at
 * uplinkRate 10 and 1, beside the alternative a user has today, 1,000 direct devices (#4's run,
 * bench-4-scale.ts, measured in the same run). Figures: values lost and stored with their time,
 * failed posts by reason, uplinks a second as the emulator saw them, end-to-end lag p50/p99, memory
 * and CPU per sub-device, and the time until all are bound and logged in; each beside what OneNET's
 * limits physically allow (gateway-limits.ts).
 *
 * Why the runs are what they are: topo/add and sub/login carry one sub-device each, and every
 * uplink takes a slot of the gateway's budget, so binding 1,000 sub-devices takes 2,002 messages
 * and logging in 1,000 bound ones 1,002 (the two are topo/get and topo/get/result). At rate 1 that
 * is 33 minutes, or 17 pre-bound: a run that waited for it would take far longer than the 10
 * minutes a full run may. So:
 * - rate 10: the sub-devices are pre-bound in the emulator (as if bound in the console, which its
 *   topology supports), logged in (about 100 s), then post for 120 s;
 * - rate 1, 1,000 sub-devices: pre-bound too, posting from the deploy on for 120 s, which is what a
 *   user who deploys this sees first: logins go before posts, so this measures the first minutes;
 * - rate 1 at full load, scaled: 20 sub-devices, bound by the run (which measures binding at rate 1
 *   on a small count), then each posting every 200 ms: the same 100 values a second against 10 a
 *   second of capacity as 1,000 posting every 10 s, through the same scheduler, in 60 s;
 * - binding at rate 10 on a scaled count: 200 sub-devices not bound, topo/add and sub/login each;
 * - rate1-all, only when asked for (about 22 minutes): the 1,000 pre-bound at rate 1, posting once all
 *   are logged in, with posts that may wait long enough for every value to arrive.
 * Memory per sub-device (rate-10 run, before any post) and per direct device (#4's flow, in a
 * Node-RED of its own) are both sampled once RSS has settled (gateway-memory.ts says why); #4's own
 * sample is printed beside them.
 *
 * Run: npm run pretest && node .build/bench/bench-10-gateway.js [--quick] [--only=a,b]
 *   --quick    200 sub-devices, 30 s of posts, scaled runs smaller (about 3 minutes)
 *   --only=    some of: direct, rate10, rate1, bind10, rate1-scaled, rate1-all (rate1-all runs only when named)
 * Results: bench/results/gateway.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeRedRun } from './bench-4-scale';
import { benchDevices } from './devices';
import { gatewayRun, type GatewayRun } from './gateway-run';
import { directSettledMemory } from './gateway-memory';
import { gatewayReport, type DirectRun, type GatewayPlan } from './gateway-report';
import { REPO_ROOT } from './node-red-harness';
import { machineDescription } from './proc-stats';
import { verdict, withCleanup, type BenchContext } from './report';
import { EmulatorWorker } from './workers';

const POST_INTERVAL_MS = 10_000;
/** The scaled rate-1 run: its sub-devices post N times as often, so 100 values a second are offered. */
const SCALED_INTERVAL_PER_SUB_MS = 10;

/** rate1-all: how long a post may wait, and how many may wait on the gateway. */
const LONG_WAIT_MS = 300_000;
const LONG_QUEUE_LIMIT = 30_000;

function plan(quick: boolean): GatewayPlan {
  const count = quick ? 200 : 1000;
  const seconds = quick ? 30 : 120;
  const bindCount = quick ? 40 : 200;
  const scaledCount = quick ? 10 : 20;
  const scaledSeconds = quick ? 15 : 60;
  const scaledInterval = scaledCount * SCALED_INTERVAL_PER_SUB_MS;
  const perDevice = seconds / (POST_INTERVAL_MS / 1000);
  const base = { count, intervalMs: POST_INTERVAL_MS, perDevice, preBound: true };
  return {
    quick,
    count,
    seconds,
    directCpuWindowMs: quick ? 4000 : 20_000,
    runs: [
      { ...base, key: 'rate10', rate: 10, posting: 'after-login', memory: true },
      { ...base, key: 'rate1', rate: 1, posting: 'at-deploy', memory: false },
      {
        key: 'bind10',
        rate: 10,
        count: bindCount,
        preBound: false,
        posting: 'none',
        intervalMs: POST_INTERVAL_MS,
        perDevice: 0,
        memory: false,
      },
      {
        key: 'rate1-scaled',
        rate: 1,
        count: scaledCount,
        preBound: false,
        posting: 'after-login',
        intervalMs: scaledInterval,
        perDevice: (scaledSeconds * 1000) / scaledInterval,
        memory: false,
      },
      {
        // The 1,000 at rate 1 once all are logged in (about 17 minutes of logins first): every value
        // can arrive if a post may wait for its sub-device's visit, which at rate 1 comes every 200 s
        // (gateway-limits.ts), so the posts wait up to 300 s and the gateway lets 30,000 wait.
        ...base,
        key: 'rate1-all',
        rate: 1,
        posting: 'after-login',
        memory: false,
        timeoutMs: LONG_WAIT_MS,
        queueLimit: LONG_QUEUE_LIMIT,
        optIn: true,
      },
    ],
  };
}

/**
 * #4's measurement of `count` direct devices (bench-4-scale.ts nodeRedRun: logins, memory, CPU,
 * redeploy), then the same flow's memory sampled once settled, as the gateway's is.
 */
async function directRun(context: BenchContext, count: number, cpuWindowMs: number): Promise<DirectRun> {
  const devices = benchDevices('gw-direct', count);
  return withCleanup(async (defer) => {
    const emulator = await EmulatorWorker.start(devices);
    defer(() => emulator.stop());
    const run = await nodeRedRun(context, emulator, 'ours', devices, 1, cpuWindowMs);
    return { run, settled: await directSettledMemory(emulator, count) };
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = args
    .find((arg) => arg.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',');
  const wanted = (key: string, optIn = false): boolean => (only ? only.includes(key) : !optIn);
  const thePlan = plan(quick);
  const context: BenchContext = { quick, progress: (line) => console.log(line) };
  const started = Date.now();

  let direct: DirectRun | undefined;
  if (wanted('direct')) {
    console.log(`direct: ${thePlan.count} direct devices (#4)`);
    direct = await directRun(context, thePlan.count, thePlan.directCpuWindowMs);
    console.log(
      `  logged in ${direct.run.connectMs} ms, ${(direct.run.rssPerDevice / 1024).toFixed(1)} KB RSS/device ` +
        `(settled: ${(direct.settled.rss / 1024).toFixed(1)}), CPU ${direct.run.cpuPercent.toFixed(2)} %, ` +
        `posts ${direct.run.posts.ok}/${direct.run.posts.sent}`,
    );
  }
  const runs: GatewayRun[] = [];
  for (const spec of thePlan.runs) {
    if (!wanted(spec.key, spec.optIn)) continue;
    console.log(
      `${spec.key}: ${spec.count} sub-devices at uplinkRate ${spec.rate}` +
        `${spec.preBound ? ', pre-bound' : ''}, posting ${spec.posting}`,
    );
    const run = await gatewayRun(spec, context.progress);
    runs.push(run);
    const posting = run.posting?.figures;
    console.log(
      `  ${run.login.logins} logins (${(run.login.allLoggedInMs / 1000).toFixed(1)} s for all, minimum ` +
        `${(run.minimumBindingMs / 1000).toFixed(1)} s)` +
        (posting
          ? `; posts ${posting.ok} ok, ${posting.failed} failed, ${posting.valuesLost} values lost, ` +
            `lag p50 ${posting.lag.p50.toFixed(0)} ms p99 ${posting.lag.p99.toFixed(0)} ms`
          : '') +
        (run.memory ? `; ${(run.memory.rss / 1024).toFixed(1)} KB RSS/sub-device` : ''),
    );
  }

  const report = gatewayReport(thePlan, direct, runs);
  console.log('');
  for (const table of report.tables) console.log(`${table}\n`);
  for (const goal of report.goals) console.log(`${verdict(goal)}  ${goal.goal}: ${goal.measured}`);
  const resultsDir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    join(resultsDir, 'gateway.json'),
    JSON.stringify(
      {
        environment: { ...machineDescription(), node: process.version },
        elapsedSeconds: (Date.now() - started) / 1000,
        plan: thePlan,
        direct,
        runs,
        goals: report.goals,
      },
      null,
      2,
    ),
  );
  console.log(
    `\n${((Date.now() - started) / 1000).toFixed(0)} s in all; results in bench/results/gateway.json`,
  );
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
