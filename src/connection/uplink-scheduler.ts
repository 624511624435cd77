import {
  buildHistoryPost,
  buildPackPost,
  buildRequest,
  serializeMessage,
  type HistoryEntry,
  type PackEntry,
} from '../protocol';
import { Fifo } from './fifo';
import { TokenBucket } from './token-bucket';
import {
  type MergedHistory,
  fullyTaken,
  stampedPayload,
  hasHistory,
  hasLive,
  overtakenLive,
  takeEvents,
  takeHistory,
  takeLatestProperties,
} from './uplink-merge';
import { overtakenInPack, packLanesWaiting, takePack, takePackHistory } from './uplink-pack';
import type {
  OwnUplinkLane,
  PriorityUplink,
  RequestEntry,
  UplinkMessage,
  UplinkMessageKind,
} from './uplink-types';

/** DESIGN.md §4 `uplinkRate`: "with a burst of at most 3". */
export const UPLINK_BURST = 3;

export interface SchedulerHooks {
  nextId: () => string;
  topicOf: (kind: UplinkMessageKind) => string;
  /** Under 'queue', an entry that waited longer than queueMaxAgeMs is failed rather than sent. */
  isExpired: (entry: RequestEntry, now: number) => boolean;
  expired: (entry: RequestEntry) => void;
  /** A merged message could not be built (a bug, not the user's data: each value was checked). */
  unbuildable: (members: RequestEntry[], error: Error) => void;
  /** The lowest lane (offlinePolicy 'store'): stored values, asked for only when nothing else waits. */
  backfill?: { ready: () => boolean; offer: () => UplinkMessage | undefined };
}

export type NextUplink = { priority: PriorityUplink } | { message: UplinkMessage };

/** `pack`, `pack-history`: sub-devices' posts on a gateway's connection (uplink-pack.ts). */
type Lane = 'property' | 'history' | 'event' | 'pack' | 'pack-history';
const LANES: readonly Lane[] = ['property', 'history', 'event', 'pack', 'pack-history'];

/**
 * Decides what the connection publishes next and when, within the uplink budget (TokenBucket):
 * replies to platform requests first, then messages to send again after a reconnect, then the
 * flow's posts in the order they were accepted. While the budget keeps up, each post goes out
 * alone, exactly as the first release sent it. When more posts wait than the budget allows now,
 * the waiting posts are merged (uplink-merge.ts): a property/post of the newest values, a
 * history/post of the values they overwrote and an event/post of one value per event identifier
 * take turns, so none of them waits behind the others for long. A gateway's sub-devices take two
 * more turns (uplink-pack.ts): a pack/post of their newest values and a history/post, with
 * identities, of the values those overwrote.
 */
export class UplinkScheduler {
  private readonly bucket: TokenBucket;
  private readonly priority = new Fifo<PriorityUplink>();
  /** Publishes that take turns with the posts (OwnUplinkLane 'shared'). */
  private readonly shared = new Fifo<PriorityUplink>();
  /** Whether a shared publish goes before the next post, when both wait: they alternate. */
  private sharedTurn = true;
  private readonly resend = new Fifo<UplinkMessage>();
  private waiting = new Fifo<RequestEntry>();
  private waitingCount = 0;
  /** identifier → seq of the newest value sent in a property/post, so an older one never follows it. */
  private readonly sentLive = new Map<string, number>();
  /** The same for sub-devices' points, keyed by identity and identifier (uplink-pack.ts). */
  private readonly sentLiveOfSubDevices = new Map<string, number>();
  private laneTurn = 0;
  /** When the budget last held back something that waited (ms); entries accepted by then waited for it. */
  private heldBackAt = Number.NEGATIVE_INFINITY;

  constructor(
    ratePerSecond: number,
    private readonly hooks: SchedulerHooks,
    now = Date.now(),
  ) {
    this.bucket = new TokenBucket(ratePerSecond, UPLINK_BURST, now);
  }

  /** Flow requests waiting to be sent, and messages waiting to be sent again. */
  get depth(): number {
    return this.waitingCount + this.resend.length;
  }

  add(entry: RequestEntry): void {
    entry.waiting = true;
    this.waitingCount++;
    this.waiting.push(entry);
  }

  addPriority(item: PriorityUplink, lane: OwnUplinkLane = 'priority'): void {
    (lane === 'shared' ? this.shared : this.priority).push(item);
  }

  /** Messages a dropped session did not get acknowledged, to go out first on the next one. */
  requeue(messages: readonly UplinkMessage[]): void {
    this.resend.unshiftAll(messages);
  }

  /** The entry settled (timed out, failed) while it still had values waiting: they are not sent. */
  withdraw(entry: RequestEntry): void {
    if (!entry.waiting) return;
    entry.waiting = false;
    this.waitingCount--;
    if (this.waitingCount === 0) this.forgetWaiting();
  }

  /** Every flow request that waits (whole, partly sent, or in a message to send again), left in place. */
  entries(): RequestEntry[] {
    this.compactResend();
    const entries = new Set<RequestEntry>();
    for (const message of this.resend.drain()) {
      for (const member of message.members) if (!member.done) entries.add(member);
      this.resend.push(message);
    }
    for (const entry of this.waiting.drain()) {
      if (!entry.waiting) continue;
      entries.add(entry);
      this.waiting.push(entry);
    }
    return [...entries];
  }

  /** Everything that waits, taken out (oldest first): the caller settles it. */
  drain(): RequestEntry[] {
    const entries = new Set<RequestEntry>();
    for (const message of this.resend.drain())
      for (const member of message.members) if (!member.done) entries.add(member);
    for (const entry of this.waiting.drain()) {
      if (!entry.waiting) continue;
      entry.waiting = false;
      entries.add(entry);
    }
    this.waitingCount = 0;
    this.forgetWaiting();
    return [...entries];
  }

  /** Drops re-sends whose flow requests have all settled meanwhile. */
  compactResend(): void {
    for (const message of this.resend.drain())
      if (message.members.some((member) => !member.done)) this.resend.push(message);
  }

  /** Cancels every priority publish that has not gone out. */
  dropPriority(): PriorityUplink[] {
    return [...this.priority.drain(), ...this.shared.drain()].filter((item) => !item.cancelled);
  }

  hasWork(): boolean {
    this.skipCancelled();
    return (
      this.priority.length > 0 ||
      this.shared.length > 0 ||
      this.resend.length > 0 ||
      this.waitingCount > 0 ||
      (this.hooks.backfill?.ready() ?? false)
    );
  }

  /** How long until the budget allows the next publish (0: now). */
  waitMs(now: number): number {
    return this.bucket.waitMs(now);
  }

  /** The next publish, charged to the budget; undefined when nothing waits or the budget is spent. */
  next(now: number): NextUplink | undefined {
    if (!this.hasWork()) return undefined;
    if (!this.bucket.take(now)) {
      this.heldBackAt = now;
      return undefined;
    }
    const priority = this.priority.shift();
    if (priority) return { priority };
    while (this.resend.length > 0) {
      const message = this.resend.shift()!;
      if (message.members.some((member) => !member.done)) return { message };
    }
    // With no post waiting, a shared publish goes below (after nextPost finds none).
    if (this.shared.length > 0 && this.sharedTurn) {
      this.sharedTurn = false;
      return { priority: this.shared.shift()! };
    }
    const post = this.nextPost(now);
    if (post) {
      this.sharedTurn = true;
      return { message: post };
    }
    const shared = this.shared.shift();
    if (shared) return { priority: shared };
    const message = this.waitingCount === 0 ? this.hooks.backfill?.offer() : undefined;
    if (message) return { message };
    this.bucket.refund();
    return undefined;
  }

  private nextPost(now: number): UplinkMessage | undefined {
    // Whole entries go out alone while the budget can carry each of them (the token for this one is taken).
    if (this.bucket.unlimited || this.waitingCount <= this.bucket.available(now) + 1) {
      while (this.waiting.length > 0) {
        const entry = this.waiting.peek()!;
        if (!entry.waiting) {
          this.waiting.shift();
          continue;
        }
        // Partly sent, or a newer value of one of its properties went live: its rest is merged below.
        if (entry.unsent !== undefined || this.overtaken(entry)) break;
        this.waiting.shift();
        this.withdrawn(entry);
        if (this.hooks.isExpired(entry, now)) {
          this.hooks.expired(entry);
          continue;
        }
        // One that waited for the budget carries the time it was accepted, as a merged one would;
        // one that did not wait goes exactly as the first release sent it.
        const payload = entry.createdAt <= this.heldBackAt ? stampedPayload(entry) : entry.payload;
        return this.carry(entry.identity ? 'pack-post' : entry.kind, [entry], entry.id, payload, entry.topic);
      }
      if (this.waitingCount === 0) return undefined;
    }
    return this.merged(now);
  }

  private merged(now: number): UplinkMessage | undefined {
    const entries: RequestEntry[] = [];
    for (const entry of this.waiting.drain()) {
      if (!entry.waiting) continue;
      if (this.hooks.isExpired(entry, now)) {
        this.withdrawn(entry);
        this.hooks.expired(entry);
        continue;
      }
      entries.push(entry);
    }
    const subDevices = entries.filter((entry) => entry.identity !== undefined);
    const own = subDevices.length === 0 ? entries : entries.filter((entry) => entry.identity === undefined);
    const properties = own.filter((entry) => entry.kind === 'property-post');
    const events = own.filter((entry) => entry.kind === 'event-post');
    const packs = packLanesWaiting(subDevices, this.sentLiveOfSubDevices);
    const ready: Record<Lane, boolean> = {
      property: hasLive(properties, this.sentLive),
      history: hasHistory(properties, events, this.sentLive),
      event: events.length > 0,
      pack: packs.pack,
      'pack-history': packs.history,
    };
    let message: UplinkMessage | undefined;
    for (let i = 0; i < LANES.length && !message; i++) {
      const lane = LANES[(this.laneTurn + i) % LANES.length]!;
      if (!ready[lane]) continue;
      this.laneTurn = (this.laneTurn + i + 1) % LANES.length;
      message = this.build(lane, properties, events, subDevices);
    }
    for (const entry of entries) {
      if (entry.waiting && fullyTaken(entry)) this.withdrawn(entry);
      if (entry.waiting) this.waiting.push(entry);
    }
    if (this.waitingCount === 0) this.forgetWaiting();
    return message;
  }

  private build(
    lane: Lane,
    properties: RequestEntry[],
    events: RequestEntry[],
    subDevices: RequestEntry[],
  ): UplinkMessage | undefined {
    const id = this.hooks.nextId();
    let kind: UplinkMessageKind;
    let members: RequestEntry[];
    let params: unknown;
    if (lane === 'property') {
      ({ params, members } = takeLatestProperties(properties, this.sentLive));
      kind = 'property-post';
    } else if (lane === 'event') {
      ({ params, members } = takeEvents(events));
      kind = 'event-post';
    } else if (lane === 'pack') {
      const pack = takePack(subDevices, this.sentLiveOfSubDevices);
      ({ members } = pack);
      params = pack.entries;
      kind = 'pack-post';
    } else if (lane === 'pack-history') {
      const history = takePackHistory(subDevices, this.sentLiveOfSubDevices);
      ({ members } = history);
      params = history.entries;
      kind = 'history-post';
    } else {
      const history = takeHistory(properties, events, this.sentLive);
      members = history.members;
      params = history;
      kind = 'history-post';
    }
    if (members.length === 0) return undefined;
    let payload: Buffer;
    try {
      if (lane === 'pack-history') payload = Buffer.from(buildHistoryPost(id, params as HistoryEntry[]));
      else if (kind === 'history-post')
        payload = Buffer.from(buildHistoryPost(id, [historyEntry(params as MergedHistory)]));
      else if (kind === 'pack-post') payload = Buffer.from(buildPackPost(id, params as PackEntry[]));
      else payload = serializeMessage(buildRequest(id, params));
    } catch (err) {
      this.hooks.unbuildable(members, err as Error);
      return undefined;
    }
    return this.carry(kind, members, id, payload);
  }

  private carry(
    kind: UplinkMessageKind,
    members: RequestEntry[],
    id: string,
    payload: Buffer,
    /** Given for an entry sent alone: its own topic. */
    aloneOn?: string,
  ): UplinkMessage {
    const message: UplinkMessage = {
      id,
      kind,
      topic: aloneOn ?? this.hooks.topicOf(kind),
      payload,
      qos: members.some((member) => member.qos === 1) ? 1 : 0,
      waitReply: members.some((member) => member.waitReply),
      members,
      alone: aloneOn !== undefined,
      state: 'queued',
      generation: 0,
    };
    for (const member of members) {
      member.carriers++;
      if (kind !== 'history-post' || !member.latestCarrier) member.latestCarrier = message;
    }
    return message;
  }

  private overtaken(entry: RequestEntry): boolean {
    return entry.identity
      ? overtakenInPack(entry, this.sentLiveOfSubDevices)
      : overtakenLive(entry, this.sentLive);
  }

  private withdrawn(entry: RequestEntry): void {
    if (!entry.waiting) return;
    entry.waiting = false;
    this.waitingCount--;
  }

  /** Nothing waits: the next post starts afresh (and the map of live values cannot grow for ever). */
  private forgetWaiting(): void {
    if (this.waitingCount > 0) return;
    this.waiting = new Fifo<RequestEntry>();
    this.sentLive.clear();
    this.sentLiveOfSubDevices.clear();
  }

  private skipCancelled(): void {
    while (this.priority.length > 0 && this.priority.peek()!.cancelled) this.priority.shift();
    while (this.shared.length > 0 && this.shared.peek()!.cancelled) this.shared.shift();
  }
}

/** A direct device posts its own history: no identity (onenet-next.md §Q3), empty maps left out. */
function historyEntry(history: MergedHistory): HistoryEntry {
  const entry: HistoryEntry = {};
  if (Object.keys(history.properties).length > 0) entry.properties = history.properties;
  if (Object.keys(history.events).length > 0) entry.events = history.events;
  return entry;
}
