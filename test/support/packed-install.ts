import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Installs this package the way a user does: `npm pack`, then `npm install <tarball>` into a fresh
 * Node-RED user directory. Shared by the end-to-end and browser tests.
 */

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

export interface PackedInstall {
  workDir: string;
  userDir: string;
  /** Where the package landed: <userDir>/node_modules/@iot-flows/node-red-onenet */
  packageDir: string;
}

export function installPackedPackage(settings: string): PackedInstall {
  const workDir = mkdtempSync(join(tmpdir(), 'onenet-packed-'));
  const packOutput = execFileSync(NPM, ['pack', '--ignore-scripts', '--pack-destination', workDir], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  const tarball = join(workDir, packOutput.trim().split('\n').pop()!.trim());
  const userDir = join(workDir, 'user');
  mkdirSync(userDir);
  writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-user-dir', private: true }));
  writeFileSync(join(userDir, 'settings.js'), settings);
  execFileSync(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
    cwd: userDir,
    stdio: 'ignore',
  });
  return { workDir, userDir, packageDir: join(userDir, 'node_modules', '@iot-flows', 'node-red-onenet') };
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

export async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
