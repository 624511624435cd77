import type { ResolvedOptions } from './options';

/** How a connection attempt or session ended, as far as the client can tell. */
export type SessionEnd =
  /** The attempt never reached a usable session (refused, timed out, dropped before SUBACK). */
  | 'failed'
  /** CONNACK 4/5: OneNET refused the credentials. */
  | 'auth-failed'
  /**
   * Dropped within the kick window after a good login, not by us. Alone it may be a flapping link;
   * several in a row are the pattern of another client logging in as this device (see nextDelay).
   */
  | 'kicked'
  /** Dropped after the session had been up for a while (network, broker restart, token expiry). */
  | 'dropped';

/** A delay factor that grows no further; keeps long outages and wrong keys from waiting for hours. */
const MAX_SLOW_FACTOR = 10;
/**
 * Short sessions in a row before they count as kicks. The client cannot see why a socket closed: one
 * or two drops right after login are what a flapping 4G link does, and get the normal back-off; a
 * twin that logs in again every time it is kicked ends every one of our sessions within seconds.
 */
export const KICKS_BEFORE_SLOW_DOWN = 3;
/**
 * How far the kicked delay grows: 40 × 30 s = 20 min nominal (10–20 min with jitter), so over ten
 * minutes with a twin we log in about eight times, and from then on about every quarter of an hour,
 * instead of kicking a real device every half minute forever (OneNET also bans a device for 5 min
 * after too many logins, onenet-next.md §Q5).
 */
const MAX_KICKED_FACTOR = 40;

/**
 * Exponential backoff with "equal jitter" (each delay is uniformly 50..100 % of the nominal one), so
 * a thousand devices dropped by one broker restart spread their reconnects instead of arriving in
 * lock-step, while none waits less than half the nominal delay.
 */
export class ReconnectPolicy {
  private failures = 0;
  private authFailures = 0;
  private kicks = 0;

  constructor(
    private readonly settings: ResolvedOptions['reconnect'],
    private readonly random: () => number = Math.random,
  ) {}

  /** Consecutive short sessions so far (0 after a session that lasted). */
  get consecutiveKicks(): number {
    return this.kicks;
  }

  /** Whether the short sessions so far make the pattern of another client using this device. */
  get kickedByTwin(): boolean {
    return this.kicks >= KICKS_BEFORE_SLOW_DOWN;
  }

  /** The login succeeded: credentials are fine. */
  loggedIn(): void {
    this.authFailures = 0;
  }

  /** Forget all history (the user asked to connect now). */
  reset(): void {
    this.failures = 0;
    this.authFailures = 0;
    this.kicks = 0;
  }

  /** The delay before the next attempt, given how the last one ended. */
  nextDelay(end: SessionEnd): number {
    const { initialDelayMs, maxDelayMs, authFailedDelayMs, kickedDelayMs } = this.settings;
    switch (end) {
      case 'dropped':
        // A session that lasted proves the setup works: start the backoff from the beginning.
        this.failures = 1;
        this.kicks = 0;
        return this.jitter(initialDelayMs);
      case 'failed':
        this.failures++;
        return this.jitter(exponential(initialDelayMs, this.failures, Math.max(maxDelayMs, initialDelayMs)));
      case 'auth-failed':
        // OneNET bans a device for 5 minutes after too many logins (§1.4), so a wrong key must stay slow.
        this.authFailures++;
        return this.jitter(
          exponential(authFailedDelayMs, this.authFailures, authFailedDelayMs * MAX_SLOW_FACTOR),
        );
      case 'kicked':
        this.kicks++;
        this.failures++;
        if (this.kicks < KICKS_BEFORE_SLOW_DOWN) {
          return this.jitter(
            exponential(initialDelayMs, this.failures, Math.max(maxDelayMs, initialDelayMs)),
          );
        }
        return this.jitter(
          exponential(
            kickedDelayMs,
            this.kicks - KICKS_BEFORE_SLOW_DOWN + 1,
            kickedDelayMs * MAX_KICKED_FACTOR,
          ),
        );
    }
  }

  private jitter(nominal: number): number {
    return Math.round(nominal / 2 + (this.random() * nominal) / 2);
  }
}

/** base, 2*base, 4*base, ... for attempt 1, 2, 3, ..., capped. */
function exponential(base: number, attempt: number, cap: number): number {
  return Math.min(cap, base * 2 ** Math.min(30, Math.max(0, attempt - 1)));
}
