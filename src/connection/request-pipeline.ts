import { describeReplyCode, replyKindOf, SUCCESS_CODE, type ThingReply, type TopicKind } from '../protocol';
import { OneNetRequestError } from './errors';
import { InFlight } from './in-flight';
import { UplinkScheduler } from './uplink-scheduler';
import type { PriorityUplink, RequestEntry, UplinkMessage, UplinkMessageKind } from './uplink-types';
import type { OfflinePolicy, RequestFailureReason } from './types';

export type { RequestEntry } from './uplink-types';

/**
 * Publishes handed to MQTT.js and not yet completed. MQTT.js adds a 'drain' listener per publish
 * that finds the socket buffer full, and slows down badly with thousands of them; the stream allows
 * 1000 listeners. Replies are matched by id, so this bounds only the hand-over, not the pipelining.
 */
export const MAX_PUBLISHES_IN_FLIGHT = 256;

/** OneNET's code for a message id it has seen before (onenet-protocol.md §3 reply codes, MQTT接入服务). */
const DUPLICATE_ID_CODE = 1025;

export type PublishFn = (topic: string, payload: Buffer, qos: 0 | 1, done: (error?: Error) => void) => void;

export interface PipelineSettings {
  offlinePolicy: OfflinePolicy;
  queueLimit: number;
  queueMaxAgeMs: number;
  /** Uplink messages per second (0: no limit); see UplinkScheduler. */
  uplinkRate: number;
}

export interface PipelineHooks {
  /** Called whenever the number of waiting requests may have changed (the owner throttles status events). */
  depthChanged: () => void;
  /** Why requests cannot be sent now, for 'offline' errors. */
  describeOffline: () => string;
  /** Ids for merged messages (a post sent alone keeps its own). */
  nextId: () => string;
  topicOf: (kind: UplinkMessageKind) => string;
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
 * The request side of a connection: accepts flow requests, lets the UplinkScheduler decide what
 * goes out when (within the uplink rate, merging posts when they come faster), keeps what was sent
 * until its reply (InFlight), runs each request's timeout, and decides what happens to each of them
 * when the connection drops. Every request settles exactly once.
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
  private readonly scheduler: UplinkScheduler;
  private readonly inFlight = new InFlight();
  /**
   * Requests submitted while online, handed to the scheduler together on the next turn of the event
   * loop. MQTT.js corks the socket per packet and uncorks on the next tick; Node-RED delivers each
   * message in its own setImmediate callback, so publishing at once cost one writev system call per
   * request (a fifth of the CPU of a Node-RED flow in the profile). Collected, they go out in one
   * write. They count as sent-soon, not as queued: depth and the status do not show them.
   */
  private outbox: RequestEntry[] = [];
  private flushScheduled: NodeJS.Immediate | undefined;
  private readonly flush = (): void => {
    this.flushScheduled = undefined;
    const depthBefore = this.scheduler.depth;
    this.moveOutboxToScheduler();
    this.pump();
    if (this.scheduler.depth !== depthBefore) this.hooks.depthChanged();
  };
  private publishesInFlight = 0;
  private publish: PublishFn | undefined;
  private pumping = false;
  /** Waits for the uplink budget to allow the next publish. */
  private budgetTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly onTimeout = (entry: RequestEntry): void => this.timedOut(entry);

  constructor(
    private readonly settings: PipelineSettings,
    private readonly hooks: PipelineHooks,
  ) {
    this.scheduler = new UplinkScheduler(settings.uplinkRate, {
      nextId: hooks.nextId,
      topicOf: hooks.topicOf,
      isExpired: (entry, now) => this.isExpired(entry, now),
      expired: (entry) => this.fail(entry, 'queue-expired', this.expiredMessage()),
      unbuildable: (members, error) => {
        for (const member of members) this.fail(member, 'invalid', `could not merge posts: ${error.message}`);
      },
    });
  }

  get depth(): number {
    return this.scheduler.depth;
  }

  /** Waiting to be sent, including submissions not yet handed to the scheduler. */
  private get waiting(): number {
    return this.scheduler.depth + this.outbox.length;
  }

  /** At the queue limit: the next request is refused (the status says "busy"). */
  get full(): boolean {
    return this.waiting >= this.settings.queueLimit;
  }

  submit(entry: RequestEntry): void {
    if (this.mode === 'closed') {
      this.fail(entry, 'closed', 'the connection is closed');
      return;
    }
    const queueing = this.mode === 'offline' && this.settings.offlinePolicy === 'queue';
    if (this.mode === 'offline' && !queueing) {
      this.fail(entry, 'offline', `not sent: ${this.hooks.describeOffline()}`);
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
      this.hooks.depthChanged();
      return;
    }
    if (queueing) this.stampForQueue(entry);
    else entry.timer = setTimeout(this.onTimeout, entry.timeoutMs, entry);
    if (this.mode === 'online') {
      this.outbox.push(entry);
      this.flushScheduled ??= setImmediate(this.flush);
      return;
    }
    this.scheduler.add(entry);
    this.armExpiry();
    this.hooks.depthChanged();
  }

  /**
   * A publish that goes before every post, within the uplink budget (a reply: OneNET waits 5 s).
   * `send` runs once the budget allows, while a session is up; the caller times it out.
   */
  submitPriority(send: () => void): PriorityUplink {
    const item: PriorityUplink = { send, cancelled: false };
    this.scheduler.addPriority(item);
    this.flushScheduled ??= setImmediate(this.flush);
    return item;
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
    for (const entry of this.scheduler.entries())
      entry.timer ??= setTimeout(this.onTimeout, entry.timeoutMs, entry);
    this.pump();
    this.hooks.depthChanged();
  }

  /** Stop sending; requests in flight keep waiting for their replies until connectionLost(). */
  pause(mode: 'holding' | 'offline'): void {
    if (this.mode === 'closed') return;
    this.moveOutboxToScheduler();
    this.mode = mode;
    this.publish = undefined;
    this.clearBudgetTimer();
    if (this.scheduler.depth > 0) this.armExpiry();
  }

  /**
   * The session's client is gone: settle or re-queue what was in flight (see the class comment).
   * What waits to be sent is left alone; the caller applies the offline policy to it when going offline.
   */
  connectionLost(): void {
    if (this.mode === 'online') this.pause('offline');
    this.generation++;
    this.publishesInFlight = 0;
    const resend: UplinkMessage[] = [];
    for (const message of this.inFlight.takeAll()) {
      if (message.state === 'publishing' && this.settings.offlinePolicy === 'queue') {
        message.state = 'queued';
        message.resent = true;
        for (const member of message.members) this.stampForQueue(member);
        const only = message.members[0]!;
        if (message.alone && only.stamp) {
          message.payload = only.stamp();
          only.stamp = undefined;
        }
        resend.push(message);
      } else {
        const unacknowledged = message.state === 'publishing';
        for (const member of message.members)
          this.settle(
            member,
            'disconnected',
            unacknowledged
              ? 'the connection dropped before OneNET acknowledged the request; it may have reached OneNET'
              : 'the connection dropped after OneNET received the request but before it replied; ' +
                  'it is not sent again, so it is not posted twice',
            true,
          );
      }
    }
    for (const item of this.scheduler.dropPriority()) item.cancelled = true;
    this.scheduler.requeue(resend);
    this.inFlight.notifySettled();
    this.armExpiry();
    this.hooks.depthChanged();
  }

  /**
   * No session now (an attempt failed, or the user disconnected): under 'fail', whatever waits is
   * rejected; under 'queue' it stays, within the limits.
   */
  applyOfflinePolicy(reason: 'offline' | 'disconnected', message: string): void {
    if (this.mode === 'closed') return;
    this.mode = 'offline';
    this.clearBudgetTimer();
    if (this.settings.offlinePolicy === 'fail') {
      for (const entry of this.scheduler.drain())
        this.settle(entry, reason, `not sent: ${message}`, entry.carriers > 0);
    } else {
      for (const entry of this.scheduler.entries()) this.stampForQueue(entry);
      this.armExpiry();
    }
    this.hooks.depthChanged();
  }

  /**
   * The request now waits for the connection under 'queue': its timeout stops (queueMaxAgeMs
   * bounds the wait) and its values get the time they were accepted.
   */
  private stampForQueue(entry: RequestEntry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    if (entry.stamp && entry.unsent === undefined) {
      entry.payload = entry.stamp();
      entry.stamp = undefined;
    }
  }

  /** A reply arrived on `replyKind`'s topic. Returns false when no request waits for it. */
  handleReply(reply: ThingReply, replyKind: TopicKind): boolean {
    const message = this.inFlight.get(reply.id);
    if (!message || replyKindOf(message.kind) !== replyKind) return false;
    this.inFlight.remove(message);
    message.state = 'done';
    if (reply.code === SUCCESS_CODE || (reply.code === DUPLICATE_ID_CODE && message.resent)) {
      // 1025 on a re-sent copy: the first copy arrived before the session dropped (class comment).
      const text =
        reply.code === SUCCESS_CODE
          ? reply.msg
          : 'already received: OneNET had this post from before the connection dropped';
      for (const member of message.members) if (member.waitReply) this.carried(member, reply.code, text);
      return true;
    }
    const description = describeReplyCode(reply.code);
    const platformText = reply.msg && reply.msg !== description ? ` (${reply.msg})` : '';
    for (const member of message.members) {
      if (member.done || !member.waitReply) continue;
      this.finish(member);
      member.reject(
        new OneNetRequestError('reply', `OneNET replied ${reply.code}: ${description}${platformText}`, {
          id: message.id,
          topic: message.topic,
          code: reply.code,
          latencyMs: Date.now() - member.createdAt,
          ...(reply.msg ? { platformMessage: reply.msg } : {}),
        }),
      );
    }
    return true;
  }

  /** Resolves once nothing is in flight, or after `maxMs`. */
  settled(maxMs: number): Promise<void> {
    return this.inFlight.settled(maxMs);
  }

  /** Ends every settled() wait now. */
  stopWaitingForSettle(): void {
    this.inFlight.notifySettled();
  }

  /** Final: every request still here is rejected with reason 'closed'. */
  close(): void {
    if (this.mode === 'closed') return;
    this.moveOutboxToScheduler();
    this.mode = 'closed';
    this.publish = undefined;
    this.generation++;
    this.clearExpiry();
    this.clearBudgetTimer();
    for (const message of this.inFlight.takeAll())
      for (const member of message.members)
        this.settle(
          member,
          'closed',
          'the connection was closed before OneNET replied; it may have reached OneNET',
          true,
        );
    for (const item of this.scheduler.dropPriority()) item.cancelled = true;
    for (const entry of this.scheduler.drain())
      this.settle(
        entry,
        'closed',
        'the connection was closed before the request was sent',
        entry.carriers > 0,
      );
    this.inFlight.notifySettled();
  }

  /** Not yet handed over, so from here on they are ordinary waiting entries (newer than any queued). */
  private moveOutboxToScheduler(): void {
    if (this.flushScheduled) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    if (this.outbox.length === 0) return;
    for (const entry of this.outbox) if (!entry.done) this.scheduler.add(entry);
    this.outbox = [];
  }

  private pump(): void {
    // QoS 0 publish callbacks can run synchronously inside publish(); the flag turns that recursion
    // into iterations of this loop.
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.mode === 'online' && this.publishesInFlight < MAX_PUBLISHES_IN_FLIGHT) {
        const now = Date.now();
        const next = this.scheduler.next(now);
        if (!next) {
          if (this.scheduler.hasWork()) this.waitForBudget(this.scheduler.waitMs(now));
          break;
        }
        if ('priority' in next) next.priority.send();
        else this.send(next.message);
      }
    } finally {
      this.pumping = false;
    }
  }

  private waitForBudget(ms: number): void {
    if (this.budgetTimer) return;
    this.budgetTimer = setTimeout(
      () => {
        this.budgetTimer = undefined;
        const depthBefore = this.scheduler.depth;
        this.pump();
        if (this.scheduler.depth !== depthBefore) this.hooks.depthChanged();
      },
      Math.max(1, ms),
    );
  }

  private clearBudgetTimer(): void {
    if (this.budgetTimer) clearTimeout(this.budgetTimer);
    this.budgetTimer = undefined;
  }

  private send(message: UplinkMessage): void {
    const generation = this.generation;
    message.state = 'publishing';
    message.generation = generation;
    // Armed at submit(); one that waited in the offline queue got it back in resume().
    for (const member of message.members)
      if (!member.done) member.timer ??= setTimeout(this.onTimeout, member.timeoutMs, member);
    this.inFlight.add(message);
    this.publishesInFlight++;
    this.publish!(message.topic, message.payload, message.qos, (error) =>
      this.published(message, generation, error),
    );
  }

  private published(message: UplinkMessage, generation: number, error: Error | undefined): void {
    // A callback from a client that is gone (MQTT.js flushes its store on teardown): already handled.
    if (generation !== this.generation) return;
    this.publishesInFlight--;
    // An error means the connection is going: connectionLost() (or the timeout) settles the members,
    // and nothing more is handed to the dying client.
    if (error) return;
    if (message.state === 'publishing') {
      message.state = 'delivered';
      for (const member of message.members) if (!member.waitReply) this.carried(member, 0, 'not awaited');
      if (!message.waitReply) {
        this.inFlight.remove(message);
        message.state = 'done';
      }
    }
    // Waiting requests go out together on the next turn, like submissions (see `outbox`).
    if (this.scheduler.hasWork()) this.flushScheduled ??= setImmediate(this.flush);
  }

  /** One message carrying some of `entry`'s values succeeded; it resolves when the last one has. */
  private carried(entry: RequestEntry, code: number, text: string): void {
    if (entry.done) return;
    entry.carriers--;
    if (entry.carriers > 0 || entry.waiting) return;
    this.finish(entry);
    const carrier = entry.latestCarrier!;
    entry.resolve({
      id: carrier.id,
      topic: carrier.topic,
      code,
      message: text,
      latencyMs: Date.now() - entry.createdAt,
      merged: carrier.members.length,
    });
  }

  /**
   * The request's time is up. One that never left fails as not sent ('busy' when it waited behind
   * others, 'offline' when it waited for a connection); one that was published fails as 'timeout',
   * saying it may have reached OneNET, so a Catch-and-retry flow can tell the two apart.
   */
  private timedOut(entry: RequestEntry): void {
    entry.timer = undefined;
    if (entry.done) return;
    const within = `within ${entry.timeoutMs} ms`;
    const carrier = entry.latestCarrier;
    if (!carrier || carrier.state === 'queued' || carrier.state === 'done') {
      if (this.mode !== 'online' && this.settings.offlinePolicy === 'queue') return; // resume() re-arms it
      const part = carrier?.state === 'done' ? ' (part of it was posted)' : '';
      const sent = carrier?.state === 'done';
      if (this.mode === 'online') {
        this.settle(
          entry,
          'busy',
          `not sent ${within}${part}: busy, earlier requests were still waiting to be sent`,
          sent,
        );
      } else {
        this.settle(
          entry,
          'offline',
          `not sent: still not connected to OneNET after ${entry.timeoutMs} ms${part}`,
          sent,
        );
      }
      this.hooks.depthChanged();
      return;
    }
    const what =
      carrier.state === 'publishing' && carrier.qos === 1
        ? `OneNET did not acknowledge (PUBACK) the request ${within}; it may have reached OneNET`
        : carrier.qos === 1
          ? `OneNET received the request (PUBACK) but did not reply ${within}; it may have been stored`
          : `no reply from OneNET ${within}; the request was sent and may have reached OneNET`;
    this.settle(entry, 'timeout', what, true);
    this.inFlight.releaseIfSettled(carrier);
  }

  /** The entry is settled: its timer stops and values still waiting are not sent. */
  private finish(entry: RequestEntry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.done = true;
    this.scheduler.withdraw(entry);
    if (this.outbox.length > 0) {
      const index = this.outbox.indexOf(entry);
      if (index >= 0) this.outbox.splice(index, 1);
    }
  }

  /** Rejects an entry; `sent` says whether (some of) it was published. */
  private settle(entry: RequestEntry, reason: RequestFailureReason, message: string, sent: boolean): void {
    if (entry.done) return;
    this.finish(entry);
    const carrier = entry.latestCarrier;
    entry.reject(
      new OneNetRequestError(reason, message, {
        id: carrier?.id ?? entry.id,
        topic: carrier?.topic ?? entry.topic,
        latencyMs: Date.now() - entry.createdAt,
        sent,
      }),
    );
  }

  /** Rejects an entry that was never sent. */
  private fail(entry: RequestEntry, reason: RequestFailureReason, message: string): void {
    this.settle(entry, reason, message, false);
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
      this.scheduler.depth === 0 ||
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
    const before = this.scheduler.depth;
    for (const entry of this.scheduler.entries())
      if (this.isExpired(entry, now))
        this.settle(entry, 'queue-expired', this.expiredMessage(), entry.carriers > 0);
    this.scheduler.compactResend();
    if (this.scheduler.depth === 0) this.clearExpiry();
    if (this.scheduler.depth !== before) this.hooks.depthChanged();
  }

  private clearExpiry(): void {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
  }
}
