import type { EventEmitter } from 'node:events';
import { clockTime, describeDevice } from './log-format';
import { UplinkRateLimiter } from './rate-limiter';
import { RingBuffer } from './ring-buffer';
import type { Session } from './session';
import type {
  DeviceRef,
  EmulatorStats,
  OneNetEmulatorEvents,
  RateViolationRecord,
  UplinkRateLimitOptions,
} from './types';

/**
 * Enforcement of the per-device uplink limit (§1.4; onenet-next.md §Q5) in its three modes; the
 * allowance itself is UplinkRateLimiter's. Which documented behaviour applies to today's platform is
 * UNCONFIRMED, hence the modes.
 */

/** "拉黑设备5分钟" (use_limits.md, §1.4). */
export const DEFAULT_BAN_MS = 5 * 60 * 1000;
/** How many violations rateViolations() keeps (oldest dropped first). */
const VIOLATION_LOG_LIMIT = 10_000;
const MODES = ['off', 'delay', 'disconnect', 'ban'];

export interface RateGateHost {
  readonly stats: EmulatorStats;
  readonly events: EventEmitter<OneNetEmulatorEvents>;
  readonly log: ((line: string) => void) | undefined;
  /** A timer the emulator owns, cleared by its close(). */
  later(ms: number, action: () => void): void;
}

/** Throws for options that make no sense, naming the option. */
export function checkRateLimitOptions(limit: UplinkRateLimitOptions | undefined): void {
  if (!limit) return;
  if (limit.mode !== undefined && !MODES.includes(limit.mode))
    throw new Error(`uplinkRateLimit.mode must be one of ${MODES.join(', ')}`);
  if (limit.banMs !== undefined && (!Number.isSafeInteger(limit.banMs) || limit.banMs < 1))
    throw new Error('uplinkRateLimit.banMs must be a positive number of milliseconds');
  new UplinkRateLimiter(limit.perSecond, limit.burst ?? 0); // validates perSecond and burst
}

export class UplinkRateGate {
  private readonly limit: Required<UplinkRateLimitOptions> | undefined;
  private readonly limiters = new Map<string, UplinkRateLimiter>();
  /** Per device: the release of its last held publish, which the next one waits for. */
  private readonly heldUplinks = new Map<string, Promise<void>>();
  private readonly bans = new Map<string, number>();
  /** Sessions being closed for the limit: the publishes already on their way are not counted again. */
  private readonly cut = new WeakSet<Session>();
  private readonly violationLog = new RingBuffer<RateViolationRecord>(VIOLATION_LOG_LIMIT);

  constructor(
    limit: UplinkRateLimitOptions | undefined,
    private readonly host: RateGateHost,
  ) {
    checkRateLimitOptions(limit);
    this.limit =
      limit && limit.mode !== 'off'
        ? {
            perSecond: limit.perSecond,
            mode: limit.mode ?? 'delay',
            banMs: limit.banMs ?? DEFAULT_BAN_MS,
            burst: limit.burst ?? 0,
          }
        : undefined;
  }

  /**
   * Decides about a publish that passed every other rule: `pass` handles it now or later (delay),
   * `fail` refuses it, which closes the connection without a PUBACK.
   */
  admit(session: Session, topic: string, pass: () => void, fail: (reason: string) => void): void {
    if (this.cut.has(session)) {
      fail('uplink rate limit exceeded');
      return;
    }
    const limit = this.limit;
    if (!limit) {
      pass();
      return;
    }
    const now = Date.now();
    const limiter = this.limiterFor(session.deviceKey, limit);
    if (limit.mode !== 'delay') {
      if (limiter.tryTake(now)) {
        pass();
        return;
      }
      this.refuse(session, topic, now, limit, fail);
      return;
    }
    const delay = limiter.delayFor(now);
    const pending = this.heldUplinks.get(session.deviceKey);
    if (delay === 0 && !pending) {
      pass();
      return;
    }
    if (delay > 0) this.record(session, topic, now, { mode: 'delay', action: 'delayed', delayMs: delay });
    this.host.log?.(`rate limit: ${describeDevice(session.device)} uplink held ${delay} ms (§1.4)`);
    // Held publishes are released one after the other, so they keep their order even when their
    // timers would fire in another (timers of different durations are not ordered among themselves).
    const releaseAt = now + delay;
    const release = (pending ?? Promise.resolve()).then(
      () => new Promise<void>((resolve) => this.host.later(Math.max(0, releaseAt - Date.now()), resolve)),
    );
    this.heldUplinks.set(session.deviceKey, release);
    void release.then(() => {
      if (this.heldUplinks.get(session.deviceKey) === release) this.heldUplinks.delete(session.deviceKey);
      if (session.closed) fail('session closed');
      else pass();
    });
  }

  /** Why a login of the device is refused now, when it is banned. */
  banReason(deviceKey: string, now: number): string | undefined {
    const until = this.bans.get(deviceKey);
    if (until === undefined) return undefined;
    if (until <= now) {
      this.bans.delete(deviceKey);
      return undefined;
    }
    const seconds = Math.ceil((until - now) / 1000);
    return `banned for exceeding the uplink rate limit until ${clockTime(new Date(until))} (${seconds} s left)`;
  }

  bannedUntil(deviceKey: string, now: number): number | undefined {
    return this.banReason(deviceKey, now) === undefined ? undefined : this.bans.get(deviceKey);
  }

  violations(ref?: DeviceRef): RateViolationRecord[] {
    const all = this.violationLog.toArray();
    if (!ref) return all;
    return all.filter((record) => record.productId === ref.productId && record.deviceName === ref.deviceName);
  }

  private refuse(
    session: Session,
    topic: string,
    now: number,
    limit: Required<UplinkRateLimitOptions>,
    fail: (reason: string) => void,
  ): void {
    const allowance =
      limit.burst > 0
        ? `${limit.perSecond} per second (burst ${limit.burst})`
        : `${limit.perSecond} per second`;
    let reason = `uplink rate limit exceeded: more than ${allowance} (§1.4)`;
    if (limit.mode === 'ban') {
      const bannedUntil = now + limit.banMs;
      this.bans.set(session.deviceKey, bannedUntil);
      reason += `; logins refused for ${Math.ceil(limit.banMs / 1000)} s`;
      this.record(session, topic, now, { mode: 'ban', action: 'banned', bannedUntil });
    } else {
      this.record(session, topic, now, { mode: 'disconnect', action: 'disconnected' });
    }
    this.host.log?.(`rate limit: ${describeDevice(session.device)} publish to ${topic} refused: ${reason}`);
    this.cut.add(session);
    session.closeReason ??= reason;
    fail(reason);
  }

  private record(
    session: Session,
    topic: string,
    at: number,
    detail: Pick<RateViolationRecord, 'mode' | 'action' | 'delayMs' | 'bannedUntil'>,
  ): void {
    const record: RateViolationRecord = {
      productId: session.productId,
      deviceName: session.deviceName,
      topic,
      at,
      ...detail,
    };
    this.host.stats.rateViolations++;
    this.violationLog.push(record);
    this.host.events.emit('rate-limited', record);
  }

  private limiterFor(deviceKey: string, limit: Required<UplinkRateLimitOptions>): UplinkRateLimiter {
    let limiter = this.limiters.get(deviceKey);
    if (!limiter) {
      limiter = new UplinkRateLimiter(limit.perSecond, limit.burst);
      this.limiters.set(deviceKey, limiter);
    }
    return limiter;
  }
}
