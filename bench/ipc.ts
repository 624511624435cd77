import { fork, type ChildProcess } from 'node:child_process';

/**
 * Request/answer over a forked child's IPC channel. Every benchmark puts the broker and the baseline
 * clients in child processes of their own, so none of them shares an event loop (or a core's time
 * slice accounting) with the thing measured, and each can be measured (RSS, CPU) on its own.
 */

interface CallMessage {
  id: number;
  command: string;
  args: unknown;
}

type AnswerMessage = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** The first message a child sends once it is ready; `info` is whatever the child reports (e.g. a port). */
interface ReadyMessage {
  ready: true;
  info: unknown;
}

export type CommandHandlers = Record<string, (args: never) => unknown>;

export interface Worker<Info> {
  readonly info: Info;
  readonly pid: number;
  call<T>(command: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Asks the child to stop and waits for it to exit (killed after 5 s). */
  stop(): Promise<void>;
}

const DEFAULT_CALL_TIMEOUT_MS = 120_000;

/** The first message to a child: its start-up arguments (over IPC, as a thousand devices exceed argv's limit). */
interface InitMessage {
  init: unknown;
}

/** Forks `script`, hands it `init` and waits for its ready message. */
export async function startWorker<Info>(
  script: string,
  init: unknown,
  execArgv: string[] = [],
): Promise<Worker<Info>> {
  const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  child.send({ init } satisfies InitMessage);
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const failAll = (error: Error): void => {
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  child.on('exit', (code, signal) => failAll(new Error(`${script} exited (${code ?? signal})`)));
  const info = await new Promise<Info>((resolve, reject) => {
    const onExit = (code: number | null): void =>
      reject(new Error(`${script} exited during start (${code})`));
    child.once('exit', onExit);
    child.once('message', (message: ReadyMessage | AnswerMessage) => {
      child.off('exit', onExit);
      if ('ready' in message) resolve(message.info as Info);
      else
        reject(
          new Error(`${script} did not start: ${'error' in message ? message.error : 'no ready message'}`),
        );
    });
  });
  child.on('message', (message: AnswerMessage) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.result);
    else waiter.reject(new Error(message.error));
  });
  return {
    info,
    pid: child.pid!,
    call<T>(command: string, args?: unknown, timeoutMs = DEFAULT_CALL_TIMEOUT_MS): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${command} took longer than ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value as T);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        const message: CallMessage = { id, command, args };
        child.send(message);
      });
    },
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.send({ id: 0, command: 'exit', args: undefined } satisfies CallMessage);
  });
}

/** Child side: reports `info` as ready, then answers each call with its handler's (awaited) result. */
export function serveCommands(info: unknown, handlers: CommandHandlers, onExit: () => Promise<void>): void {
  process.on('message', (message: CallMessage) => {
    if (message.command === 'exit') {
      void onExit().finally(() => process.exit(0));
      return;
    }
    const handler = handlers[message.command];
    const answer = (reply: AnswerMessage): void => {
      process.send?.(reply);
    };
    if (!handler) {
      answer({ id: message.id, ok: false, error: `unknown command ${message.command}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(message.args as never))
      .then(
        (result) => answer({ id: message.id, ok: true, result }),
        (error: unknown) =>
          answer({ id: message.id, ok: false, error: (error as Error)?.message ?? String(error) }),
      );
  });
  // The parent going away must not leave a broker or 1,000 clients running.
  process.on('disconnect', () => void onExit().finally(() => process.exit(0)));
  process.send?.({ ready: true, info } satisfies ReadyMessage);
}

/** What the parent passed to startWorker. */
export function receiveInit<T>(): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: InitMessage): void => {
      if (!('init' in message)) return;
      process.off('message', onMessage);
      resolve(message.init as T);
    };
    process.on('message', onMessage);
  });
}
