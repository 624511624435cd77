import { buildTopic, subDeviceKey } from '../protocol';
import { Backfill } from './backfill';
import { OfflineStore, type StoreEvent } from './offline-store';
import { unsentOf } from './uplink-merge';
import type { ResolvedOptions } from './options';
import type { PipelineHooks } from './request-pipeline';
import type { RequestEntry } from './uplink-types';
import type { ConnectionStatus, DeviceIdentity } from './types';

export type { StoreEvent } from './offline-store';

export interface StoreForwardHooks {
  nextId: () => string;
  wake: () => void;
  changed: () => void;
  report: (event: StoreEvent) => void;
  /** Whether a gateway's sub-device ("productId/deviceName") is logged in, so its values can go. */
  canDeliver: (device: string) => boolean;
}

/**
 * offlinePolicy 'store' for one connection: the durable store of posts that could not be sent
 * (OfflineStore) and their delivery once connected (Backfill), as the connection and its pipeline
 * see them.
 */
export class StoreForward {
  private readonly store: OfflineStore;
  private readonly backfill: Backfill;
  private closing: Promise<number> | undefined;

  static create(
    identity: DeviceIdentity,
    options: ResolvedOptions,
    hooks: StoreForwardHooks,
  ): StoreForward | undefined {
    return options.store ? new StoreForward(identity, options, hooks) : undefined;
  }

  private constructor(identity: DeviceIdentity, options: ResolvedOptions, hooks: StoreForwardHooks) {
    const storeOptions = options.store!;
    // Records name their device as sub-devices are keyed (subDeviceKey), so the backfill can ask
    // whether one is logged in.
    const ownDevice = subDeviceKey({ productID: identity.productId, deviceName: identity.deviceName });
    this.store = new OfflineStore(storeOptions, ownDevice, {
      changed: () => {
        this.backfill?.poke();
        hooks.changed();
      },
      report: hooks.report,
    });
    this.backfill = new Backfill(() => this.store.ready(), {
      nextId: hooks.nextId,
      ownDevice,
      canDeliver: hooks.canDeliver,
      topic: buildTopic({
        productId: identity.productId,
        deviceName: identity.deviceName,
        kind: 'history-post',
      }),
      timeoutMs: options.requestTimeoutMs,
      wake: hooks.wake,
      changed: hooks.changed,
      report: hooks.report,
    });
  }

  get pipelineHooks(): Pick<PipelineHooks, 'backfill' | 'divert'> {
    return {
      backfill: { ready: () => this.backfill.ready(), offer: () => this.backfill.offer() },
      divert: (entry) => this.takes(entry, false),
    };
  }

  /**
   * Stores the request when it cannot be sent now; returns whether it did. A gateway's sub-device's
   * values are stored under its own identity and go back in history/post entries naming it.
   */
  takes(entry: RequestEntry, sendableNow: boolean): boolean {
    if (sendableNow || this.closing || [...unsentOf(entry)].length === 0) return false;
    this.store.accept(entry);
    return true;
  }

  /** Connected or stored: look for values to deliver. */
  poke(): void {
    this.backfill.poke();
  }

  describe(status: ConnectionStatus): void {
    const pending = this.store.pending;
    if (this.store.error !== undefined) status.storeError = this.store.error;
    if (pending === 0) return;
    if (status.state === 'connected') status.backfilling = pending;
    else status.stored = pending;
  }

  close(): void {
    this.backfill.close();
    this.closing ??= this.store.close();
  }

  /** After close(): the directory and how many values stay in it. */
  async closed(): Promise<{ dir: string; pending: number }> {
    this.close();
    return { dir: this.store.dir, pending: await this.closing! };
  }
}
