import { describeReplyCode, SUCCESS_CODE, type ThingReply } from '../protocol';
import { OneNetRequestError } from './errors';
import type { InFlight } from './in-flight';
import type { PipelineMode, PipelineSettings } from './request-pipeline';
import type { UplinkScheduler } from './uplink-scheduler';
import { stampedPayload } from './uplink-merge';
import type { RequestEntry, UplinkMessage } from './uplink-types';
import type { RequestFailureReason } from './types';

/** OneNET's code for a message id it has seen before (onenet-protocol.md §3 reply codes, MQTT接入服务). */
const DUPLICATE_ID_CODE = 1025;

/** What the settlement rules read from, and do to, the pipeline they serve. */
export interface SettlementContext {
  readonly settings: PipelineSettings;
  readonly scheduler: UplinkScheduler;
  readonly inFlight: InFlight;
  mode(): PipelineMode;
  /** Forgets an entry submitted but not yet handed to the scheduler. */
  unqueue(entry: RequestEntry): void;
  depthChanged(): void;
  /** offlinePolicy 'store' (PipelineHooks.divert): takes a request that was never sent, or refuses. */
  divert?: (entry: RequestEntry) => boolean;
}

/**
 * How the pipeline's requests settle, each exactly once: on a reply, on their timeout, when the
 * connection drops or closes, and, under the 'queue' policy, when they waited too long offline
 * (the expiry timer). The pipeline decides when; these rules decide with what outcome and text.
 */
export class Settlement {
  private expiryTimer: NodeJS.Timeout | undefined;
  readonly onTimeout = (entry: RequestEntry): void => this.timedOut(entry);

  constructor(private readonly ctx: SettlementContext) {}

  /** `message` was in flight and its reply arrived (already taken out of InFlight). */
  replied(message: UplinkMessage, reply: ThingReply): void {
    message.state = 'done';
    if (reply.code === SUCCESS_CODE || (reply.code === DUPLICATE_ID_CODE && message.resent)) {
      // 1025 on a re-sent copy: the first copy arrived before the session dropped (see lost()).
      const text =
        reply.code === SUCCESS_CODE
          ? reply.msg
          : 'already received: OneNET had this post from before the connection dropped';
      for (const member of message.members) if (member.waitReply) this.carried(member, reply.code, text);
      return;
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
  }

  /**
   * The session carrying `message` is gone. Returns true when the message is to be re-sent (it is
   * then prepared for the queue); otherwise its members are settled here.
   *
   * Drop rules (the "delivered once each, none lost" guarantee under the 'queue' policy):
   * - not yet sent: stays queued ('queue') or is rejected 'disconnected' ('fail') — see
   *   RequestPipeline.applyOfflinePolicy;
   * - handed to MQTT.js but not acknowledged: the platform may not have it, so it is re-sent after
   *   reconnect ('queue'; QoS 1 is at-least-once anyway) or rejected ('fail'). The re-sent copy keeps
   *   its id: if the first copy did arrive, the same id lets OneNET tell the copy for what it is (it
   *   answers 1025 "duplicate id", which then counts as received), where a new id would be stored as
   *   a second post (onenet-protocol.md §1.6 ids, §3 code 1025);
   * - acknowledged but not yet replied: the platform has it, so re-sending would post it twice. The
   *   reply went to the old connection and is lost, so it is rejected 'disconnected' in both policies,
   *   with a message saying it was delivered.
   */
  lost(message: UplinkMessage): boolean {
    if (message.state === 'publishing' && this.ctx.settings.offlinePolicy === 'queue') {
      message.state = 'queued';
      message.resent = true;
      for (const member of message.members) this.stampForQueue(member);
      if (message.alone) message.payload = message.members[0]!.payload;
      return true;
    }
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
    return false;
  }

  /** close(): `message` was in flight. */
  closedInFlight(message: UplinkMessage): void {
    for (const member of message.members)
      this.settle(
        member,
        'closed',
        'the connection was closed before OneNET replied; it may have reached OneNET',
        true,
      );
  }

  /** close(): `entry` still waited to be sent. */
  closedWaiting(entry: RequestEntry): void {
    this.settle(entry, 'closed', 'the connection was closed before the request was sent', entry.carriers > 0);
  }

  /**
   * The request now waits for the connection under 'queue': its timeout stops (queueMaxAgeMs
   * bounds the wait) and its values get the time they were accepted.
   */
  stampForQueue(entry: RequestEntry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    if (entry.unsent === undefined) entry.payload = stampedPayload(entry);
  }

  /** One message carrying some of `entry`'s values succeeded; it resolves when the last one has. */
  carried(entry: RequestEntry, code: number, text: string): void {
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
   * The request's time is up. One that never left goes to the store under offlinePolicy 'store'
   * (it would wait past its bound), else fails as not sent ('busy' when it waited behind others,
   * 'offline' when it waited for a connection); one that was published fails as 'timeout', saying
   * it may have reached OneNET, so a Catch-and-retry flow can tell the two apart.
   */
  private timedOut(entry: RequestEntry): void {
    entry.timer = undefined;
    if (entry.done || this.diverted(entry)) return;
    const mode = this.ctx.mode();
    const within = `within ${entry.timeoutMs} ms`;
    const carrier = entry.latestCarrier;
    if (!carrier || carrier.state === 'queued' || carrier.state === 'done') {
      if (mode !== 'online' && this.ctx.settings.offlinePolicy === 'queue') return; // resume() re-arms it
      const part = carrier?.state === 'done' ? ' (part of it was posted)' : '';
      const sent = carrier?.state === 'done';
      if (mode === 'online') {
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
      this.ctx.depthChanged();
      return;
    }
    const what =
      carrier.state === 'publishing' && carrier.qos === 1
        ? `OneNET did not acknowledge (PUBACK) the request ${within}; it may have reached OneNET`
        : carrier.qos === 1
          ? `OneNET received the request (PUBACK) but did not reply ${within}; it may have been stored`
          : `no reply from OneNET ${within}; the request was sent and may have reached OneNET`;
    this.settle(entry, 'timeout', what, true);
    this.ctx.inFlight.releaseIfSettled(carrier);
  }

  /**
   * Hands a request that nothing carries now to the store (offlinePolicy 'store'): its values not
   * yet sent are stored; true when the store took it. One with a message in flight is not: that
   * message may have arrived, and its reply decides (or its timeout: 'timeout', not stored again).
   */
  private diverted(entry: RequestEntry): boolean {
    if (!this.ctx.divert || entry.carriers > 0) return false;
    this.ctx.scheduler.withdraw(entry);
    this.ctx.unqueue(entry);
    if (!this.ctx.divert(entry)) return false;
    this.ctx.depthChanged();
    return true;
  }

  /** The entry is settled: its timer stops and values still waiting are not sent. */
  private finish(entry: RequestEntry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.done = true;
    this.ctx.scheduler.withdraw(entry);
    this.ctx.unqueue(entry);
  }

  /** Rejects an entry; `sent` says whether (some of) it was published. */
  settle(entry: RequestEntry, reason: RequestFailureReason, message: string, sent: boolean): void {
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
  fail(entry: RequestEntry, reason: RequestFailureReason, message: string): void {
    this.settle(entry, reason, message, false);
  }

  // ---------------------------------------------------------------------------------------------
  // Offline-queue expiry

  /** Only the queue policy ages requests out of the backlog once they can be sent. */
  isExpired(entry: RequestEntry, now: number): boolean {
    return (
      this.ctx.settings.offlinePolicy === 'queue' && now - entry.createdAt > this.ctx.settings.queueMaxAgeMs
    );
  }

  expiredMessage(): string {
    return `the request waited longer than ${this.ctx.settings.queueMaxAgeMs} ms in the offline queue`;
  }

  /**
   * Under 'queue', while not sending, a timer drops requests that waited longer than queueMaxAgeMs
   * ('queue-expired'). (Under 'fail', which only holds requests while an attempt is in progress,
   * each request's own timeout ends the wait.)
   */
  armExpiry(): void {
    const mode = this.ctx.mode();
    if (
      this.expiryTimer ||
      this.ctx.settings.offlinePolicy !== 'queue' ||
      this.ctx.scheduler.depth === 0 ||
      mode === 'online' ||
      mode === 'closed'
    )
      return;
    const interval = Math.max(20, Math.min(1000, Math.floor(this.ctx.settings.queueMaxAgeMs / 4)));
    this.expiryTimer = setInterval(() => this.expireOld(), interval);
  }

  clearExpiry(): void {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
  }

  private expireOld(): void {
    const mode = this.ctx.mode();
    if (mode === 'online' || mode === 'closed') {
      this.clearExpiry();
      return;
    }
    const { scheduler } = this.ctx;
    const now = Date.now();
    const before = scheduler.depth;
    for (const entry of scheduler.entries())
      if (this.isExpired(entry, now))
        this.settle(entry, 'queue-expired', this.expiredMessage(), entry.carriers > 0);
    scheduler.compactResend();
    if (scheduler.depth === 0) this.clearExpiry();
    if (scheduler.depth !== before) this.ctx.depthChanged();
  }
}
