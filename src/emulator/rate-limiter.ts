/**
 * OneNET's per-device uplink limit, Studio variant (shared/onenet-protocol.md §1.4: "设备上行 1 per s,
 * 超限后延迟到下一秒处理"), counted in wall-clock seconds, with an optional burst on top.
 *
 * The allowance: a device holds up to `perSecond + burst` tokens, full at first. At the start of each
 * wall-clock second (every epoch millisecond that is a multiple of 1000) it gains `perSecond`, up to
 * that capacity. Each publish takes one. With `burst` 0 this is exactly "at most `perSecond` in each
 * wall-clock second". A sequence of publishes stays within it exactly when every run of k
 * consecutive wall-clock seconds holds at most `burst + perSecond × k` of them (docs/emulator.md).
 */
export class UplinkRateLimiter {
  /** The wall-clock second (ms epoch / 1000, floored) whose tokens `tokens` counts. */
  private second = Number.NEGATIVE_INFINITY;
  private tokens: number;
  private readonly capacity: number;

  constructor(
    private readonly perSecond: number,
    burst = 0,
  ) {
    if (!Number.isInteger(perSecond) || perSecond < 1)
      throw new Error('uplinkRateLimit.perSecond must be a positive integer');
    if (!Number.isInteger(burst) || burst < 0)
      throw new Error('uplinkRateLimit.burst must be a whole number (0 or more)');
    this.capacity = perSecond + burst;
    this.tokens = this.capacity;
  }

  /**
   * Delay mode: milliseconds to hold a publish arriving at `now` (0 = handle it at once). A held
   * publish takes a token of the first later second that has one, so later publishes queue behind it.
   */
  delayFor(now: number): number {
    const currentSecond = this.refill(now);
    if (this.tokens < 1) {
      this.second += 1;
      this.tokens = Math.min(this.capacity, this.tokens + this.perSecond);
    }
    this.tokens -= 1;
    return this.second === currentSecond ? 0 : this.second * 1000 - now;
  }

  /** Disconnect and ban modes: takes a token when one is left now; false = the publish is excess. */
  tryTake(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Brings the tokens up to the second of `now` (never back: held publishes may have gone ahead). */
  private refill(now: number): number {
    const currentSecond = Math.floor(now / 1000);
    if (this.second < currentSecond) {
      const elapsed = this.second === Number.NEGATIVE_INFINITY ? Infinity : currentSecond - this.second;
      this.tokens = Math.min(this.capacity, this.tokens + this.perSecond * elapsed);
      this.second = currentSecond;
    }
    return currentSecond;
  }
}
