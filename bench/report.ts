/** What each benchmark hands back to run-all: printed tables, goal verdicts and the JSON it writes. */

export interface BenchContext {
  /** Smoke mode: fewer messages and devices, same code paths. */
  quick: boolean;
  /** When set, Node-RED processes write --cpu-prof profiles here. */
  cpuProfileDir?: string;
  progress(line: string): void;
}

export interface Goal {
  goal: string;
  measured: string;
  met: boolean;
  /** A figure the issue asks to report, with no bound to meet. */
  reported?: boolean;
}

/** The verdict column of a goal line. */
export function verdict(goal: Goal): string {
  if (goal.reported) return 'report ';
  return goal.met ? 'met    ' : 'NOT met';
}

export interface BenchReport {
  /** File name of bench/results/<name>.json. */
  name: string;
  title: string;
  tables: string[];
  goals: Goal[];
  /** Everything measured, per run; written as JSON. */
  data: Record<string, unknown>;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `body` and then every cleanup, newest first, whatever happened; cleanup errors are only printed. */
export async function withCleanup<T>(
  body: (defer: (cleanup: () => Promise<void>) => void) => Promise<T>,
): Promise<T> {
  const cleanups: Array<() => Promise<void>> = [];
  try {
    return await body((cleanup) => cleanups.push(cleanup));
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: Error) => console.error(`cleanup failed: ${error.message}`));
    }
  }
}
