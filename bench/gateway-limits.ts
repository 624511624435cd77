import { UPLINK_BURST } from '../src/connection/uplink-scheduler';
import { BATCH_LIMITS } from '../src/protocol';

/**
 * What OneNET's limits physically allow a gateway, for the gateway benchmark to print beside what
 * it measured. Every uplink publish of the gateway (topology and login requests, their answers,
 * pack/posts) takes one slot of its `uplinkRate` budget (DESIGN.md §4; token-bucket.ts): a burst
 * of UPLINK_BURST after a quiet spell, then `rate` a second. Facts (checked in the code):
 * - a pack/post carries at most BATCH_LIMITS.devicesPerMessage (10) identities and one value per
 *   identifier and identity (uplink-pack.ts), so with one property per sub-device a pack/post
 *   carries at most 10 values;
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
  /** Values a second the budget can carry (full pack/posts, nothing else sent). */
  capacityPerSecond: number;
  /** The most values any client could deliver (see mostDeliverable). */
  mostDelivered: number;
  /** So at least this many posts must fail (or never be sent). */
  leastFailed: number;
  /** The least lag a value can have at these percentiles when the budget is the bottleneck (ms). */
  lagP50Ms: number;
  lagP99Ms: number;
}

/**
 * The posting phase: `count` sub-devices each posting `perDevice` times, one every `intervalMs`;
 * the budget runs for the posting window plus the post timeout (a post made at the end may still
 * go out until then). `loginsPending` sub-devices still have to log in during it (0 when posting
 * starts once all are logged in): each login is a message no pack/post can use, and a sub-device
 * not logged in posts nothing, so a client logging in L of them delivers at most
 * min(10 × packs, L × perDevice) values with packs = messages − sync − L; the best L is taken.
 *
 * The lag bound: with more values than messages, a value waits for the next slot, which comes
 * every 1/rate s, so even a perfect client's values wait uniformly up to 1/rate s (p50 half a
 * slot, p99 0.99 of one); with fewer, a value can go at once.
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
  const capacityPerSecond = rate * VALUES_PER_PACK;
  const values = count * perDevice;
  const messages = messagesIn(perDevice * intervalMs + timeoutMs, rate);
  const mostDelivered = mostDeliverable(values, messages, count, perDevice, loginsPending);
  const slotMs = 1000 / rate;
  const paced = offeredPerSecond > rate;
  return {
    offeredPerSecond,
    capacityPerSecond,
    mostDelivered,
    leastFailed: values - mostDelivered,
    lagP50Ms: paced ? 0.5 * slotMs : 0,
    lagP99Ms: paced ? 0.99 * slotMs : 0,
  };
}

function mostDeliverable(
  values: number,
  messages: number,
  count: number,
  perDevice: number,
  loginsPending: number,
): number {
  if (loginsPending === 0) return Math.min(values, VALUES_PER_PACK * messages);
  const loggedIn = count - loginsPending;
  let best = 0;
  for (let logins = 0; logins <= loginsPending; logins++) {
    const packs = messages - TOPOLOGY_SYNC_MESSAGES - logins;
    if (packs <= 0) break;
    best = Math.max(best, Math.min(VALUES_PER_PACK * packs, (loggedIn + logins) * perDevice, values));
  }
  return best;
}
