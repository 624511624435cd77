import { readFileSync } from 'node:fs';

/**
 * Summarises a V8 .cpuprofile (from --cpu-prof): self time per function and per package, so the
 * hot path can be read without a browser.
 *
 *   node .build/bench/profile-summary.js <file.cpuprofile> [top=30]
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  name: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time: spent in the function's own code. */
  functions: HotSpot[];
  packages: HotSpot[];
  /** Total time: the function and everything it called (counted once per stack, however deep the recursion). */
  inclusive: HotSpot[];
}

export function summariseProfile(profile: Profile): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const name = frameName(byId.get(at)!.callFrame);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    totalUs += us;
    const name = frameName(frame);
    functions.set(name, (functions.get(name) ?? 0) + us);
    const pkg = packageOf(frame.url, frame.functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  }
  const rank = (map: Map<string, number>): HotSpot[] =>
    [...map.entries()]
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: us / totalUs }))
      .sort((a, b) => b.selfMs - a.selfMs);
  return {
    totalMs: totalUs / 1000,
    functions: rank(functions),
    packages: rank(packages),
    inclusive: rank(inclusive),
  };
}

function frameName(frame: ProfileNode['callFrame']): string {
  const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'} ${where}`.trim();
}

function shortUrl(url: string): string {
  const nodeModules = url.lastIndexOf('node_modules/');
  if (nodeModules >= 0) return url.slice(nodeModules + 'node_modules/'.length);
  const ours = url.indexOf('/nodes/');
  if (ours >= 0) return `onenet${url.slice(ours)}`;
  return url.replace(/^file:\/\//, '');
}

/** Which package a frame belongs to: ours, a dependency, Node.js itself, or V8 (GC, idle, program). */
function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node:internal';
  const nodeModules = url.lastIndexOf('node_modules/');
  if (nodeModules >= 0) {
    const rest = url.slice(nodeModules + 'node_modules/'.length).split('/');
    const name = rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
    // This package is linked into the Node-RED user directory.
    return name === '@iot-flows' ? 'node-red-onenet (ours)' : name;
  }
  if (url.includes('/nodes/')) return 'node-red-onenet (ours)';
  return 'other';
}

function main(): void {
  const [file, topText] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node .build/bench/profile-summary.js <file.cpuprofile> [top]');
    process.exit(2);
  }
  const top = Number(topText ?? 30);
  const summary = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  console.log(`total sampled: ${summary.totalMs.toFixed(0)} ms\n\nself time by package:`);
  for (const spot of summary.packages.slice(0, 15))
    console.log(
      `${spot.selfMs.toFixed(0).padStart(8)} ms ${(spot.share * 100).toFixed(1).padStart(5)}%  ${spot.name}`,
    );
  console.log('\nself time by function:');
  for (const spot of summary.functions.slice(0, top))
    console.log(
      `${spot.selfMs.toFixed(0).padStart(8)} ms ${(spot.share * 100).toFixed(1).padStart(5)}%  ${spot.name}`,
    );
  console.log("\ntotal time (self + callees) of this package's functions:");
  for (const spot of summary.inclusive.filter((s) => s.name.includes('onenet/')).slice(0, top))
    console.log(
      `${spot.selfMs.toFixed(0).padStart(8)} ms ${(spot.share * 100).toFixed(1).padStart(5)}%  ${spot.name}`,
    );
}

if (require.main === module) main();
