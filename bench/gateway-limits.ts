import { UPLINK_BURST } from '../src/connection/uplink-scheduler';
import { BATCH_LIMITS } from '../src/protocol';

/**
 * What OneNET's limits physically allow a gateway, for the gateway benchmark to print beside what
 * it measured. Every uplink publish of the gateway (topology and login requests, their answers,
 * pack/posts) takes one slot of its `uplinkRate` budget (DESIGN.md §4; token-bucket.ts): a burst
 * of UPLINK_BURST after a quiet spell, then `rate` a second. Facts (checked in the code):
 * - a pack/post carries at most BATCH_LIMITS.devicesPerMessage (10) identities and one value per
 *   identifier and identity (uplink-pack.ts), so with one property per sub-device a pack/post
 *   carries at most 10 values; a history/post as many identities, with every value they overwrote;
 * - topo/add and sub/login carry one sub-device each (onenet-next.md §Q2 step 3, "one per request";
 *   buildTopoAddRequest / buildSubLoginRequest), and after every gateway login the connection first
 *   sends topo/get and answers topo/get/result (sub-devices.ts syncTopology): 2 messages;
 * - no post of a sub-device goes out before its sub/login (sub-device-posts.ts holds it).
 */

export const BURST = UPLINK_BURST;
export const VALUES_PER_PACK = BATCH_LIMITS.devicesPerMessage;
/** topo/get and its topo/get/result, before the first binding of every gateway session. */
export const TOPOLOGY_SYNC_MESSAGES = 2;

/** Messages needed until `count` sub-devices are bound (unless `preBound`) and logged in. */
export function bindingMessages(count: number, preBound: boolean): number {
  return TOPOLOGY_SYNC_MESSAGES + count * (preBound ? 1 : 2);
}

/** The least time those messages take at `rate` a second, the burst going first (ms). */
export function minimumBindingMs(count: number, preBound: boolean, rate: number): number {
  return (Math.max(0, bindingMessages(count, preBound) - BURST) / rate) * 1000;
}

/** Messages the budget allows in `ms` from a full bucket. */
export function messagesIn(ms: number, rate: number): number {
  return BURST + Math.floor((rate * ms) / 1000);
}

export interface PostingLimits {
  /** Values the flow offers a second (one property per post). */
  offeredPerSecond: number;
  /** Values a second the budget can carry in pack/posts alone (one value per identity a message). */
  packCapacityPerSecond: number;
  /**
   * With more offered than that, the seconds between two visits of one sub-device when every visit
   * of ten sub-devices is a pack/post of their newest values and a history/post of the rest
   * (undefined: pack/posts alone keep up).
   */
  cycleMs?: number;
  /** The most values any client could deliver (see mostDeliverable). */
  mostDelivered: number;
  /** So at least this many posts must fail (or never be sent). */
  leastFailed: number;
  /**
   * The least lag a value can have at these percentiles (ms); undefined while sub-devices still log
   * in during the posts (then it depends on which values a client gives up, not on the rate alone).
   */
  lagP50Ms?: number;
  lagP99Ms?: number;
}

/**
 * The posting phase: `count` sub-devices each posting `perDevice` times, one every `intervalMs`;
 * the budget runs for the posting window plus the post timeout (a post made at the end may still
 * go out until then).
 *
 * Capacity. A message carries at most 10 identities. A pack/post carries one value of each of their
 * properties, and a history/post every waiting value (up to 100 a point, far more than these posts
 * make), so a visit of ten sub-devices, a pack/post of their newest values plus a history/post of
 * the values those overwrote, takes two messages and carries everything they have waiting.
 * (History alone would take one, but live values stay on pack/post: whether history/post changes the
 * latest value is unconfirmed, onenet-next.md §Q3.)
 * - While the offer is at most 10 values per message, pack/posts alone keep up: a value waits only
 *   for the next slot, which comes every 1/rate s, so even a perfect client's values wait uniformly
 *   up to 1/rate s (p50 half a slot, p99 0.99 of one) once more values than messages are offered.
 * - Beyond that each sub-device is visited once a cycle of 2 × ⌈count / 10⌉ messages, and a value
 *   waits for its sub-device's next visit: uniformly up to a cycle (p50 half, p99 0.99 of it). A
 *   value older than the post timeout at its visit has failed, so with a cycle longer than the
 *   timeout only the share timeout / cycle can be delivered, each within the timeout.
 * `loginsPending` sub-devices still have to log in during the posts (0 when posting starts once all
 * are logged in): each login is a message no post can use, and a sub-device not logged in posts
 * nothing, so a client logging in L of them delivers at most min(values, L × perDevice, whole backlogs
 * of 10 sub-devices a remaining message); the best L is taken. Which values arrive, and so their lag,
 * then depends on which ones a client gives up: no least lag is given.
 */
export function postingLimits(args: {
  count: number;
  perDevice: number;
  intervalMs: number;
  rate: number;
  timeoutMs: number;
  loginsPending: number;
}): PostingLimits {
  const { count, perDevice, intervalMs, rate, timeoutMs, loginsPending } = args;
  const offeredPerSecond = count / (intervalMs / 1000);
  const packCapacityPerSecond = rate * VALUES_PER_PACK;
  const values = count * perDevice;
  const messages = messagesIn(perDevice * intervalMs + timeoutMs, rate);
  const slotMs = 1000 / rate;
  const needsHistory = offeredPerSecond > packCapacityPerSecond;
  const cycleMs = needsHistory ? 2 * Math.ceil(count / VALUES_PER_PACK) * slotMs : undefined;
  let mostDelivered: number;
  if (loginsPending > 0)
    mostDelivered = mostWhileLoggingIn(values, messages, count, perDevice, loginsPending);
  else if (cycleMs === undefined) mostDelivered = Math.min(values, VALUES_PER_PACK * messages);
  else mostDelivered = Math.floor(values * Math.min(1, timeoutMs / cycleMs));
  const limits: PostingLimits = {
    offeredPerSecond,
    packCapacityPerSecond,
    mostDelivered,
    leastFailed: values - mostDelivered,
  };
  if (cycleMs !== undefined) limits.cycleMs = cycleMs;
  if (loginsPending > 0) return limits;
  // The wait a delivered value cannot avoid: for the next slot, or for its sub-device's next visit
  // (at most the timeout: anything older has failed).
  const spanMs = cycleMs !== undefined ? Math.min(cycleMs, timeoutMs) : offeredPerSecond > rate ? slotMs : 0;
  return { ...limits, lagP50Ms: 0.5 * spanMs, lagP99Ms: 0.99 * spanMs };
}

function mostWhileLoggingIn(
  values: number,
  messages: number,
  count: number,
  perDevice: number,
  loginsPending: number,
): number {
  const loggedIn = count - loginsPending;
  let best = 0;
  for (let logins = 0; logins <= loginsPending; logins++) {
    const posts = messages - TOPOLOGY_SYNC_MESSAGES - logins;
    if (posts <= 0) break;
    const carried = VALUES_PER_PACK * posts * perDevice;
    best = Math.max(best, Math.min(carried, (loggedIn + logins) * perDevice, values));
  }
  return best;
}
