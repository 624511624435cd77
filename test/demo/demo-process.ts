import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/packed-install';

/**
 * Runs `npm start` as the user does (the built launcher, without npm's rebuild), as a process group
 * of its own so a failed test can still end the demo and the Node-RED it started.
 */

const START_JS = join(REPO_ROOT, 'nodes', 'demo', 'start.js');

export interface DemoProcess {
  output(): string;
  /**
   * Resolves with the first match in the output from character `from` on, printed so far or to come;
   * rejects after timeoutMs or when the demo exits without printing it.
   */
  waitFor(pattern: RegExp, timeoutMs: number, from?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, as a service manager would; resolves with the exit code. */
  stop(timeoutMs: number): Promise<number | null>;
  /** Last resort for after(): the whole process group, Node-RED included. */
  kill(): void;
}

export function startDemo(env: NodeJS.ProcessEnv, args: string[] = []): DemoProcess {
  const child: ChildProcess = spawn(process.execPath, [START_JS, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let running = true;
  void exited.then(() => {
    running = false;
    for (const listener of listeners) listener();
  });

  const waitFor = (pattern: RegExp, timeoutMs: number, from = 0) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output.slice(from));
        if (match) return done(() => resolve(match));
        if (!running) done(() => reject(new Error(`the demo exited before printing ${pattern}:\n${output}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`))),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });

  return {
    output: () => output,
    waitFor,
    stop: async (timeoutMs) => {
      if (running) child.kill('SIGTERM');
      const timer = new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`the demo did not stop within ${timeoutMs} ms`)),
          timeoutMs,
        ).unref(),
      );
      return Promise.race([exited, timer]);
    },
    kill: () => {
      if (!running || child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}
