import { describeReplyCode, replyKindOf, SUCCESS_CODE, type ThingReply, type TopicKind } from '../protocol';
import { OneNetRequestError } from './errors';
import { Fifo } from './fifo';
import type { OfflinePolicy, RequestFailureReason, RequestOutcome, UplinkKind } from './types';

/**
 * Publishes handed to MQTT.js and not yet completed. MQTT.js adds a 'drain' listener per publish
 * that finds the socket buffer full, and slows down badly with thousands of them; the stream allows
 * 1000 listeners. Replies are matched by id, so this bounds only the hand-over, not the pipelining.
 */
export const MAX_PUBLISHES_IN_FLIGHT = 256;

/** One uplink request from request() until it settles. The only per-request state kept. */
export interface RequestEntry {
  id: string;
  kind: UplinkKind;
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
  waitReply: boolean;
  timeoutMs: number;
  /** When request() was called (queue age and latency count from here). */
  createdAt: number;
  resolve: (outcome: RequestOutcome) => void;
  reject: (error: OneNetRequestError) => void;
  /**
   * The payload again with the time it was accepted on every value without a time of its own, for a
   * request that waits in the offline queue: OneNET then records when the value was measured, not
   * when it arrived. Absent when every value already has its time.
   */
  stamp?: () => Buffer;
  /** Sent once before, on a session that dropped before OneNET acknowledged it. */
  resent?: boolean;
  /** queued: waiting to be sent; publishing: handed to MQTT.js; delivered: written (QoS 0) or PUBACKed (QoS 1). */
  state: 'queued' | 'publishing' | 'delivered' | 'done';
  /** The pipeline generation the entry was published in; callbacks from an older client are ignored. */
  generation: number;
  /**
   * The request's timeout, running from acceptance (submit) to the reply. Under 'queue' it is
   * stopped while the request waits for the connection (queueMaxAgeMs bounds that wait) and runs
   * again, in full, once the connection is back.
   */
  timer: NodeJS.Timeout | undefined;
}

/** OneNET's code for a message id it has seen before (onenet-protocol.md §3 reply codes, MQTT接入服务). */
const DUPLICATE_ID_CODE = 1025;

export type PublishFn = (topic: string, payload: Buffer, qos: 0 | 1, done: (error?: Error) => void) => void;

export interface PipelineSettings {
  offlinePolicy: OfflinePolicy;
  queueLimit: number;
  queueMaxAgeMs: number;
}

/**
 * online: sending. holding: a connection attempt is running; new requests wait for it (both policies).
 * offline: not connected; 'fail' rejects new requests, 'queue' queues them. closed: final.
 *
 * In every mode at most queueLimit requests wait to be sent (the backlog); a request beyond that is
 * refused at once ('busy' while connected or connecting, 'queue-overflow' while queueing offline),
 * so a flow that posts faster than the link carries hears about it instead of piling up memory and
 * late timeouts. Requests already accepted are never dropped to make room.
 */
type Mode = 'online' | 'holding' | 'offline' | 'closed';

/**
 * The request side of a connection: the send backlog (also the offline queue), the requests in
 * flight keyed by id (so many can be pipelined and each reply finds its own), timeouts, and what
 * happens to each of them when the connection drops.
 *
 * Drop rules (the "delivered once each, none lost" guarantee under the 'queue' policy):
 * - not yet sent: stays queued ('queue') or is rejected 'disconnected' ('fail');
 * - handed to MQTT.js but not acknowledged: the platform may not have it, so it is re-sent after
 *   reconnect ('queue'; QoS 1 is at-least-once anyway) or rejected ('fail'). The re-sent copy keeps
 *   its id: if the first copy did arrive, the same id lets OneNET tell the copy for what it is (it
 *   answers 1025 "duplicate id", which then counts as received), where a new id would be stored as
 *   a second post (onenet-protocol.md §1.6 ids, §3 code 1025);
 * - acknowledged but not yet replied: the platform has it, so re-sending would post it twice. The
 *   reply went to the old connection and is lost, so it is rejected 'disconnected' in both policies,
 *   with a message saying it was delivered.
 */
export class RequestPipeline {
  private mode: Mode = 'offline';
  private generation = 0;
  private readonly backlog = new Fifo<RequestEntry>();
  /**
   * Requests submitted while online, handed to MQTT.js together on the next turn of the event loop.
   * MQTT.js corks the socket per packet and uncorks on the next tick; Node-RED delivers each message
   * in its own setImmediate callback, so publishing at once cost one writev system call per request
   * (a fifth of the CPU of a Node-RED flow in the profile). Collected, they go out in one write. They
   * count as sent-soon, not as queued: depth and the status do not show them.
   */
  private outbox: RequestEntry[] = [];
  private flushScheduled: NodeJS.Immediate | undefined;
  private readonly flush = (): void => {
    this.flushScheduled = undefined;
    const depthBefore = this.backlog.length;
    this.moveOutboxToBacklog();
    this.pump();
    if (this.backlog.length !== depthBefore) this.onDepthChange();
  };
  private readonly inFlight = new Map<string, RequestEntry>();
  /** Backlog entries that timed out while waiting; they stay in the Fifo until pumped or drained. */
  private deadInBacklog = 0;
  /** How many of the requests in flight wait for a reply (waitReply); see awaitingReplies. */
  private replyWaiters = 0;
  private publishesInFlight = 0;
  private publish: PublishFn | undefined;
  private pumping = false;
  private expiryTimer: NodeJS.Timeout | undefined;
  private settleWaiters: Array<() => void> = [];
  private readonly onTimeout = (entry: RequestEntry): void => this.timedOut(entry);

  constructor(
    private readonly settings: PipelineSettings,
    /** Called whenever the backlog length may have changed (the owner throttles status events). */
    private readonly onDepthChange: () => void,
    /** Why requests cannot be sent now, for 'offline' errors. */
    private readonly describeOffline: () => string,
  ) {}

  get depth(): number {
    return this.backlog.length - this.deadInBacklog;
  }

  /** Waiting to be sent, including submissions not yet moved to the backlog. */
  private get waiting(): number {
    return this.depth + this.outbox.length;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Requests in flight that wait for the platform's reply. When it is 0 a reply cannot match
   * anything, so the connection can skip parsing it: with Reply off, OneNET still answers every
   * post, and parsing those answers was a sizeable part of a post's cost.
   */
  get awaitingReplies(): number {
    return this.replyWaiters;
  }

  submit(entry: RequestEntry): void {
    if (this.mode === 'closed') {
      this.fail(entry, 'closed', 'the connection is closed');
      return;
    }
    const queueing = this.mode === 'offline' && this.settings.offlinePolicy === 'queue';
    if (this.mode === 'offline' && !queueing) {
      this.fail(entry, 'offline', `not sent: ${this.describeOffline()}`);
      return;
    }
    if (this.waiting >= this.settings.queueLimit) {
      if (this.mode !== 'online' && this.settings.offlinePolicy === 'queue') {
        this.fail(
          entry,
          'queue-overflow',
          `not sent: the offline queue is full (${this.settings.queueLimit} requests wait for the connection)`,
        );
      } else {
        this.fail(
          entry,
          'busy',
          `not sent: busy, ${this.settings.queueLimit} requests already wait to be sent (the queue limit)`,
        );
      }
      this.onDepthChange();
      return;
    }
    if (queueing) this.stampForQueue(entry);
    else entry.timer = setTimeout(this.onTimeout, entry.timeoutMs, entry);
    if (this.mode === 'online') {
      this.outbox.push(entry);
      this.flushScheduled ??= setImmediate(this.flush);
      return;
    }
    this.backlog.push(entry);
    this.armExpiry();
    this.onDepthChange();
  }

  /** At the queue limit: the next request is refused (the status says "busy"). */
  get full(): boolean {
    return this.waiting >= this.settings.queueLimit;
  }

  /** A session is ready (subscribed): send through `publish` from now on. */
  resume(publish: PublishFn): void {
    if (this.mode === 'closed') return;
    this.generation++;
    this.publishesInFlight = 0;
    this.publish = publish;
    this.mode = 'online';
    this.clearExpiry();
    // Requests that waited in the offline queue get their full timeout from now on.
    for (const entry of this.backlog.drain()) {
      if (entry.state === 'done') continue;
      entry.timer ??= setTimeout(this.onTimeout, entry.timeoutMs, entry);
      this.backlog.push(entry);
    }
    this.deadInBacklog = 0;
    this.pump();
    this.onDepthChange();
  }

  /** Stop sending; requests in flight keep waiting for their replies until connectionLost(). */
  pause(mode: 'holding' | 'offline'): void {
    if (this.mode === 'closed') return;
    this.moveOutboxToBacklog();
    this.mode = mode;
    this.publish = undefined;
    if (this.backlog.length > 0) this.armExpiry();
  }

  /**
   * The session's client is gone: settle or re-queue what was in flight (see the class comment).
   * The backlog is left alone; the caller applies the offline policy to it when going offline.
   */
  connectionLost(): void {
    if (this.mode === 'online') this.pause('offline');
    this.generation++;
    this.publishesInFlight = 0;
    const resend: RequestEntry[] = [];
    for (const entry of this.inFlight.values()) {
      if (entry.state === 'publishing' && this.settings.offlinePolicy === 'queue') {
        entry.state = 'queued';
        entry.resent = true;
        this.stampForQueue(entry);
        resend.push(entry);
      } else if (entry.state === 'publishing') {
        this.settle(
          entry,
          'disconnected',
          'the connection dropped before OneNET acknowledged the request; it may have reached OneNET',
          true,
        );
      } else {
        this.settle(
          entry,
          'disconnected',
          'the connection dropped after OneNET received the request but before it replied; ' +
            'it is not sent again, so it is not posted twice',
          true,
        );
      }
    }
    this.inFlight.clear();
    this.replyWaiters = 0;
    this.backlog.unshiftAll(resend);
    this.notifySettled();
    this.armExpiry();
    this.onDepthChange();
  }

  /**
   * No session now (an attempt failed, or the user disconnected): under 'fail', whatever waits in
   * the backlog is rejected; under 'queue' it stays, within the limits.
   */
  applyOfflinePolicy(reason: 'offline' | 'disconnected', message: string): void {
    if (this.mode === 'closed') return;
    this.mode = 'offline';
    if (this.settings.offlinePolicy === 'fail') {
      for (const entry of this.drainLive()) this.fail(entry, reason, `not sent: ${message}`);
    } else {
      for (const entry of this.drainLive()) {
        this.stampForQueue(entry);
        this.backlog.push(entry);
      }
      this.armExpiry();
    }
    this.onDepthChange();
  }

  /** Empties the backlog, leaving out entries that already timed out. */
  private drainLive(): RequestEntry[] {
    this.deadInBacklog = 0;
    return this.backlog.drain().filter((entry) => entry.state !== 'done');
  }

  /**
   * The request now waits for the connection under 'queue': its timeout stops (queueMaxAgeMs
   * bounds the wait) and its values get the time they were accepted.
   */
  private stampForQueue(entry: RequestEntry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    if (entry.stamp) {
      entry.payload = entry.stamp();
      entry.stamp = undefined;
    }
  }

  /** A reply arrived on `replyKind`'s topic. Returns false when no request waits for it. */
  handleReply(reply: ThingReply, replyKind: TopicKind): boolean {
    const entry = this.inFlight.get(reply.id);
    if (!entry || replyKindOf(entry.kind) !== replyKind) return false;
    this.removeInFlight(entry);
    const latencyMs = Date.now() - entry.createdAt;
    if (reply.code === SUCCESS_CODE) {
      entry.resolve({ id: entry.id, topic: entry.topic, code: reply.code, message: reply.msg, latencyMs });
    } else if (reply.code === DUPLICATE_ID_CODE && entry.resent) {
      // The first copy arrived before the session dropped (see the class comment).
      entry.resolve({
        id: entry.id,
        topic: entry.topic,
        code: reply.code,
        message: 'already received: OneNET had this post from before the connection dropped',
        latencyMs,
      });
    } else {
      const description = describeReplyCode(reply.code);
      const platformText = reply.msg && reply.msg !== description ? ` (${reply.msg})` : '';
      entry.reject(
        new OneNetRequestError('reply', `OneNET replied ${reply.code}: ${description}${platformText}`, {
          id: entry.id,
          topic: entry.topic,
          code: reply.code,
          latencyMs,
          ...(reply.msg ? { platformMessage: reply.msg } : {}),
        }),
      );
    }
    return true;
  }

  /** Resolves once nothing is in flight, or after `maxMs`. */
  settled(maxMs: number): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
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
  stopWaitingForSettle(): void {
    this.notifySettled();
  }

  /** Final: every request still here is rejected with reason 'closed'. */
  close(): void {
    if (this.mode === 'closed') return;
    this.moveOutboxToBacklog();
    this.mode = 'closed';
    this.publish = undefined;
    this.generation++;
    this.clearExpiry();
    for (const entry of this.inFlight.values())
      this.settle(
        entry,
        'closed',
        'the connection was closed before OneNET replied; it may have reached OneNET',
        true,
      );
    this.inFlight.clear();
    this.replyWaiters = 0;
    for (const entry of this.drainLive()) {
      clearTimeout(entry.timer);
      this.fail(entry, 'closed', 'the connection was closed before the request was sent');
    }
    this.notifySettled();
  }

  /** Not yet handed over, so from here on they are ordinary backlog entries (newer than any queued). */
  private moveOutboxToBacklog(): void {
    if (this.flushScheduled) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    if (this.outbox.length === 0) return;
    for (const entry of this.outbox) this.backlog.push(entry);
    this.outbox = [];
  }

  private pump(): void {
    // QoS 0 publish callbacks can run synchronously inside publish(); the flag turns that recursion
    // into iterations of this loop.
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (
        this.mode === 'online' &&
        this.publishesInFlight < MAX_PUBLISHES_IN_FLIGHT &&
        this.backlog.length > 0
      ) {
        const entry = this.backlog.shift()!;
        if (entry.state === 'done') {
          this.deadInBacklog--;
          continue;
        }
        if (this.isExpired(entry, Date.now())) {
          clearTimeout(entry.timer);
          this.fail(entry, 'queue-expired', this.expiredMessage());
          continue;
        }
        this.send(entry);
      }
    } finally {
      this.pumping = false;
    }
  }

  private send(entry: RequestEntry): void {
    const generation = this.generation;
    entry.state = 'publishing';
    entry.generation = generation;
    // Armed at submit(); one that waited in the offline queue got it back in resume().
    entry.timer ??= setTimeout(this.onTimeout, entry.timeoutMs, entry);
    this.inFlight.set(entry.id, entry);
    if (entry.waitReply) this.replyWaiters++;
    this.publishesInFlight++;
    this.publish!(entry.topic, entry.payload, entry.qos, (error) => this.published(entry, generation, error));
  }

  private published(entry: RequestEntry, generation: number, error: Error | undefined): void {
    // A callback from a client that is gone (MQTT.js flushes its store on teardown): already handled.
    if (generation !== this.generation) return;
    this.publishesInFlight--;
    // An error means the connection is going: connectionLost() (or the timeout) settles the entry,
    // and nothing more is handed to the dying client.
    if (error) return;
    if (entry.state === 'publishing') {
      entry.state = 'delivered';
      if (!entry.waitReply) {
        this.removeInFlight(entry);
        entry.resolve({
          id: entry.id,
          topic: entry.topic,
          code: 0,
          message: 'not awaited',
          latencyMs: Date.now() - entry.createdAt,
        });
      }
    }
    // Waiting requests go out together on the next turn, like submissions (see `outbox`).
    if (this.backlog.length > 0) this.flushScheduled ??= setImmediate(this.flush);
  }

  /**
   * The request's time is up. One that never left fails as not sent ('busy' when it waited behind
   * others, 'offline' when it waited for a connection); one that was published fails as 'timeout',
   * saying it may have reached OneNET, so a Catch-and-retry flow can tell the two apart.
   */
  private timedOut(entry: RequestEntry): void {
    entry.timer = undefined;
    if (entry.state === 'done') return;
    const within = `within ${entry.timeoutMs} ms`;
    if (entry.state === 'queued') {
      if (this.mode !== 'online' && this.settings.offlinePolicy === 'queue') return; // resume() re-arms it
      const inOutbox = this.outbox.indexOf(entry);
      if (inOutbox >= 0) this.outbox.splice(inOutbox, 1);
      else this.deadInBacklog++;
      if (this.mode === 'online') {
        this.fail(entry, 'busy', `not sent ${within}: busy, earlier requests were still waiting to be sent`);
      } else {
        this.fail(entry, 'offline', `not sent: still not connected to OneNET after ${entry.timeoutMs} ms`);
      }
      this.onDepthChange();
      return;
    }
    if (this.inFlight.get(entry.id) !== entry) return;
    const what =
      entry.state === 'publishing' && entry.qos === 1
        ? `OneNET did not acknowledge (PUBACK) the request ${within}; it may have reached OneNET`
        : entry.qos === 1
          ? `OneNET received the request (PUBACK) but did not reply ${within}; it may have been stored`
          : `no reply from OneNET ${within}; the request was sent and may have reached OneNET`;
    this.removeInFlight(entry);
    this.reject(entry, 'timeout', what, true);
  }

  private removeInFlight(entry: RequestEntry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.state = 'done';
    if (this.inFlight.delete(entry.id) && entry.waitReply) this.replyWaiters--;
    if (this.inFlight.size === 0) this.notifySettled();
  }

  /** Rejects an entry that is in flight (the caller clears the map): it was published. */
  private settle(entry: RequestEntry, reason: RequestFailureReason, message: string, sent: boolean): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.state = 'done';
    this.reject(entry, reason, message, sent);
  }

  /** Rejects an entry that is not in flight: it was never sent. */
  private fail(entry: RequestEntry, reason: RequestFailureReason, message: string): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.state = 'done';
    this.reject(entry, reason, message, false);
  }

  private reject(entry: RequestEntry, reason: RequestFailureReason, message: string, sent: boolean): void {
    entry.reject(
      new OneNetRequestError(reason, message, {
        id: entry.id,
        topic: entry.topic,
        latencyMs: Date.now() - entry.createdAt,
        sent,
      }),
    );
  }

  private notifySettled(): void {
    if (this.settleWaiters.length === 0) return;
    for (const done of [...this.settleWaiters]) done();
  }

  /** Only the queue policy ages requests out of the backlog once they can be sent. */
  private isExpired(entry: RequestEntry, now: number): boolean {
    return this.settings.offlinePolicy === 'queue' && now - entry.createdAt > this.settings.queueMaxAgeMs;
  }

  private expiredMessage(): string {
    return `the request waited longer than ${this.settings.queueMaxAgeMs} ms in the offline queue`;
  }

  /**
   * Under 'queue', while not sending, a timer drops requests that waited longer than queueMaxAgeMs
   * ('queue-expired'). (Under 'fail', which only holds requests while an attempt is in progress,
   * each request's own timeout ends the wait.)
   */
  private armExpiry(): void {
    if (
      this.expiryTimer ||
      this.settings.offlinePolicy !== 'queue' ||
      this.depth === 0 ||
      this.mode === 'online' ||
      this.mode === 'closed'
    )
      return;
    const interval = Math.max(20, Math.min(1000, Math.floor(this.settings.queueMaxAgeMs / 4)));
    this.expiryTimer = setInterval(() => this.expireOld(), interval);
  }

  private expireOld(): void {
    if (this.mode === 'online' || this.mode === 'closed') {
      this.clearExpiry();
      return;
    }
    const now = Date.now();
    const before = this.depth;
    for (const entry of this.drainLive()) {
      if (now - entry.createdAt > this.settings.queueMaxAgeMs) {
        this.fail(entry, 'queue-expired', this.expiredMessage());
      } else {
        this.backlog.push(entry);
      }
    }
    if (this.backlog.length === 0) this.clearExpiry();
    if (this.depth !== before) this.onDepthChange();
  }

  private clearExpiry(): void {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
  }
}
