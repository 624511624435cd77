import type { ThingReply, TopicKind } from '../protocol';

/**
 * Why a platform request (setProperty / getProperty / invokeService / sendCustomCommand) failed
 * without a device reply.
 */
export class PlatformRequestError extends Error {
  override readonly name = 'PlatformRequestError';
  /** The OneNET device-log code that fits (§3.2): 306 timeout, 308 not online, 1022 not subscribed, ... */
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

interface Pending<Reply> {
  deviceKey: string;
  replyKind: TopicKind;
  identifier: string | undefined;
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export type SettleResult = 'matched' | 'late' | 'unknown' | 'wrong-topic';

const REMEMBERED_TIMEOUTS = 1000;

/**
 * Platform requests waiting for the device's `_reply`, matched by id and reply topic, each with
 * OneNET's deadline (§1.6: 5 s). Late replies are told apart from unknown ids so the log can say so
 * (device-log 1023 "device replied but timeout" vs 1028 "id not found").
 */
export class PendingRequests<Reply = ThingReply> {
  private readonly pending = new Map<string, Pending<Reply>>();
  private readonly timedOut = new Set<string>();

  constructor(private readonly deadlineMs: number) {}

  wait(id: string, deviceKey: string, replyKind: TopicKind, identifier: string | undefined): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.rememberTimeout(id);
        reject(new PlatformRequestError(`the device did not reply within ${this.deadlineMs} ms`, 306));
      }, this.deadlineMs);
      this.pending.set(id, { deviceKey, replyKind, identifier, resolve, reject, timer });
    });
  }

  /** Hands a device's reply to its waiting request. */
  settle(
    id: string,
    deviceKey: string,
    kind: TopicKind,
    identifier: string | undefined,
    reply: Reply,
  ): SettleResult {
    const entry = this.pending.get(id);
    if (!entry || entry.deviceKey !== deviceKey) return this.timedOut.has(id) ? 'late' : 'unknown';
    if (entry.replyKind !== kind || entry.identifier !== identifier) return 'wrong-topic';
    this.pending.delete(id);
    clearTimeout(entry.timer);
    entry.resolve(reply);
    return 'matched';
  }

  /** Whether a request with this id still waits for its reply. */
  isWaiting(id: string): boolean {
    return this.pending.has(id);
  }

  /** Fails a request that could not be sent. */
  fail(id: string, error: Error): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    entry.reject(error);
  }

  rejectAll(error: Error): void {
    for (const id of [...this.pending.keys()]) this.fail(id, error);
  }

  private rememberTimeout(id: string): void {
    this.timedOut.add(id);
    if (this.timedOut.size > REMEMBERED_TIMEOUTS) {
      const oldest = this.timedOut.values().next().value;
      if (oldest !== undefined) this.timedOut.delete(oldest);
    }
  }
}
