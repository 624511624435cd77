import { Journal, StoreError, type NewValue } from '../store';
import { OneNetRequestError } from './errors';
import { subDeviceKey } from '../protocol';
import { unsentOf } from './uplink-merge';
import type { RequestEntry } from './uplink-types';
import type { StoreOptions } from './types';

/** What the store tells the log: values dropped by a bound, and unreadable tails skipped. */
export type StoreEvent =
  | { type: 'dropped'; count: number; reason: 'size' | 'age' }
  | { type: 'torn'; file: string; bytes: number }
  | { type: 'refused'; identifier: string; code: number; count: number }
  | { type: 'unusable'; reason: string }
  | { type: 'usable'; dir: string };

/**
 * A store that could not be opened is tried again: on the next post that needs it, and on its own
 * after a back-off (so the status clears, and values it already holds are delivered, without
 * waiting for a post), first after 1 s, doubling up to a minute.
 */
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;

/**
 * Stores of a directory still closing (their last writes going out). A deploy replaces a connection
 * with a new one for the same identity at once; its journal opens only after the old one closed, so
 * two never write one directory.
 */
const closingDirs = new Map<string, Promise<unknown>>();

export interface OfflineStoreHooks {
  /** The number of stored values may have changed (for the status). */
  changed: () => void;
  report: (event: StoreEvent) => void;
}

/**
 * The `store` policy's side of a connection: writes a post that cannot be sent now to the journal
 * (src/store) and settles it `stored: true` once the values are on disk. Each value keeps its own
 * time, or the time the post was accepted, so a value delivered later (or twice) is identical.
 */
export class OfflineStore {
  private journal: Journal | undefined;
  /** The attempt to open the journal that runs or ran last. */
  private opening: Promise<Journal>;
  /** The last attempt failed: the next use (or the retry timer) starts a new one. */
  private openFailed = false;
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private closing = false;
  /** Why the store cannot be used, while it cannot. */
  error: string | undefined;

  constructor(
    private readonly options: Required<StoreOptions>,
    /** "productId/deviceName" of the connection's own device; a sub-device's post names its own. */
    private readonly device: string,
    private readonly hooks: OfflineStoreHooks,
  ) {
    this.opening = this.open(closingDirs.get(options.dir) ?? Promise.resolve());
  }

  get dir(): string {
    return this.options.dir;
  }

  /** Values stored and not yet delivered (0 until the journal is open). */
  get pending(): number {
    return this.journal?.pending ?? 0;
  }

  /** The open journal, once it is. */
  ready(): Journal | undefined {
    return this.journal;
  }

  /**
   * Writes the entry's values not yet sent (all of them, unless a merged message already carried
   * some and was answered); the entry resolves `stored` once they are durable, or fails 'store'.
   */
  accept(entry: RequestEntry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.done = true;
    const kind = entry.kind === 'event-post' ? 'event' : 'property';
    const device = entry.identity ? subDeviceKey(entry.identity) : this.device;
    const values: NewValue[] = [...unsentOf(entry)].map((identifier) => ({
      device,
      kind,
      identifier,
      value: entry.values[identifier]!.value,
      time: entry.values[identifier]!.time ?? entry.createdAt,
    }));
    this.journalNow()
      .then((journal) => journal.append(values))
      .then(
        () => {
          this.usable();
          this.hooks.changed();
          entry.resolve({
            id: entry.id,
            topic: entry.topic,
            code: 0,
            message: `stored: ${values.length} value(s) kept on disk, to be delivered later by history post`,
            latencyMs: Date.now() - entry.createdAt,
            merged: 1,
            stored: true,
          });
        },
        (err: Error) => {
          this.unusable(err);
          entry.reject(
            new OneNetRequestError('store', `not stored: ${err.message}`, {
              id: entry.id,
              topic: entry.topic,
              latencyMs: Date.now() - entry.createdAt,
              sent: false,
            }),
          );
        },
      );
  }

  /** Waits for pending writes; returns how many values stay on disk. */
  close(): Promise<number> {
    this.closing = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const closing = (async (): Promise<number> => {
      const journal = await this.opening.catch(() => undefined);
      if (!journal) return 0;
      await journal.close();
      return journal.pending;
    })();
    const dir = this.options.dir;
    const done = closing.catch(() => 0);
    closingDirs.set(dir, done);
    void done.then(() => {
      if (closingDirs.get(dir) === done) closingDirs.delete(dir);
    });
    return closing;
  }

  /** Opens the journal once `after` settled (a store of the same directory still closing). */
  private open(after: Promise<unknown>): Promise<Journal> {
    this.openFailed = false;
    const { options, hooks } = this;
    const attempt = after.then(() =>
      Journal.open({
        dir: options.dir,
        maxBytes: options.maxBytes,
        maxAgeMs: options.maxAgeMs,
        dropped: (count, reason) => {
          hooks.report({ type: 'dropped', count, reason });
          hooks.changed();
        },
        torn: (file, bytes) => hooks.report({ type: 'torn', file, bytes }),
      }),
    );
    attempt.then(
      (journal) => {
        this.journal = journal;
        this.retryMs = FIRST_RETRY_MS;
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        this.usable();
        hooks.changed();
      },
      (err: Error) => {
        this.openFailed = true;
        this.unusable(err);
        this.retryLater();
      },
    );
    return attempt;
  }

  /** The journal, opening it again when the last attempt failed (its cause may be fixed by now). */
  private journalNow(): Promise<Journal> {
    if (this.openFailed && !this.closing) this.opening = this.open(Promise.resolve());
    return this.opening;
  }

  private retryLater(): void {
    if (this.closing || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.openFailed || this.closing) return;
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      void this.journalNow().catch(() => undefined);
    }, this.retryMs);
    // A store waiting to be retried does not keep the process alive.
    this.retryTimer.unref();
  }

  /** The store works (again): a failure it reported is over. */
  private usable(): void {
    if (this.error === undefined) return;
    this.error = undefined;
    this.hooks.report({ type: 'usable', dir: this.options.dir });
    this.hooks.changed();
  }

  private unusable(err: Error): void {
    const reason = err instanceof StoreError ? err.message : `cannot use the store: ${err.message}`;
    const changed = this.error !== reason;
    this.error = reason;
    if (changed) {
      this.hooks.report({ type: 'unusable', reason });
      this.hooks.changed();
    }
  }
}
