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
  /** queued: waiting to be sent; publishing: handed to MQTT.js; delivered: written (QoS 0) or PUBACKed (QoS 1). */
  state: 'queued' | 'publishing' | 'delivered' | 'done';
  /** The pipeline generation the entry was published in; callbacks from an older client are ignored. */
  generation: number;
  timer: NodeJS.Timeout | undefined;
}

export type PublishFn = (topic: string, payload: Buffer, qos: 0 | 1, done: (error?: Error) => void) => void;

export interface PipelineSettings {
  offlinePolicy: OfflinePolicy;
  queueLimit: number;
  queueMaxAgeMs: number;
}

/**
 * online: sending. holding: a connection attempt is running; new requests wait for it (both policies).
 * offline: not connected; 'fail' rejects new requests, 'queue' queues them. closed: final.
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
 *   reconnect with the same id ('queue'; QoS 1 is at-least-once anyway) or rejected ('fail');
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
    return this.backlog.length;
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
    switch (this.mode) {
      case 'closed':
        this.fail(entry, 'closed', 'the connection is closed');
        return;
      case 'online':
        this.outbox.push(entry);
        this.flushScheduled ??= setImmediate(this.flush);
        return;
      case 'offline':
        if (this.settings.offlinePolicy === 'fail') {
          this.fail(entry, 'offline', `not sent: ${this.describeOffline()}`);
          return;
        }
        break;
      case 'holding':
        break;
    }
    this.backlog.push(entry);
    this.enforceQueueLimit();
    this.armExpiry();
    this.onDepthChange();
  }

  /** A session is ready (subscribed): send through `publish` from now on. */
  resume(publish: PublishFn): void {
    if (this.mode === 'closed') return;
    this.generation++;
    this.publishesInFlight = 0;
    this.publish = publish;
    this.mode = 'online';
    this.clearExpiry();
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
      clearTimeout(entry.timer);
      entry.timer = undefined;
      if (entry.state === 'publishing' && this.settings.offlinePolicy === 'queue') {
        entry.state = 'queued';
        resend.push(entry);
      } else if (entry.state === 'publishing') {
        this.settle(entry, 'disconnected', 'the connection dropped before OneNET acknowledged the request');
      } else {
        this.settle(
          entry,
          'disconnected',
          'the connection dropped after OneNET received the request but before it replied; ' +
            'it is not sent again, so it is not posted twice',
        );
      }
    }
    this.inFlight.clear();
    this.replyWaiters = 0;
    this.backlog.unshiftAll(resend);
    this.notifySettled();
    if (this.settings.offlinePolicy === 'queue') this.enforceQueueLimit();
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
      for (const entry of this.backlog.drain()) this.fail(entry, reason, `not sent: ${message}`);
    } else {
      this.enforceQueueLimit();
      this.armExpiry();
    }
    this.onDepthChange();
  }

  /** A reply arrived on `replyKind`'s topic. Returns false when no request waits for it. */
  handleReply(reply: ThingReply, replyKind: TopicKind): boolean {
    const entry = this.inFlight.get(reply.id);
    if (!entry || replyKindOf(entry.kind) !== replyKind) return false;
    this.removeInFlight(entry);
    const latencyMs = Date.now() - entry.createdAt;
    if (reply.code === SUCCESS_CODE) {
      entry.resolve({ id: entry.id, topic: entry.topic, code: reply.code, message: reply.msg, latencyMs });
    } else {
      const description = describeReplyCode(reply.code);
      const platformText = reply.msg && reply.msg !== description ? ` (${reply.msg})` : '';
      entry.reject(
        new OneNetRequestError('reply', `OneNET replied ${reply.code}: ${description}${platformText}`, {
          id: entry.id,
          topic: entry.topic,
          code: reply.code,
          latencyMs,
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

  /** Final: every request still here is rejected with reason 'closed'. */
  close(): void {
    if (this.mode === 'closed') return;
    this.moveOutboxToBacklog();
    this.mode = 'closed';
    this.publish = undefined;
    this.generation++;
    this.clearExpiry();
    for (const entry of this.inFlight.values())
      this.settle(entry, 'closed', 'the connection was closed before OneNET replied');
    this.inFlight.clear();
    this.replyWaiters = 0;
    for (const entry of this.backlog.drain())
      this.fail(entry, 'closed', 'the connection was closed before the request was sent');
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
        if (this.isExpired(entry, Date.now())) {
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
    entry.timer = setTimeout(this.onTimeout, entry.timeoutMs, entry);
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

  private timedOut(entry: RequestEntry): void {
    entry.timer = undefined;
    if (entry.state === 'done' || this.inFlight.get(entry.id) !== entry) return;
    const what =
      entry.state === 'publishing' && entry.qos === 1
        ? 'OneNET did not acknowledge (PUBACK) the request'
        : 'no reply from OneNET';
    this.removeInFlight(entry);
    this.reject(entry, 'timeout', `${what} within ${entry.timeoutMs} ms`);
  }

  private removeInFlight(entry: RequestEntry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.state = 'done';
    if (this.inFlight.delete(entry.id) && entry.waitReply) this.replyWaiters--;
    if (this.inFlight.size === 0) this.notifySettled();
  }

  /** Rejects an entry that is in flight (the caller clears the map). */
  private settle(entry: RequestEntry, reason: RequestFailureReason, message: string): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.state = 'done';
    this.reject(entry, reason, message);
  }

  /** Rejects an entry that is not in flight. */
  private fail(entry: RequestEntry, reason: RequestFailureReason, message: string): void {
    entry.state = 'done';
    this.reject(entry, reason, message);
  }

  private reject(entry: RequestEntry, reason: RequestFailureReason, message: string): void {
    entry.reject(
      new OneNetRequestError(reason, message, {
        id: entry.id,
        topic: entry.topic,
        latencyMs: Date.now() - entry.createdAt,
      }),
    );
  }

  private notifySettled(): void {
    if (this.settleWaiters.length === 0) return;
    for (const done of [...this.settleWaiters]) done();
  }

  private enforceQueueLimit(): void {
    const { queueLimit } = this.settings;
    while (this.backlog.length > queueLimit) {
      this.fail(
        this.backlog.shift()!,
        'queue-overflow',
        `the offline queue is full (${queueLimit} requests), so its oldest request was dropped`,
      );
    }
  }

  /** Only the queue policy ages requests out of the backlog once they can be sent. */
  private isExpired(entry: RequestEntry, now: number): boolean {
    return this.settings.offlinePolicy === 'queue' && now - entry.createdAt > this.settings.queueMaxAgeMs;
  }

  private expiredMessage(): string {
    return `the request waited longer than ${this.settings.queueMaxAgeMs} ms in the offline queue`;
  }

  /**
   * While not sending, a timer drops requests that waited too long: under 'queue' after
   * queueMaxAgeMs ('queue-expired'); under 'fail' (which only holds requests while an attempt is in
   * progress) after the request's own timeout ('offline'), so a slow attempt cannot stall a flow.
   */
  private armExpiry(): void {
    if (this.expiryTimer || this.backlog.length === 0 || this.mode === 'online' || this.mode === 'closed')
      return;
    const interval =
      this.settings.offlinePolicy === 'queue'
        ? Math.max(20, Math.min(1000, Math.floor(this.settings.queueMaxAgeMs / 4)))
        : 100;
    this.expiryTimer = setInterval(() => this.expireOld(), interval);
  }

  private expireOld(): void {
    if (this.mode === 'online' || this.mode === 'closed') {
      this.clearExpiry();
      return;
    }
    const now = Date.now();
    const waiting = this.backlog.drain();
    for (const entry of waiting) {
      if (this.settings.offlinePolicy === 'queue' && now - entry.createdAt > this.settings.queueMaxAgeMs) {
        this.fail(entry, 'queue-expired', this.expiredMessage());
      } else if (this.settings.offlinePolicy === 'fail' && now - entry.createdAt > entry.timeoutMs) {
        this.fail(entry, 'offline', `not sent: still not connected to OneNET after ${entry.timeoutMs} ms`);
      } else {
        this.backlog.push(entry);
      }
    }
    if (this.backlog.length === 0) this.clearExpiry();
    if (this.backlog.length !== waiting.length) this.onDepthChange();
  }

  private clearExpiry(): void {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
  }
}
