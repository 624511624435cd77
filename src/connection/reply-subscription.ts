/**
 * OneNET answers every post on its reply topic, awaited or not, to a session subscribed to that
 * topic (onenet-protocol.md §1.5). A device whose posts never wait for an answer (Reply off) need not
 * download them at all: receiving and reading each one cost it as much as a third of what the post
 * itself cost (BENCHMARKS.md "What limits #1 and #2"), and mobile data besides. So a session
 * subscribes the post-reply filters on its first publish that waits for a reply. That publish, and
 * every publish after it, is held until the SUBACK: the answer cannot come before the subscription,
 * and publishes keep their order (an older value must never follow a newer one).
 */

export type PublishDone = (error?: Error) => void;

interface Held {
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
  done: PublishDone;
}

export interface ReplySubscriptionPorts {
  /** SUBSCRIBEs `filters`; `done` gets the refused ones, or undefined when the session went. */
  subscribe(filters: string[], done: (refused: string[] | undefined) => void): void;
  publish(topic: string, payload: Buffer, qos: 0 | 1, done: PublishDone): void;
  /** OneNET did not grant these reply filters: answers on them will not arrive. */
  refused(filters: string[]): void;
}

export class ReplySubscription {
  private state: 'none' | 'subscribing' | 'subscribed' = 'none';
  private held: Held[] = [];
  private readonly subscribed = new Set<string>();

  constructor(
    /** The device's post-reply filters; a device that becomes a gateway adds one (routing.ts). */
    private readonly filters: readonly string[],
    private readonly ports: ReplySubscriptionPorts,
  ) {}

  publish(topic: string, payload: Buffer, qos: 0 | 1, done: PublishDone, awaitsReply: boolean): void {
    if (this.state === 'subscribing' || (awaitsReply && this.state === 'none')) {
      this.held.push({ topic, payload, qos, done });
      if (this.state === 'none') this.subscribeMissing();
      return;
    }
    this.ports.publish(topic, payload, qos, done);
  }

  /**
   * Filters were added (a device became a gateway while logged in): subscribed now when the others
   * already are; otherwise with them. `done` gets the refused ones.
   */
  filtersAdded(done: (refused: string[]) => void): void {
    const missing = this.missing();
    if (this.state !== 'subscribed' || missing.length === 0) {
      done([]);
      return;
    }
    this.ports.subscribe(missing, (refused) => {
      for (const filter of missing) this.subscribed.add(filter);
      done(refused ?? missing);
    });
  }

  private missing(): string[] {
    return this.filters.filter((filter) => !this.subscribed.has(filter));
  }

  private subscribeMissing(): void {
    this.state = 'subscribing';
    const batch = this.missing();
    this.ports.subscribe(batch, (refused) => {
      if (refused === undefined) {
        // The session went: what it held was never sent, and its owner treats it so. Should the
        // session stay after all, the next publish that waits for a reply tries again.
        this.state = 'none';
        const held = this.take();
        for (const item of held) item.done(new Error('connection closed'));
        return;
      }
      for (const filter of batch) this.subscribed.add(filter);
      if (refused.length > 0) this.ports.refused(refused);
      if (this.missing().length > 0) {
        this.subscribeMissing(); // added while that SUBSCRIBE was under way
        return;
      }
      this.state = 'subscribed';
      for (const item of this.take()) this.ports.publish(item.topic, item.payload, item.qos, item.done);
    });
  }

  private take(): Held[] {
    const held = this.held;
    this.held = [];
    return held;
  }
}
