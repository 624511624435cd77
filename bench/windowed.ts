import { performance } from 'node:perf_hooks';

/** Sends `total` messages keeping at most `window` in flight, as a bounded producer (or Node-RED's scheduler) does. */

export interface WindowedResult {
  ok: number;
  failed: number;
  firstError?: string;
  /** From the first send to the last completion. */
  elapsedMs: number;
  perSecond: number;
}

export function runWindowed(
  total: number,
  window: number,
  sendOne: (sequence: number) => Promise<unknown>,
): Promise<WindowedResult> {
  return new Promise((resolve) => {
    let sent = 0;
    let ok = 0;
    let failed = 0;
    let firstError: string | undefined;
    const started = performance.now();
    const settle = (): void => {
      if (ok + failed === total) {
        const elapsedMs = performance.now() - started;
        const result: WindowedResult = { ok, failed, elapsedMs, perSecond: (ok / elapsedMs) * 1000 };
        if (firstError !== undefined) result.firstError = firstError;
        resolve(result);
      } else if (sent < total) {
        next();
      }
    };
    const next = (): void => {
      const sequence = sent++;
      sendOne(sequence).then(
        () => {
          ok++;
          settle();
        },
        (error: unknown) => {
          failed++;
          firstError ??= (error as Error)?.message ?? String(error);
          settle();
        },
      );
    };
    if (total === 0) settle();
    while (sent < Math.min(total, window)) next();
  });
}
