import { performance } from 'node:perf_hooks';
import {
  checkModelPropertyPost,
  importThingModel,
  serializeMessage,
  buildRequest,
  type TslModel,
} from '../src/protocol';
import { exportWith100Points, tenPropertyPost } from './model-fixture';

/**
 * Micro-benchmark of the thing-model check (issue 14: "CPU per post ≤ 1.1 × without"): ns per
 * checkModelPropertyPost of a 10-property post against a 100-point model, against no check, and
 * beside the cost of serialising the same post (what every post pays anyway). Median of several runs.
 *
 *   npm run pretest && node .build/bench/model-check.js [--runs=7] [--iterations=200000]
 *
 * Not part of `npm run bench` (bench/run-all.ts).
 */

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** ns per call of `run`, median of `runs` runs of `iterations` calls each. */
function nsPerCall(run: () => unknown, runs: number, iterations: number): number {
  const results: number[] = [];
  let sink = 0;
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) if (run()) sink++;
    results.push(((performance.now() - start) * 1e6) / iterations);
  }
  if (sink < 0) console.log(sink);
  return median(results);
}

function main(): void {
  const option = (name: string, fallback: number): number => {
    const found = process.argv.find((arg) => arg.startsWith(`--${name}=`));
    return found ? Number(found.split('=')[1]) : fallback;
  };
  const runs = option('runs', 7);
  const iterations = option('iterations', 200_000);
  const { model, problems } = importThingModel(exportWith100Points());
  if (problems.length > 0) throw new Error(`fixture not understood: ${problems[0]!.message}`);
  const params = tenPropertyPost();
  const violations = checkModelPropertyPost(model, params);
  if (violations.length > 0) throw new Error(`the post should pass: ${violations[0]!.message}`);
  const check = (m: TslModel): number => checkModelPropertyPost(m, params).length;
  // Warm up both paths so the JIT has compiled them before measuring.
  nsPerCall(() => check(model), 1, iterations);
  const none = nsPerCall(() => params, runs, iterations);
  const checked = nsPerCall(() => check(model), runs, iterations);
  let id = 0;
  const serialise = nsPerCall(
    () => serializeMessage(buildRequest(String(++id), params)).length,
    runs,
    iterations,
  );
  const row = (label: string, ns: number): string => `${label.padEnd(44)} ${ns.toFixed(0).padStart(8)} ns`;
  console.log(`model check, 10-property post, 100-point model (median of ${runs} × ${iterations})`);
  console.log(row('no check', none));
  console.log(row('checkModelPropertyPost', checked));
  console.log(row('check cost (checked − no check)', checked - none));
  console.log(row('serialising the post (every post pays this)', serialise));
  console.log(
    `serialise + check vs serialise alone: ${((serialise + checked - none) / serialise).toFixed(2)} ×`,
  );
}

if (require.main === module) main();
