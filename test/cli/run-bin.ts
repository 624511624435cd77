import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

// Compiled to .build/test/cli; the bin script loads the build in nodes/ (npm test builds it first).
export const TOKEN_BIN = resolve(__dirname, '..', '..', '..', 'bin', 'onenet-token.js');

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the child's stdin, which is then closed; an empty pipe when absent. */
  stdin?: string;
  /** Added to the environment, from which ONENET_KEY is removed so the caller's shell cannot leak in. */
  env?: Record<string, string>;
}

/** Runs `bin/onenet-token.js` as a user's shell would, and collects what it printed. */
export function runToken(args: readonly string[], options: RunOptions = {}): Promise<Finished> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (!options.env || !('ONENET_KEY' in options.env)) delete env.ONENET_KEY;
  const child = spawn(process.execPath, [TOKEN_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // The child may exit before reading stdin (a usage error); the broken pipe is not the test's concern.
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolveRun, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}
