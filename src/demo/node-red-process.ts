import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeDemoSettings, type SettingsOutcome } from './demo-settings';
import { localUrl } from './editor-host';

/** Starts a real Node-RED for the demo, with this package installed in its user directory. */

export interface NodeRedProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const PACKAGE_NAME = '@iot-flows/node-red-onenet';

/**
 * Lays out the user directory: a settings file and this package linked into its node_modules,
 * which is what `npm install <folder>` in ~/.node-red does too.
 */
export function prepareUserDir(userDir: string, packageRoot: string): SettingsOutcome {
  mkdirSync(userDir, { recursive: true });
  const link = join(userDir, 'node_modules', PACKAGE_NAME);
  if (!existsSync(link)) {
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(packageRoot, link, 'dir');
  }
  return writeDemoSettings(userDir);
}

/**
 * Names the package directory of another Node-RED install to run instead of the one this package is
 * developed against (CI points it at Node-RED 5, which needs Node.js 22). Read in this one place, so
 * the demo, the node tests and the end-to-end tests always agree on which Node-RED they run.
 */
export const NODE_RED_HOME_VARIABLE = 'ONENET_NODE_RED';

/** The package directory of the Node-RED to run. */
export function nodeRedPackageDir(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env[NODE_RED_HOME_VARIABLE];
  return chosen ? resolve(chosen) : dirname(require.resolve('node-red/package.json'));
}

export interface StartNodeRedOptions {
  /** The Node.js binary that runs Node-RED; default: the one running this process. */
  nodeBinary?: string;
  /** Node-RED's launcher script; default: red.js of nodeRedPackageDir(). */
  redJs?: string;
  /** The environment of the Node-RED process; default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** The address the editor listens on, over the settings file's uiHost; default: the settings'. */
  host?: string;
  /** Aborting it while Node-RED starts stops the process, so a Ctrl-C then leaves nothing running. */
  signal?: AbortSignal;
}

export async function startNodeRed(
  userDir: string,
  port: number,
  onLine: (line: string) => void,
  options: StartNodeRedOptions = {},
): Promise<NodeRedProcess> {
  const redJs = options.redJs ?? join(nodeRedPackageDir(), 'red.js');
  const args = [redJs, '--userDir', userDir, '--port', String(port)];
  if (options.host !== undefined) args.push('--define', `uiHost=${options.host}`);
  const child = spawn(options.nodeBinary ?? process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
  });
  const forward = (chunk: Buffer) => chunk.toString().split('\n').filter(Boolean).forEach(onLine);
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const url = localUrl(options.host ?? '127.0.0.1', port);
  const stop = () =>
    new Promise<void>((resolve) => {
      if (hasExited(child)) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGINT');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  const onAbort = () => void stop();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (options.signal?.aborted) throw new Error('Node-RED start aborted');
    await waitForAdminApi(url, child);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return { url, child, stop };
}

/** A process killed by a signal has no exit code, only a signal code. */
function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function waitForAdminApi(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (hasExited(child))
      throw new Error(
        `Node-RED exited with ${child.exitCode !== null ? `code ${child.exitCode}` : child.signalCode}`,
      );
    try {
      const response = await fetch(`${url}/settings`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('Node-RED did not start within 60 s');
}

export async function getFlows(
  url: string,
): Promise<Array<{ id: string; type: string; [key: string]: unknown }>> {
  const response = await fetch(`${url}/flows`, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`GET /flows answered ${response.status}`);
  return (await response.json()) as Array<{ id: string; type: string }>;
}

/**
 * `full` restarts every node; `nodes` only those that changed (a node sent with credentials counts
 * as changed), which leaves the user's own devices connected while the demo re-points its own.
 */
export type DeploymentType = 'full' | 'nodes';

export async function deployFlows(
  url: string,
  flows: unknown[],
  type: DeploymentType = 'full',
): Promise<void> {
  const response = await fetch(`${url}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': type },
    body: JSON.stringify(flows),
  });
  if (!response.ok) throw new Error(`POST /flows answered ${response.status}: ${await response.text()}`);
}
