import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

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
export function prepareUserDir(userDir: string, packageRoot: string): void {
  mkdirSync(userDir, { recursive: true });
  const link = join(userDir, 'node_modules', PACKAGE_NAME);
  if (!existsSync(link)) {
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(packageRoot, link, 'dir');
  }
  const settings = join(userDir, 'settings.js');
  if (!existsSync(settings)) {
    writeFileSync(
      settings,
      `module.exports = {
  flowFile: 'flows.json',
  // Credentials are encrypted with this fixed secret: fine for a local demo, never for production.
  credentialSecret: 'onenet-demo',
  uiHost: '127.0.0.1',
  telemetry: { enabled: false },
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { tours: false, palette: {}, projects: { enabled: false } },
};
`,
    );
  }
}

export async function startNodeRed(
  userDir: string,
  port: number,
  onLine: (line: string) => void,
): Promise<NodeRedProcess> {
  const redJs = require.resolve('node-red/red.js');
  const child = spawn(process.execPath, [redJs, '--userDir', userDir, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const forward = (chunk: Buffer) => chunk.toString().split('\n').filter(Boolean).forEach(onLine);
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const url = `http://127.0.0.1:${port}`;
  await waitForAdminApi(url, child);
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGINT');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

async function waitForAdminApi(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited with code ${child.exitCode}`);
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

export async function deployFlows(url: string, flows: unknown[]): Promise<void> {
  const response = await fetch(`${url}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(flows),
  });
  if (!response.ok) throw new Error(`POST /flows answered ${response.status}: ${await response.text()}`);
}
