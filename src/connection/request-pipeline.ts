import { replyKindOf, type ThingReply, type TopicKind } from '../protocol';
import { InFlight } from './in-flight';
import { Settlement } from './settlement';
import { UplinkScheduler } from './uplink-scheduler';
import type {
  OwnUplinkLane,
  PriorityUplink,
  RequestEntry,
  UplinkMessage,
  UplinkMessageKind,
} from './uplink-types';
import type { OfflinePolicy } from './types';

export type { RequestEntry } from './uplink-types';

/**
 * Publishes handed to MQTT.js and not yet completed. MQTT.js adds a 'drain' listener per publish
 * that finds the socket buffer full, and slows down badly with thousands of them; the stream allows
 * 1000 listeners. Replies are matched by id, so this bounds only the hand-over, not the pipelining.
 */
export const MAX_PUBLISHES_IN_FLIGHT = 256;

/**
 * Without an uplink rate, submissions are handed over as soon as this many are collected. A whole
 * window in one write made broker and Node-RED take turns idling; in halves the broker reads one while
 * the next is built (BENCHMARKS.md, #2 at QoS 1). Under a rate a turn's posts wait for the budget
 * anyway, and handed over together they merge into as few messages as before.
 */
export const MAX_OUTBOX_BATCH = MAX_PUBLISHES_IN_FLIGHT / 2;

/** `awaitsReply`: the message waits for OneNET's answer (its reply topic must be subscribed first). */
export type PublishFn = (
  topic: string,
  payload: Buffer,
  qos: 0 | 1,
  done: (error?: Error) => void,
  awaitsReply: boolean,
) => void;

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
  /** offlinePolicy 'store': the backfill lane (see UplinkScheduler). */
  backfill?: { ready: () => boolean; offer: () => UplinkMessage | undefined };
  /**
   * offlinePolicy 'store': a request that was never sent and cannot be now (the connection went, or
   * it waited past its timeout behind others): store it. Returns false when the store does not take
   * it (a store closing, nothing left unsent); the request then fails as it would without a store.
   */
  divert?: (entry: RequestEntry) => boolean;
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
export type PipelineMode = 'online' | 'holding' | 'offline' | 'closed';

/**
 * The request side of a connection: accepts flow requests, lets the UplinkScheduler decide what
 * goes out when (within the uplink rate, merging posts when they come faster), keeps what was sent
 * until its reply (InFlight), runs each request's timeout, and decides what happens to each of them
 * when the connection drops. Every request settles exactly once; the outcomes (replies, timeouts,
 * drops, closing, offline-queue expiry) and their texts are the Settlement's rules, including the
 * drop rules behind the "delivered once each, none lost" guarantee (Settlement.lost).
 */
export class RequestPipeline {
  private mode: PipelineMode = 'offline';
  private generation = 0;
  private readonly scheduler: UplinkScheduler;
  private readonly inFlight = new InFlight();
  /**
   * Requests submitted while online, handed to the scheduler together on the next turn of the event
   * loop. MQTT.js corks the socket per packet and uncorks on the next tick; Node-RED delivers each
   * message in its own setImmediate callback, so publishing at once cost one writev system call per
   * request (a fifth of the CPU of a Node-RED flow in the profile). Collected, they go out in one
   * write, or in writes of MAX_OUTBOX_BATCH. They count as sent-soon, not as queued: depth and the
   * status do not show them.
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
  private readonly rules: Settlement;

  constructor(
    private readonly settings: PipelineSettings,
    private readonly hooks: PipelineHooks,
  ) {
    this.scheduler = new UplinkScheduler(settings.uplinkRate, {
      nextId: hooks.nextId,
      topicOf: hooks.topicOf,
      isExpired: (entry, now) => this.rules.isExpired(entry, now),
      expired: (entry) => this.rules.fail(entry, 'queue-expired', this.rules.expiredMessage()),
      unbuildable: (members, error) => {
        for (const member of members)
          this.rules.fail(member, 'invalid', `could not merge posts: ${error.message}`);
      },
      ...(hooks.backfill ? { backfill: hooks.backfill } : {}),
    });
    this.rules = new Settlement({
      settings,
      scheduler: this.scheduler,
      inFlight: this.inFlight,
      mode: () => this.mode,
      unqueue: (entry) => {
        if (this.outbox.length === 0) return;
        const index = this.outbox.indexOf(entry);
        if (index >= 0) this.outbox.splice(index, 1);
      },
      depthChanged: () => this.hooks.depthChanged(),
      ...(hooks.divert ? { divert: hooks.divert } : {}),
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
      this.rules.fail(entry, 'closed', 'the connection is closed');
      return;
    }
    const queueing = this.mode === 'offline' && this.settings.offlinePolicy === 'queue';
    if (this.mode === 'offline' && !queueing) {
      // Under 'store' nothing is refused as offline (a sub-device's post released after its gateway went).
      if (this.settings.offlinePolicy === 'store' && this.hooks.divert?.(entry)) return;
      this.rules.fail(entry, 'offline', `not sent: ${this.hooks.describeOffline()}`);
      return;
    }
    if (this.waiting >= this.settings.queueLimit) {
      if (this.mode !== 'online' && this.settings.offlinePolicy === 'queue') {
        this.rules.fail(
          entry,
          'queue-overflow',
          `not sent: the offline queue is full (${this.settings.queueLimit} requests wait for the connection)`,
        );
      } else {
        this.rules.fail(
          entry,
          'busy',
          `not sent: busy, ${this.settings.queueLimit} requests already wait to be sent (the queue limit)`,
        );
      }
      this.hooks.depthChanged();
      return;
    }
    if (queueing) this.rules.stampForQueue(entry);
    else entry.timer = setTimeout(this.rules.onTimeout, entry.timeoutMs, entry);
    if (this.mode === 'online') {
      this.outbox.push(entry);
      if (this.outbox.length >= MAX_OUTBOX_BATCH && this.settings.uplinkRate === 0) this.flush();
      else this.flushScheduled ??= setImmediate(this.flush);
      return;
    }
    this.scheduler.add(entry);
    this.rules.armExpiry();
    this.hooks.depthChanged();
  }

  /**
   * A publish of the connection's own, within the uplink budget: before every post (a reply: OneNET
   * waits 5 s), or taking turns with them (`shared`, OwnUplinkLane). `send` runs once the budget
   * allows, while a session is up; the caller times it out.
   */
  submitPriority(send: () => void, lane: OwnUplinkLane = 'priority'): PriorityUplink {
    const item: PriorityUplink = { send, cancelled: false };
    this.scheduler.addPriority(item, lane);
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
    this.rules.clearExpiry();
    // Requests that waited in the offline queue get their full timeout from now on.
    for (const entry of this.scheduler.entries())
      entry.timer ??= setTimeout(this.rules.onTimeout, entry.timeoutMs, entry);
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
    if (this.scheduler.depth > 0) this.rules.armExpiry();
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
    for (const message of this.inFlight.takeAll()) if (this.rules.lost(message)) resend.push(message);
    for (const item of this.scheduler.dropPriority()) item.cancelled = true;
    this.scheduler.requeue(resend);
    this.inFlight.notifySettled();
    this.rules.armExpiry();
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
    if (this.settings.offlinePolicy === 'store' && this.hooks.divert) {
      for (const entry of this.scheduler.drain())
        if (entry.carriers > 0 || !this.hooks.divert(entry))
          this.rules.settle(entry, reason, `not sent: ${message}`, entry.carriers > 0);
    } else if (this.settings.offlinePolicy === 'fail') {
      for (const entry of this.scheduler.drain())
        this.rules.settle(entry, reason, `not sent: ${message}`, entry.carriers > 0);
    } else {
      for (const entry of this.scheduler.entries()) this.rules.stampForQueue(entry);
      this.rules.armExpiry();
    }
    this.hooks.depthChanged();
  }

  /** A reply arrived on `replyKind`'s topic. Returns false when no request waits for it. */
  handleReply(reply: ThingReply, replyKind: TopicKind): boolean {
    const message = this.inFlight.get(reply.id);
    if (!message || replyKindOf(message.kind) !== replyKind) return false;
    this.inFlight.remove(message);
    this.rules.replied(message, reply);
    return true;
  }

  /** Something new may be ready to send (a backfill message was read): pump on the next turn. */
  wake(): void {
    if (this.mode === 'online') this.flushScheduled ??= setImmediate(this.flush);
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
    this.rules.clearExpiry();
    this.clearBudgetTimer();
    for (const message of this.inFlight.takeAll()) this.rules.closedInFlight(message);
    for (const item of this.scheduler.dropPriority()) item.cancelled = true;
    for (const entry of this.scheduler.drain()) this.rules.closedWaiting(entry);
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
      if (!member.done) member.timer ??= setTimeout(this.rules.onTimeout, member.timeoutMs, member);
    this.inFlight.add(message);
    this.publishesInFlight++;
    this.publish!(
      message.topic,
      message.payload,
      message.qos,
      (error) => this.published(message, generation, error),
      message.waitReply,
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
      for (const member of message.members)
        if (!member.waitReply) this.rules.carried(member, 0, 'not awaited');
      if (!message.waitReply) {
        this.inFlight.remove(message);
        message.state = 'done';
      }
    }
    // Waiting requests go out together on the next turn, like submissions (see `outbox`).
    if (this.scheduler.hasWork()) this.flushScheduled ??= setImmediate(this.flush);
  }
}
