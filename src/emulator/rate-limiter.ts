/**
 * OneNET's per-device uplink limit, Studio variant (shared/onenet-protocol.md §1.4: "设备上行 1 per s,
 * 超限后延迟到下一秒处理"): a publish beyond the allowance of its wall-clock second is handled at the
 * start of the next second that still has room. Returns how long to hold each publish.
 */
export class UplinkRateLimiter {
  /** The second (ms epoch / 1000, floored) that the last publish was scheduled into. */
  private slotSecond = 0;
  private usedInSlot = 0;

  constructor(private readonly perSecond: number) {
    if (!Number.isInteger(perSecond) || perSecond < 1)
      throw new Error('uplinkRateLimit.perSecond must be a positive integer');
  }

  /** Milliseconds to hold a publish arriving at `now` (0 = handle it at once). */
  delayFor(now: number): number {
    const currentSecond = Math.floor(now / 1000);
    if (this.slotSecond < currentSecond) {
      this.slotSecond = currentSecond;
      this.usedInSlot = 0;
    }
    if (this.usedInSlot >= this.perSecond) {
      this.slotSecond += 1;
      this.usedInSlot = 0;
    }
    this.usedInSlot += 1;
    return this.slotSecond === currentSecond ? 0 : this.slotSecond * 1000 - now;
  }
}
