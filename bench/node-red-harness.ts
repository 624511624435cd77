import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deployFlows, prepareUserDir, startNodeRed, type NodeRedProcess } from '../src/demo/node-red-process';
import { BENCH_SOURCE_HTML, BENCH_SOURCE_TYPE } from './bench-node';
import { BENCH_MINIMAL_HTML, BENCH_MINIMAL_TYPE } from './bench-minimal-node';

/**
 * A real node-red process for a benchmark: a fresh user directory with this package linked in (as
 * `npm install <folder>` would), flows deployed through the admin API, and a few helpers the bench
 * flows reach through the global context (a precise clock, a forced-GC memory sample).
 */

export const REPO_ROOT = resolve(__dirname, '..', '..');

export interface BenchNodeRed {
  url: string;
  pid: number;
  /** Every line Node-RED printed (warnings and errors; its log level is 'warn'). */
  log: string[];
  deploy(flows: unknown[]): Promise<void>;
  /** GET an endpoint of a bench flow (http in node) and parse its JSON answer. */
  get<T>(path: string, query?: Record<string, string | number | boolean>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Write a V8 CPU profile (--cpu-prof) of the whole Node-RED process into this directory on exit. */
  cpuProfileDir?: string;
}

/**
 * settings.js: --expose-gc cannot be set through NODE_OPTIONS by startNodeRed's caller, so the flag
 * is set at run time and gc() fetched from a fresh context (a documented V8 idiom). The flows reach
 * the helpers in flow-helpers.ts as global.get('bench'), and the bench-source node from nodesDir.
 */
function settingsFile(nodesDir: string): string {
  return `const v8 = require('node:v8');
v8.setFlagsFromString('--expose-gc');
const gc = require('node:vm').runInNewContext('gc');
const { createBenchHelpers } = require(${JSON.stringify(join(__dirname, 'flow-helpers.js'))});
module.exports = {
  flowFile: 'flows.json',
  credentialSecret: 'bench-only',
  uiHost: '127.0.0.1',
  telemetry: { enabled: false },
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  editorTheme: { tours: false, projects: { enabled: false } },
  functionGlobalContext: { bench: createBenchHelpers(gc) },
  nodesDir: [${JSON.stringify(nodesDir)}],
};
`;
}

export async function startBenchNodeRed(options: StartOptions = {}): Promise<BenchNodeRed> {
  const userDir = mkdtempSync(join(tmpdir(), 'onenet-bench-nr-'));
  const nodesDir = join(userDir, 'bench-nodes');
  mkdirSync(nodesDir);
  writeFileSync(
    join(nodesDir, `${BENCH_SOURCE_TYPE}.js`),
    `module.exports = require(${JSON.stringify(join(__dirname, 'bench-node.js'))}).registerBenchNodes;\n`,
  );
  writeFileSync(join(nodesDir, `${BENCH_SOURCE_TYPE}.html`), BENCH_SOURCE_HTML);
  writeFileSync(
    join(nodesDir, `${BENCH_MINIMAL_TYPE}.js`),
    `module.exports = require(${JSON.stringify(join(__dirname, 'bench-minimal-node.js'))}).registerMinimalNode;\n`,
  );
  writeFileSync(join(nodesDir, `${BENCH_MINIMAL_TYPE}.html`), BENCH_MINIMAL_HTML);
  writeFileSync(join(userDir, 'settings.js'), settingsFile(nodesDir));
  prepareUserDir(userDir, REPO_ROOT);
  let nodeBinary: string | undefined;
  if (options.cpuProfileDir) {
    // --cpu-prof is refused in NODE_OPTIONS, and startNodeRed passes no flags: a one-line launcher adds it.
    nodeBinary = join(userDir, 'node-with-cpu-prof.sh');
    writeFileSync(
      nodeBinary,
      `#!/bin/sh\nexec "${process.execPath}" --cpu-prof --cpu-prof-dir="${options.cpuProfileDir}" "$@"\n`,
    );
    chmodSync(nodeBinary, 0o755);
  }
  const log: string[] = [];
  let nodeRed: NodeRedProcess;
  try {
    nodeRed = await startNodeRed(
      userDir,
      await freePort(),
      (line) => log.push(line),
      nodeBinary ? { nodeBinary } : {},
    );
  } catch (error) {
    rmSync(userDir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\n${log.slice(-20).join('\n')}`, { cause: error });
  }
  const { url } = nodeRed;
  return {
    url,
    pid: nodeRed.child.pid!,
    log,
    deploy: (flows) => deployFlows(url, flows),
    async get<T>(
      path: string,
      query: Record<string, string | number | boolean> = {},
      timeoutMs = 300_000,
    ): Promise<T> {
      const search = new URLSearchParams(
        Object.entries(query).map(([key, value]): [string, string] => [key, String(value)]),
      );
      const response = await fetch(`${url}${path}?${search}`, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) throw new Error(`GET ${path} answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as T;
    },
    async stop() {
      await nodeRed.stop();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Lines Node-RED printed that report a problem with our nodes or a stuck close. */
export function problemLines(log: readonly string[]): string[] {
  return log.filter((line) => /\[(error|warn)\]/.test(line));
}
