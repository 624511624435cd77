import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runThroughput } from './bench-1-throughput';
import { runNoReply } from './bench-2-no-reply';
import { runCommandRoundTrip } from './bench-3-command-rtt';
import { runScale } from './bench-4-scale';
import { runPacedFlood } from './bench-5-paced-flood';
import { runModelCheck } from './bench-7-model-check';
import { REPO_ROOT } from './node-red-harness';
import { machineDescription } from './proc-stats';
import { verdict, type BenchContext, type BenchReport } from './report';

/**
 * `npm run bench`: every benchmark in turn, each printing its table(s) with the baseline beside
 * ours, then a summary of the goals. Results: bench/results/<name>.json and summary.json.
 *
 *   --quick        smoke mode: small counts, same code paths (about two minutes; #4 and #5 run once, #6 floods for 15 s, not 60)
 *   --only=1,3     run only these benchmarks
 *   --profile      Node-RED runs with --cpu-prof; profiles go to bench/results/profiles/
 */

interface Benchmark {
  number: number;
  run: (context: BenchContext) => Promise<BenchReport | BenchReport[]>;
}

/** #4 and #5 share their Node-RED processes (the redeploy is of the flow #4 deployed), so they run together. */
const BENCHMARKS: Benchmark[] = [
  { number: 1, run: runThroughput },
  { number: 2, run: runNoReply },
  { number: 3, run: runCommandRoundTrip },
  { number: 4, run: runScale },
  // #5 is the redeploy, measured by runScale; the paced flood is #6 (bench-5-paced-flood.ts, as the
  // fifth benchmark file).
  { number: 6, run: runPacedFlood },
  { number: 7, run: runModelCheck },
];

const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = args
    .find((arg) => arg.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',')
    .map(Number);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const context: BenchContext = { quick, progress: (line) => console.log(line) };
  if (args.includes('--profile')) {
    context.cpuProfileDir = join(RESULTS_DIR, 'profiles');
    mkdirSync(context.cpuProfileDir, { recursive: true });
  }

  const environment = {
    ...machineDescription(),
    node: process.version,
    nodeRed: packageVersion('node-red'),
    mqtt: packageVersion('mqtt'),
    aedes: packageVersion('aedes'),
    mode: quick ? 'quick' : 'full',
    // The machine may be shared: a load well above 0 before the start means other work competed.
    loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    date: new Date().toISOString(),
  };
  console.log(
    `machine: ${environment.cpus} cores (${environment.cpuModel}), ${environment.memoryGiB} GiB; ` +
      `Node.js ${environment.node}, Node-RED ${environment.nodeRed}, MQTT.js ${environment.mqtt}, aedes ${environment.aedes}; ` +
      `${environment.mode} mode; load average ${environment.loadAverageAtStart}`,
  );

  const started = performance.now();
  const reports: BenchReport[] = [];
  const failures: string[] = [];
  for (const benchmark of BENCHMARKS) {
    if (only && !only.includes(benchmark.number) && !(benchmark.number === 4 && only.includes(5))) continue;
    const benchStarted = performance.now();
    console.log(`\n== benchmark ${benchmark.number === 4 ? '4 and 5' : benchmark.number} ==`);
    try {
      const produced = await benchmark.run(context);
      for (const report of Array.isArray(produced) ? produced : [produced]) {
        reports.push(report);
        console.log('');
        for (const table of report.tables) console.log(`${table}\n`);
        const file = join(RESULTS_DIR, `${report.name}.json`);
        writeFileSync(
          file,
          JSON.stringify({ environment, title: report.title, goals: report.goals, ...report.data }, null, 2),
        );
      }
    } catch (error) {
      failures.push(`benchmark ${benchmark.number}: ${(error as Error).stack ?? String(error)}`);
      console.error(`benchmark ${benchmark.number} failed: ${(error as Error).stack ?? String(error)}`);
    }
    console.log(
      `(benchmark ${benchmark.number} took ${((performance.now() - benchStarted) / 1000).toFixed(0)} s)`,
    );
  }
  const totalSeconds = (performance.now() - started) / 1000;

  console.log('\n== goals ==');
  for (const report of reports) {
    for (const goal of report.goals) console.log(`${verdict(goal)}  ${goal.goal}: ${goal.measured}`);
  }
  console.log(`\nall benchmarks took ${totalSeconds.toFixed(0)} s`);
  writeFileSync(
    join(RESULTS_DIR, 'summary.json'),
    JSON.stringify(
      {
        environment,
        totalSeconds,
        goals: reports.flatMap((r) => r.goals.map((g) => ({ benchmark: r.name, ...g }))),
        failures,
      },
      null,
      2,
    ),
  );
  if (failures.length > 0) process.exitCode = 1;
}

function packageVersion(name: string): string {
  try {
    // Read from node_modules directly: ESM-only packages (aedes) do not export their package.json.
    const file = join(REPO_ROOT, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(1);
});
