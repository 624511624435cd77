import { BATCH_LIMITS, buildHistoryPost, MAX_PAYLOAD_BYTES, type HistoryEntry } from '../protocol';
import type { Journal, StoredValue } from '../store';
import type { OneNetRequestError } from './errors';
import type { StoreEvent } from './offline-store';
import type { RequestEntry, UplinkMessage } from './uplink-types';

/** Values read from the journal at a time; a message carries at most this many. */
const READ_BATCH = 1000;
/** history/post messages of the backfill awaiting their reply at once. */
const MAX_IN_FLIGHT = 4;
/** A message's JSON stays well under OneNET's 256 KB publish limit (framing, ids). */
const PAYLOAD_BUDGET = MAX_PAYLOAD_BYTES - 16 * 1024;
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;
/**
 * Reply codes that mean "this value will never be taken" (onenet-protocol.md §3.2): the identifier
 * is not in the model, the data type or the format is wrong. Anything else may pass on a retry.
 */
const PERMANENT_CODES: ReadonlySet<number> = new Set([301, 302, 305, 309, 313, 1002]);

export interface BackfillHooks {
  nextId: () => string;
  /**
   * "productId/deviceName" of the connection's own device: its values go in entries without
   * identity; any other device's are a gateway's sub-device's, in entries with its identity.
   */
  ownDevice: string;
  /**
   * Whether a sub-device's values can go now (it is logged in); until then they stay in the store,
   * and the values of other devices go past them. The gateway's own values always can.
   */
  canDeliver: (device: string) => boolean;
  /** The device's history/post topic. */
  topic: string;
  timeoutMs: number;
  /** A message is ready to go: the pipeline should ask for it. */
  wake: () => void;
  changed: () => void;
  report: (event: StoreEvent) => void;
}

/**
 * Delivers stored values, oldest first, as history/post messages within OneNET's limits (≤ 100
 * values per identifier, ≤ 100 identifiers, ≤ 256 KB). The scheduler asks for one only when no live
 * publish waits, so a backfill costs live data at most one slot of the budget. A value leaves the
 * journal only once the message carrying it was answered 200; a permanent refusal removes it
 * (counted, one warning per identifier and code), anything else is retried with back-off.
 */
export class Backfill {
  private batch: StoredValue[] = [];
  private reading = false;
  /**
   * The last read found nothing to send though values are stored (all in flight, or of sub-devices
   * not logged in): read again only once something changed (poke, a message settled), not on every
   * look of the scheduler.
   */
  private exhausted = false;
  /** Something changed while a read ran: its result may be out of date. */
  private changedWhileReading = false;
  private readonly inFlight = new Set<number>();
  private messagesInFlight = 0;
  private backoffMs = 0;
  private backoffTimer: NodeJS.Timeout | undefined;
  /** After a multi-identifier refusal: values up to this seq go one identifier per message. */
  private isolateUpTo = -1;
  private readonly warned = new Set<string>();
  private closed = false;

  constructor(
    private readonly journal: () => Journal | undefined,
    private readonly hooks: BackfillHooks,
  ) {}

  /** Values handed over and not yet answered. */
  get delivering(): number {
    return this.inFlight.size;
  }

  /** A message can be built now (the scheduler's hasWork). */
  ready(): boolean {
    if (this.batch.length === 0 && !this.exhausted) this.read();
    return this.batch.length > 0 && this.messagesInFlight < MAX_IN_FLIGHT && !this.backoffTimer;
  }

  /** The next history/post, or undefined. */
  offer(): UplinkMessage | undefined {
    if (!this.ready()) return undefined;
    const id = this.hooks.nextId();
    const { values, payload } = this.take(id);
    if (values.length === 0) return undefined;
    for (const value of values) this.inFlight.add(value.seq);
    this.messagesInFlight++;
    return this.message(id, values, payload);
  }

  /** Stored values may be waiting (stored now, or a connection came up). */
  poke(): void {
    this.exhausted = false;
    if (this.reading) this.changedWhileReading = true;
    this.read();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
  }

  private read(): void {
    const journal = this.journal();
    if (!journal || this.reading || this.closed || this.batch.length > 0 || journal.pending === 0) return;
    this.reading = true;
    journal
      .oldest(
        READ_BATCH,
        (seq) => this.inFlight.has(seq),
        (device) => device !== this.hooks.ownDevice && !this.hooks.canDeliver(device),
      )
      .then(
        (values) => {
          this.reading = false;
          this.batch = values.filter((value) => !this.inFlight.has(value.seq));
          this.exhausted = this.batch.length === 0 && !this.changedWhileReading;
          this.changedWhileReading = false;
          if (this.batch.length > 0) this.hooks.wake();
          else if (!this.exhausted) this.read();
        },
        () => {
          this.reading = false;
        },
      );
  }

  /**
   * Oldest values first, as many as fit one message (≤ 10 devices, ≤ 100 points each, ≤ 100 values
   * a point, the byte budget); the rest stay for the next, in their order.
   */
  private take(id: string): { values: StoredValue[]; payload: Buffer } {
    const isolating = this.batch[0]!.seq <= this.isolateUpTo;
    let taken: StoredValue[] = [];
    const left: StoredValue[] = [];
    const pointsOf = new Map<string, Map<string, number>>();
    let bytes = 64;
    let full = false;
    for (const value of this.batch) {
      if (full) {
        left.push(value);
        continue;
      }
      const points = pointsOf.get(value.device);
      const point = `${value.kind}:${value.identifier}`;
      const count = points?.get(point) ?? 0;
      const newDevice = points === undefined;
      const refused =
        (newDevice && pointsOf.size >= BATCH_LIMITS.devicesPerMessage) ||
        (count === 0 && (points?.size ?? 0) >= BATCH_LIMITS.pointsPerDevice) ||
        (isolating && count === 0 && taken.length > 0) ||
        count >= BATCH_LIMITS.valuesPerPoint;
      const size =
        JSON.stringify(value.value ?? null).length +
        40 +
        (count === 0 ? value.identifier.length : 0) +
        (newDevice ? value.device.length + 40 : 0);
      if (!refused && taken.length > 0 && bytes + size > PAYLOAD_BUDGET) full = true;
      if (refused || full) {
        left.push(value);
        continue;
      }
      bytes += size;
      if (newDevice) pointsOf.set(value.device, new Map([[point, 1]]));
      else points.set(point, count + 1);
      taken.push(value);
    }
    this.batch = left;
    for (;;) {
      try {
        return {
          values: taken,
          payload: Buffer.from(buildHistoryPost(id, historyEntries(taken, this.hooks.ownDevice))),
        };
      } catch (err) {
        if (taken.length <= 1) {
          // A value the protocol cannot carry (it was checked when posted): it can never be sent.
          this.journal()?.ack(taken.map((value) => value.seq));
          this.hooks.report({
            type: 'unusable',
            reason: `a stored value cannot be sent: ${(err as Error).message}`,
          });
          return { values: [], payload: Buffer.alloc(0) };
        }
        const half = Math.ceil(taken.length / 2);
        this.batch = [...taken.slice(half), ...this.batch];
        taken = taken.slice(0, half);
      }
    }
  }

  /** The message, carried by one stand-in request whose outcome is the backfill's. */
  private message(id: string, values: StoredValue[], payload: Buffer): UplinkMessage {
    const entry: RequestEntry = {
      id,
      kind: 'property-post',
      topic: this.hooks.topic,
      payload,
      qos: 1,
      waitReply: true,
      timeoutMs: this.hooks.timeoutMs,
      createdAt: Date.now(),
      resolve: () => this.delivered(values),
      reject: (error) => this.failed(values, error),
      values: {},
      seq: -1,
      carriers: 1,
      waiting: false,
      done: false,
      timer: undefined,
    };
    const message: UplinkMessage = {
      id,
      kind: 'history-post',
      topic: this.hooks.topic,
      payload,
      qos: 1,
      waitReply: true,
      members: [entry],
      alone: false,
      state: 'queued',
      generation: 0,
    };
    entry.latestCarrier = message;
    return message;
  }

  private delivered(values: StoredValue[]): void {
    this.settled(values);
    this.journal()?.ack(values.map((value) => value.seq));
    this.backoffMs = 0;
    this.next();
  }

  private failed(values: StoredValue[], error: OneNetRequestError): void {
    this.settled(values);
    const code = error.code;
    if (error.reason === 'reply' && code !== undefined && PERMANENT_CODES.has(code)) {
      const identifiers = new Set(values.map((value) => value.identifier));
      if (identifiers.size > 1) {
        // Which identifier was refused is not said: send them one by one to find out.
        this.isolateUpTo = Math.max(this.isolateUpTo, ...values.map((value) => value.seq));
        this.next();
        return;
      }
      this.journal()?.ack(values.map((value) => value.seq));
      const identifier = values[0]!.identifier;
      const key = `${identifier}|${code}`;
      if (!this.warned.has(key)) {
        this.warned.add(key);
        this.hooks.report({ type: 'refused', identifier, code, count: values.length });
      }
      this.next();
      return;
    }
    this.hooks.changed();
    if (this.closed) return;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs === 0 ? FIRST_BACKOFF_MS : this.backoffMs * 2);
    clearTimeout(this.backoffTimer);
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      this.next();
    }, this.backoffMs);
  }

  private settled(values: StoredValue[]): void {
    this.messagesInFlight--;
    for (const value of values) this.inFlight.delete(value.seq);
    // Values read before these were answered may name them again: read afresh.
    this.batch = [];
  }

  /** After a message settled (and its values were acked or not): report, and go on. */
  private next(): void {
    this.hooks.changed();
    if (this.closed) return;
    this.exhausted = false;
    if (this.reading) this.changedWhileReading = true;
    this.read();
    if (this.batch.length > 0) this.hooks.wake();
  }
}

/**
 * The history/post entries of these values: one per device, the connection's own without identity
 * and each sub-device's with its identity (onenet-next.md §Q2 step 6), events and properties apart.
 */
function historyEntries(values: readonly StoredValue[], ownDevice: string): HistoryEntry[] {
  const entries = new Map<string, HistoryEntry>();
  for (const value of values) {
    let entry = entries.get(value.device);
    if (!entry) {
      entry = value.device === ownDevice ? {} : { identity: identityOf(value.device) };
      entries.set(value.device, entry);
    }
    const map = value.kind === 'event' ? (entry.events ??= {}) : (entry.properties ??= {});
    (map[value.identifier] ??= []).push({ value: value.value, time: value.time });
  }
  return [...entries.values()];
}

/** "productId/deviceName" (a product id has no "/"; a device name might). */
function identityOf(device: string): { productID: string; deviceName: string } {
  const slash = device.indexOf('/');
  return { productID: device.slice(0, slash), deviceName: device.slice(slash + 1) };
}
