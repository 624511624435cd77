import type { UplinkMessage } from './uplink-types';

/**
 * The uplink messages handed to MQTT.js that still wait for something (their PUBACK or the
 * platform's reply), keyed by message id so many can be pipelined and each reply finds its own.
 * settled() lets a disconnect or a token renewal wait until they have their answers.
 */
export class InFlight {
  private readonly byId = new Map<string, UplinkMessage>();
  private settleWaiters: Array<() => void> = [];

  get size(): number {
    return this.byId.size;
  }

  add(message: UplinkMessage): void {
    this.byId.set(message.id, message);
  }

  get(id: string): UplinkMessage | undefined {
    return this.byId.get(id);
  }

  remove(message: UplinkMessage): void {
    if (this.byId.get(message.id) === message) this.byId.delete(message.id);
    if (this.byId.size === 0) this.notifySettled();
  }

  /** Forgets a message once every flow request it carried has settled (timed out, say). */
  releaseIfSettled(message: UplinkMessage): void {
    if (message.members.every((member) => member.done)) this.remove(message);
  }

  /** Everything, taken out (the session is gone). */
  takeAll(): UplinkMessage[] {
    const all = [...this.byId.values()];
    this.byId.clear();
    return all;
  }

  /** Resolves once nothing is in flight, or after `maxMs`. */
  settled(maxMs: number): Promise<void> {
    if (this.byId.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, maxMs);
      const waiters = this.settleWaiters;
      function done(): void {
        clearTimeout(timer);
        const index = waiters.indexOf(done);
        if (index >= 0) waiters.splice(index, 1);
        resolve();
      }
      waiters.push(done);
    });
  }

  /** Ends every settled() wait now. */
  notifySettled(): void {
    if (this.settleWaiters.length === 0) return;
    for (const done of [...this.settleWaiters]) done();
  }
}
