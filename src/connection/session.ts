import mqtt, { type MqttClient } from 'mqtt';
import { describeClientError, isAuthRefusal } from './client-errors';
import { buildClientOptions, signLogin } from './client-options';
import { endClient } from './end-client';
import { OneNetRequestError } from './errors';
import type { ResolvedOptions } from './options';
import { redact } from './redact';
import type { SessionEnd } from './reconnect-policy';
import { ReplySubscription, type PublishDone } from './reply-subscription';
import type { PriorityUplink } from './uplink-types';
import type { DeviceIdentity } from './types';

/** A graceful end (DISCONNECT after the PUBACKs) that takes longer than this is forced. */
const FORCE_END_AFTER_MS = 1200;
/** setTimeout cannot wait longer (≈24.8 days); longer waits are split. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a session reports to its owner; only while the owner still calls it current. */
export interface SessionEvents {
  /** CONNACK arrived: the login was accepted. The session subscribes next. */
  connacked(): void;
  /** Subscribed: requests may be sent. `refused` lists the filters OneNET did not grant. */
  ready(refused: string[]): void;
  /** OneNET did not grant post-reply filters, subscribed on the first post awaiting a reply. */
  repliesRefused(refused: string[]): void;
  /** A client error on a ready session (session.errorText has it, redacted). */
  error(text: string): void;
  /** The client closed without us ending it: a failed attempt or a dropped session. */
  closed(end: SessionEnd): void;
  /** The token expires soon: time to renew, letting requests settle for up to `settleMs`. */
  renewalDue(settleMs: number): void;
}

/**
 * The tokens of a device's logins: each login signs a fresh one (§2.2), never the same twice, and
 * the recent ones are kept so no error text ever carries them.
 */
export class Logins {
  /** The previous login's token expiry (ms), so every login signs a different token. */
  private lastExpiresAt = 0;
  /** The tokens of this and the previous attempt, for redaction. */
  private recentTokens: string[] = [];

  constructor(
    private readonly identity: DeviceIdentity,
    private readonly options: ResolvedOptions,
  ) {}

  sign(): ReturnType<typeof signLogin> {
    const login = signLogin(this.identity, this.options, Date.now(), this.lastExpiresAt / 1000 + 1);
    this.lastExpiresAt = login.expiresAt;
    this.recentTokens = [login.token, ...this.recentTokens].slice(0, 2);
    return login;
  }

  clean(text: string): string {
    return redact(text, [this.options.key, ...this.recentTokens]);
  }
}

/**
 * One connection attempt and, if it succeeds, the session on it: one MQTT.js client's life, dropped
 * as a whole. It logs in, subscribes once after CONNACK, renews before the token expires (by asking
 * its owner) and tells how it ended; it knows MQTT.js, not the connection's state.
 */
/** OneNET accepts at most 8 filters in one SUBSCRIBE (onenet-protocol.md §1.4). */
const FILTERS_PER_SUBSCRIBE = 8;

export class Session {
  readonly client: MqttClient;
  /** When the token expires (ms since the epoch). */
  readonly expiresAt: number;
  connackAt: number | undefined;
  /** Subscribed: requests may be sent. */
  ready = false;
  private authRefused = false;
  errorText: string | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  /** Set once we end this client ourselves; its close is then not a drop. */
  private ending: Promise<void> | undefined;
  /** The post-reply filters, subscribed on the first publish that waits for a reply. */
  private readonly replies: ReplySubscription;
  /** Reply publishes waiting for their PUBACK; failed together when the session goes. */
  private readonly unsettled = new Set<(error?: Error) => void>();
  private readonly listeners: {
    connect: () => void;
    message: (topic: string, payload: Buffer) => void;
    error: (error: Error) => void;
    close: () => void;
  };

  /** Signs a login and starts the client; throws when the options cannot make one. */
  constructor(
    private readonly identity: DeviceIdentity,
    private readonly options: ResolvedOptions,
    private readonly logins: Logins,
    private readonly filters: string[],
    replyFilters: readonly string[],
    onMessage: (topic: string, payload: Buffer) => void,
    /** Whether the owner still holds this session; events of one it dropped are not reported. */
    private readonly isCurrent: () => boolean,
    private readonly events: SessionEvents,
  ) {
    const login = logins.sign();
    this.client = mqtt.connect(buildClientOptions(identity, options, login.token));
    this.expiresAt = login.expiresAt;
    this.replies = new ReplySubscription(replyFilters, {
      subscribe: (batch, done) => this.subscribeInPackets(batch, done),
      publish: (topic, payload, qos, done) => this.client.publish(topic, payload, { qos }, done),
      refused: (refused) => {
        if (this.isCurrent() && !this.ending) this.events.repliesRefused(refused);
      },
    });
    this.listeners = {
      connect: () => this.onConnack(),
      message: onMessage,
      error: (error) => this.onClientError(error),
      close: () => this.onClientClose(),
    };
    const { client, listeners } = this;
    client.on('connect', listeners.connect);
    client.on('message', listeners.message);
    client.on('error', listeners.error);
    client.on('close', listeners.close);
  }

  /** Logged in and not ending: a reply can be handed to this client. */
  get acceptsReplies(): boolean {
    return this.connackAt !== undefined && !this.ending;
  }

  get ended(): boolean {
    return this.ending !== undefined;
  }

  /**
   * The pipeline's PublishFn while this session is ready. `awaitsReply`: the post waits for OneNET's
   * answer, so the post-reply filters must be subscribed first (reply-subscription.ts).
   */
  publish(topic: string, payload: Buffer, qos: 0 | 1, done: PublishDone, awaitsReply = false): void {
    this.replies.publish(topic, payload, qos, done, awaitsReply);
  }

  /**
   * Subscribes `filters` on this session as well (a device that became a gateway while logged in),
   * and the post-reply filters added with them if the others are subscribed already; `done` gets
   * the filters OneNET refused, or all of them when the session went meanwhile.
   */
  subscribeMore(filters: string[], done: (refused: string[]) => void): void {
    this.subscribeInPackets(filters, (refused) => {
      if (refused === undefined) {
        done(filters);
        return;
      }
      this.replies.filtersAdded((repliesRefused) => done([...refused, ...repliesRefused]));
    });
  }

  private onConnack(): void {
    if (!this.isCurrent()) return;
    this.connackAt = Date.now();
    this.events.connacked();
    const first = [...this.filters];
    this.subscribeInPackets(first, (refused) => {
      if (!this.isCurrent() || this.ending || refused === undefined) return;
      // Filters added while that SUBSCRIBE was under way (a device that just became a gateway).
      const late = this.filters.filter((filter) => !first.includes(filter));
      if (late.length === 0) {
        this.becomeReady(refused);
        return;
      }
      this.subscribeInPackets(late, (lateRefused) => {
        if (!this.isCurrent() || this.ending || lateRefused === undefined) return;
        this.becomeReady([...refused, ...lateRefused]);
      });
    });
  }

  private becomeReady(refused: string[]): void {
    this.ready = true;
    this.events.ready(refused);
    this.scheduleRenewal();
  }

  /**
   * Subscribes `filters` in SUBSCRIBE packets of at most 8 filters (OneNET disconnects a device that
   * sends more in one, §1.4; a gateway holds 9). `done` gets the refused filters, or undefined when
   * the session went away meanwhile (onClientClose handles that).
   */
  private subscribeInPackets(filters: string[], done: (refused: string[] | undefined) => void): void {
    const refused: string[] = [];
    const next = (from: number): void => {
      if (from >= filters.length) {
        done(refused);
        return;
      }
      const batch = filters.slice(from, from + FILTERS_PER_SUBSCRIBE);
      this.client.subscribe(batch, { qos: 0 }, (error, _granted, packet) => {
        const granted = (packet as { granted?: number[] } | undefined)?.granted;
        if (error && !granted) {
          done(undefined);
          return;
        }
        batch.forEach((filter, i) => {
          if (granted?.[i] === undefined || (granted[i]! & 0x80) !== 0) refused.push(filter);
        });
        next(from + FILTERS_PER_SUBSCRIBE);
      });
    };
    next(0);
  }

  private onClientError(error: Error): void {
    if (!this.isCurrent()) return;
    if (!this.connackAt && isAuthRefusal(error)) this.authRefused = true;
    this.errorText = this.logins.clean(describeClientError(error, this.identity));
    // Errors that end the attempt are reported when it closes; one on a live session is shown now.
    if (this.ready) this.events.error(this.errorText);
  }

  private onClientClose(): void {
    if (!this.isCurrent()) return;
    const now = Date.now();
    let end: SessionEnd;
    if (this.authRefused) end = 'auth-failed';
    else if (this.connackAt === undefined) end = 'failed';
    else if (now - this.connackAt < this.options.reconnect.kickWindowMs) end = 'kicked';
    else end = 'dropped';
    this.events.closed(end);
  }

  /**
   * Token renewal: OneNET drops a session whose token expires (§2.2). Shortly before that, the
   * connection stops sending, lets requests in flight collect their replies, ends the session with
   * a DISCONNECT and logs in again with a fresh token, so nothing is lost or rejected on the way.
   */
  private scheduleRenewal(): void {
    const ttlMs = this.options.tokenTtlSeconds * 1000;
    const margin = Math.min(60_000, Math.max(1000, ttlMs / 10));
    const renewAt = Math.max(
      this.expiresAt - margin,
      (this.connackAt ?? Date.now()) + Math.min(500, ttlMs / 2),
    );
    const wait = renewAt - Date.now();
    this.renewTimer = setTimeout(
      () => {
        this.renewTimer = undefined;
        if (Date.now() < renewAt) this.scheduleRenewal();
        else if (this.isCurrent() && this.ready) this.events.renewalDue(Math.min(2000, margin / 2));
      },
      Math.max(0, Math.min(wait, MAX_TIMER_MS)),
    );
  }

  /** Ends the client once: our listeners off, pending reply publishes failed, socket closed. */
  end(graceful: boolean): Promise<void> {
    if (this.ending) return this.ending;
    const { client, listeners } = this;
    client.removeListener('connect', listeners.connect);
    client.removeListener('message', listeners.message);
    client.removeListener('error', listeners.error);
    client.removeListener('close', listeners.close);
    // MQTT.js may still report errors while it winds down; an unhandled 'error' would crash the process.
    client.on('error', noop);
    clearTimeout(this.renewTimer);
    this.ending = endClient(client, graceful, FORCE_END_AFTER_MS).then(() => {
      // A graceful end waits for PUBACKs, so replies normally settled before this; the rest failed.
      for (const fail of [...this.unsettled]) fail(new Error('connection closed'));
    });
    return this.ending;
  }

  /**
   * Publishes a reply at QoS 1 once `submitPriority` lets it go; resolves on its PUBACK. The caller
   * checked acceptsReplies.
   */
  publishReply(
    topic: string,
    payload: Buffer,
    id: string,
    submitPriority: (send: () => void) => PriorityUplink,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // A half-open link never PUBACKs, and MQTT.js would only notice after 1.5 × keepalive; OneNET
      // waits 5 s for a reply anyway (§1.6 "同步调用超时时间5s"), so the reply ends within the request timeout.
      const timeoutMs = this.options.requestTimeoutMs;
      let published = false;
      const timer = setTimeout(() => {
        if (!this.unsettled.delete(settle)) return;
        queued.cancelled = true;
        reject(
          new OneNetRequestError(
            'timeout',
            published
              ? `OneNET did not acknowledge (PUBACK) the reply within ${timeoutMs} ms; it may have reached OneNET`
              : `the reply was not sent within ${timeoutMs} ms: the uplink was busy`,
            { id, topic, sent: published },
          ),
        );
      }, timeoutMs);
      const settle = (error?: Error): void => {
        if (!this.unsettled.delete(settle)) return;
        clearTimeout(timer);
        queued.cancelled = true;
        if (error) {
          reject(
            new OneNetRequestError(
              'disconnected',
              published
                ? `reply not confirmed: the connection dropped (${error.message})`
                : `reply not sent: the connection dropped (${error.message})`,
              { id, topic, sent: published },
            ),
          );
        } else {
          resolve();
        }
      };
      this.unsettled.add(settle);
      // Replies go first, within the uplink budget (every uplink counts, DESIGN.md §4 uplinkRate).
      // QoS 1, so 'sent' means OneNET has it (§1.3: device publishes support QoS 1).
      const queued = submitPriority(() => {
        if (this.ending || !this.isCurrent()) {
          settle(new Error('the session ended'));
          return;
        }
        published = true;
        this.client.publish(topic, payload, { qos: 1 }, (error) => settle(error));
      });
    });
  }
}

function noop(): void {}
