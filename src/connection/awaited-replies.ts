import type { ThingReply, TopicKind } from '../protocol';
import { OneNetRequestError } from './errors';
import type { Session } from './session';
import type { PriorityUplink } from './uplink-types';

export interface AwaitedRepliesHooks {
  /** The uplink scheduler's priority lane: `send` runs once the uplink budget allows. */
  submitPriority: (send: () => void) => PriorityUplink;
  /** The session a request may go out on now, if any. */
  liveSession: () => Session | undefined;
}

export interface AwaitedRepliesSettings {
  /**
   * Where a request's deadline starts: at the publish, for requests that may wait long for their
   * turn (binding a thousand sub-devices at one message a second must not time out those still
   * queued), or when it is submitted, for a request the flow waits on.
   */
  deadlineFrom: 'publish' | 'submit';
  /** Whose connection it is, in error texts: "the connection", "the gateway's connection". */
  connection: string;
}

export interface AwaitedRequest {
  id: string;
  topic: string;
  /** The topic kind its reply comes on. */
  replyKind: TopicKind;
  payload: Buffer;
  /** The session it goes out on: a reply can only come on the session that asked. */
  session: Session;
  timeoutMs: number;
}

interface Pending {
  request: AwaitedRequest;
  queued: PriorityUplink | undefined;
  published: boolean;
  timer: NodeJS.Timeout | undefined;
  resolve: (reply: ThingReply) => void;
  reject: (error: OneNetRequestError) => void;
}

/**
 * A connection's own requests that go out on the uplink scheduler's priority lane and wait for
 * OneNET's reply, matched by id: the gateway's topology and login requests, desired get and delete.
 * Each one ends exactly once: with its reply (any code), at its deadline, when its session ends
 * (OneNET answers on the session that asked, so none comes after a reconnect), or at close.
 */
export class AwaitedReplies {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly settings: AwaitedRepliesSettings,
    private readonly hooks: AwaitedRepliesHooks,
  ) {}

  /** Publishes at QoS 1 once the budget allows; resolves with the reply, whatever its code. */
  send(request: AwaitedRequest): Promise<ThingReply> {
    return new Promise<ThingReply>((resolve, reject) => {
      const entry: Pending = {
        request,
        queued: undefined,
        published: false,
        timer: undefined,
        resolve,
        reject,
      };
      this.pending.set(request.id, entry);
      if (this.settings.deadlineFrom === 'submit') this.armDeadline(entry);
      entry.queued = this.hooks.submitPriority(() => {
        if (this.pending.get(request.id) !== entry) return;
        if (this.hooks.liveSession() !== request.session) return this.sessionEnded(entry);
        entry.published = true;
        if (this.settings.deadlineFrom === 'publish') this.armDeadline(entry);
        request.session.publish(request.topic, request.payload, 1, (error) => {
          if (error) this.sessionEnded(entry);
        });
      });
    });
  }

  /** A reply on `replyKind`'s topic; false when no request of ours waits for it. */
  handleReply(reply: ThingReply, replyKind: TopicKind): boolean {
    const entry = this.pending.get(reply.id);
    if (!entry || entry.request.replyKind !== replyKind) return false;
    this.finish(entry);
    entry.resolve(reply);
    return true;
  }

  /** The connection's session may have changed: requests of another one fail now, not at their deadline. */
  sessionChanged(): void {
    const live = this.hooks.liveSession();
    for (const entry of [...this.pending.values()])
      if (entry.request.session !== live) this.sessionEnded(entry);
  }

  /** Every request still waiting fails with reason 'closed'. */
  close(): void {
    for (const entry of [...this.pending.values()])
      this.fail(entry, new OneNetRequestError('closed', 'the connection is closed', this.details(entry)));
  }

  private armDeadline(entry: Pending): void {
    const { timeoutMs } = entry.request;
    entry.timer = setTimeout(() => {
      const text = entry.published
        ? `no reply from OneNET within ${timeoutMs} ms`
        : `not sent within ${timeoutMs} ms: the uplink was busy`;
      this.fail(entry, new OneNetRequestError('timeout', text, this.details(entry)));
    }, timeoutMs);
  }

  private sessionEnded(entry: Pending): void {
    const { connection } = this.settings;
    const text = entry.published
      ? `${connection} dropped before OneNET answered`
      : `not sent: ${connection} dropped`;
    this.fail(entry, new OneNetRequestError('disconnected', text, this.details(entry)));
  }

  private details(entry: Pending): { id: string; topic: string; sent: boolean } {
    return { id: entry.request.id, topic: entry.request.topic, sent: entry.published };
  }

  private fail(entry: Pending, error: OneNetRequestError): void {
    if (this.pending.get(entry.request.id) !== entry) return;
    this.finish(entry);
    entry.reject(error);
  }

  private finish(entry: Pending): void {
    this.pending.delete(entry.request.id);
    clearTimeout(entry.timer);
    if (entry.queued) entry.queued.cancelled = true;
  }
}
