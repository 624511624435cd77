/**
 * The uplink budget of one connection: `ratePerSecond` publishes a second on average, with at most
 * `burst` at once after a quiet spell, so a device that posts now and then is never held back while
 * a flood is paced to the rate (DESIGN.md §4 `uplinkRate`; onenet-next.md §Q5: OneNET documents
 * 1 uplink/s per device and delays or punishes the excess). A rate of 0 means no limit.
 *
 * Over any window of W seconds at most `burst + ratePerSecond × W` publishes pass.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    now: number,
  ) {
    if (!(ratePerSecond >= 0) || !Number.isFinite(ratePerSecond))
      throw new Error('the uplink rate must be a number of messages per second, 0 or more');
    if (!Number.isInteger(burst) || burst < 1)
      throw new Error('the uplink burst must be a whole number, 1 or more');
    this.tokens = burst;
    this.updatedAt = now;
  }

  get unlimited(): boolean {
    return this.ratePerSecond === 0;
  }

  /** Whole publishes that may go out now. */
  available(now: number): number {
    if (this.unlimited) return Number.POSITIVE_INFINITY;
    this.refill(now);
    return Math.floor(this.tokens);
  }

  /** Takes one publish from the budget; false when there is none now. */
  take(now: number): boolean {
    if (this.unlimited) return true;
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Gives back a publish taken but not used. */
  refund(): void {
    if (!this.unlimited) this.tokens = Math.min(this.burst, this.tokens + 1);
  }

  /** Milliseconds until take() can succeed (0 when it can now). */
  waitMs(now: number): number {
    if (this.unlimited) return 0;
    this.refill(now);
    if (this.tokens >= 1) return 0;
    return Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond);
  }

  private refill(now: number): void {
    // A clock that steps back adds nothing (and takes nothing away).
    const elapsed = Math.max(0, now - this.updatedAt);
    this.updatedAt = Math.max(this.updatedAt, now);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}
