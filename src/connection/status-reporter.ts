import type { ConnectionStatus } from './types';

/** Queue-depth-only changes are reported at most once per this interval. */
export const STATUS_THROTTLE_MS = 100;

/**
 * Decides when a connection emits 'status': at once for a change of state, error or kick flag,
 * throttled for queue depth alone (a benchmark moves the depth thousands of times a second), and
 * never twice for the same status.
 */
export class StatusReporter {
  private last: ConnectionStatus | undefined;
  private lastAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly read: () => ConnectionStatus,
    private readonly publish: (status: ConnectionStatus) => void,
  ) {}

  /** Something other than the depth may have changed: report now if anything did. */
  now(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const status = this.read();
    const last = this.last;
    if (
      last &&
      last.state === status.state &&
      last.queueDepth === status.queueDepth &&
      last.lastError === status.lastError &&
      last.kicked === status.kicked &&
      last.subDevices === status.subDevices &&
      last.subDevicesWaiting === status.subDevicesWaiting &&
      last.stored === status.stored &&
      last.backfilling === status.backfilling &&
      last.storeError === status.storeError
    ) {
      return;
    }
    this.last = status;
    this.lastAt = Date.now();
    this.publish(status);
  }

  /** The queue depth may have changed: report within STATUS_THROTTLE_MS. */
  depthChanged(depth: number): void {
    if (this.last?.queueDepth !== depth) this.soon();
  }

  /** A count may have changed (the depth, posts held for sub-devices): report within STATUS_THROTTLE_MS. */
  soon(): void {
    if (this.stopped || this.timer) return;
    const wait = this.lastAt + STATUS_THROTTLE_MS - Date.now();
    if (wait <= 0) {
      this.now();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.now();
    }, wait);
  }

  /** Reports the final status and nothing after it. */
  finish(): void {
    this.now();
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
