import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import {
  buildRequest,
  buildTopic,
  createMessageIdGenerator,
  devicePrefix,
  parseReply,
  parseTopic,
  serializeMessage,
  toEventParams,
  toPropertyParams,
  TOPICS,
  type TimedValue,
  type TopicKind,
} from '../protocol';
import { describeClientError, isAuthRefusal } from './client-errors';
import { buildClientOptions, signLogin } from './client-options';
import { readableText } from './client-text';
import { Downlinks, type ReplyTarget } from './downlinks';
import { endClient } from './end-client';
import { OneNetRequestError } from './errors';
import { checkIdentity, identityKey, resolveOptions, type ResolvedOptions } from './options';
import { redact } from './redact';
import { KICKS_BEFORE_SLOW_DOWN, ReconnectPolicy, type SessionEnd } from './reconnect-policy';
import { RequestPipeline, type RequestEntry } from './request-pipeline';
import type { UplinkMessageKind } from './uplink-types';
import { StatusReporter } from './status-reporter';
import type {
  ConnectionState,
  ConnectionStatus,
  DeviceConnectionOptions,
  DeviceIdentity,
  DownlinkErrorEvent,
  DownlinkKind,
  DownlinkRequest,
  ReplyOutcome,
  RequestOptions,
  RequestOutcome,
  UplinkKind,
} from './types';

/** close() resolves by then whatever the network does (Node-RED gives a node 15 s, the brief 2 s). */
const CLOSE_DEADLINE_MS = 1900;
/** How long close()/disconnect() let requests in flight collect their replies before ending. */
const CLOSE_SETTLE_MS = 300;
const DISCONNECT_SETTLE_MS = 1000;
/** A graceful end (DISCONNECT after the PUBACKs) that takes longer than this is forced. */
const FORCE_END_AFTER_MS = 1200;
/** setTimeout cannot wait longer (≈24.8 days); longer waits are split. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The fixed subscriptions each session makes once, right after CONNACK (§1.5: replies need them). */
const SUBSCRIBED_KINDS = [
  'property-post-reply',
  'event-post-reply',
  'history-post-reply',
  'property-set',
  'property-get',
] as const;

/** One connection attempt and, if it succeeds, the session on it. Dropped as a whole. */
interface Attempt {
  client: MqttClient;
  /** When the token expires (ms since the epoch). */
  expiresAt: number;
  connackAt?: number;
  /** Subscribed: requests may be sent. */
  ready: boolean;
  authRefused: boolean;
  errorText?: string;
  renewTimer?: NodeJS.Timeout;
  /** Set once we end this client ourselves; its close is then not a drop. */
  ending?: Promise<void>;
  /** Reply publishes waiting for their PUBACK; failed together when the session goes. */
  unsettled: Set<(error?: Error) => void>;
  listeners: {
    connect: () => void;
    message: (topic: string, payload: Buffer) => void;
    error: (error: Error) => void;
    close: () => void;
  };
}

type RequestCallOptions = RequestOptions & { time?: number };

/**
 * One live OneNET device session, shared by every Node-RED node that uses the device: connects with
 * a freshly signed token each time, reconnects with backoff, keeps one fixed set of subscriptions,
 * pipelines thing-model requests and routes platform requests to handlers. It knows MQTT.js but not
 * Node-RED.
 *
 * Kick detection: OneNET closes the older of two logins of one device (§1.3). The client cannot
 * see why a socket closed, so it decides from the pattern: a drop within `kickWindowMs` (default
 * 3 s) of a good login, not caused by us, is a short session; one or two in a row get the normal
 * back-off (a flapping link), and from the third in a row they count as kicks: status.kicked is set
 * and the retry waits `kickedDelayMs` (doubling, up to 40x), so two clients with one identity settle
 * instead of kicking each other forever. connect() (a deploy, msg.action) tries again at once. A short-lived token is renewed before it expires (see scheduleRenewal).
 *
 * Events: 'status' (ConnectionStatus) on every change; 'downlink-error' (DownlinkErrorEvent) for
 * malformed platform requests; 'kicked' (KickPatternEvent) once when the pattern of kicks begins. No event or error ever carries the key or the token.
 */
export class DeviceConnection extends EventEmitter {
  readonly identity: DeviceIdentity;
  /** "host:port/productId/deviceName". */
  readonly key: string;
  private readonly options: ResolvedOptions;
  private readonly nextId: () => string;
  private readonly policy: ReconnectPolicy;
  private readonly pipeline: RequestPipeline;
  private readonly downlinks: Downlinks;
  private readonly topics: Record<UplinkMessageKind, string>;
  private readonly routes: Map<string, TopicKind>;
  private readonly filters: string[];

  private state: ConnectionState = 'disconnected';
  private lastError: string | undefined;
  private kicked = false;
  /** The user wants a session (connect() called, disconnect()/close() not since). */
  private wanted = false;
  /** Bumped by connect() from idle, disconnect() and close(), so a waiting disconnect() sees it was overtaken. */
  private epoch = 0;
  private attempt: Attempt | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = 0;
  private closing: Promise<void> | undefined;
  /** disconnect() letting the old session settle and ending its client; connect() waits for it. */
  private disconnecting: Promise<void> | undefined;
  private readonly reporter = new StatusReporter(
    () => this.status(),
    (status) => this.emitSafely('status', status),
  );
  /** Acceptance order of requests, for merging (see RequestEntry.seq). */
  private nextSeq = 0;
  /** The previous login's token expiry (ms), so every login signs a different token. */
  private lastExpiresAt = 0;
  /** The tokens of this and the previous attempt, for redaction. */
  private recentTokens: string[] = [];

  constructor(identity: DeviceIdentity, options: DeviceConnectionOptions) {
    super();
    // Every flow node using the device listens for 'status'; their number has no natural bound, and
    // leaks are caught by the listener-count tests instead of the default limit of 10.
    this.setMaxListeners(0);
    checkIdentity(identity);
    this.identity = Object.freeze({ ...identity });
    this.options = resolveOptions(options);
    this.key = identityKey(this.identity);
    // Ids start from the clock so a restarted process does not reuse recent ids (OneNET logs 1025
    // "duplicate id"); at most 13 digits (§1.6), wrapping long after the year 2200.
    this.nextId = createMessageIdGenerator(Date.now());
    this.policy = new ReconnectPolicy(this.options.reconnect);
    this.pipeline = new RequestPipeline(this.options, {
      depthChanged: () => this.reporter.depthChanged(this.pipeline.depth),
      describeOffline: () => this.describeOffline(),
      nextId: this.nextId,
      topicOf: (kind) => this.topics[kind],
    });
    this.downlinks = new Downlinks(
      this.identity,
      (event) => this.emitDownlinkError(event),
      (topic, payload, target) => this.publishReply(topic, payload, target),
    );
    const topicOf = (kind: TopicKind, identifier?: string): string =>
      buildTopic({
        productId: this.identity.productId,
        deviceName: this.identity.deviceName,
        kind,
        ...(identifier ? { identifier } : {}),
      });
    this.topics = {
      'property-post': topicOf('property-post'),
      'event-post': topicOf('event-post'),
      'history-post': topicOf('history-post'),
    };
    this.routes = new Map(SUBSCRIBED_KINDS.map((kind) => [topicOf(kind), kind]));
    // Wildcards are allowed from the 4th level (§1.5); one filter covers every service.
    const everyService =
      devicePrefix(this.identity.productId, this.identity.deviceName) +
      TOPICS['service-invoke'].suffix.replace('{identifier}', '+');
    this.filters = [...this.routes.keys(), everyService];
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle

  /** Idempotent. Starts connecting; when a retry is pending, tries now. */
  connect(): void {
    if (this.state === 'closed') return;
    this.wanted = true;
    if (this.attempt) return;
    this.epoch++;
    if (this.disconnecting) {
      // disconnect() is letting the old session's requests settle: cut that short, so they fail as
      // disconnected (or are re-sent under 'queue') now, and log in once its client has ended; two
      // clients of one device at once would kick each other.
      this.pipeline.pause('holding');
      this.setState('connecting');
      this.pipeline.stopWaitingForSettle();
      return;
    }
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.policy.reset();
    }
    this.startAttempt();
  }

  /**
   * When a retry waits out a back-off (after a kick, a refused login or drops), tries now; a
   * connection the user disconnected stays disconnected. A deploy calls this through the pool.
   */
  retryNow(): void {
    if (this.wanted && this.retryTimer) this.connect();
  }

  /** Goes offline at the user's request and stays there until connect(). */
  async disconnect(): Promise<void> {
    if (this.state === 'closed') return;
    this.wanted = false;
    this.clearRetry();
    const epoch = ++this.epoch;
    const attempt = this.attempt;
    this.attempt = undefined;
    this.lastError = undefined;
    this.kicked = false;
    this.setState('disconnected');
    this.pipeline.pause('offline');
    const ending = (async () => {
      if (attempt?.ready) await this.pipeline.settled(DISCONNECT_SETTLE_MS);
      if (this.state === 'closed') return; // close() took over the pipeline
      // What is still in flight belonged to the old session, whoever asked for the next one.
      this.pipeline.connectionLost();
      if (epoch === this.epoch) this.pipeline.applyOfflinePolicy('offline', 'disconnected by request');
      if (attempt) await this.endAttempt(attempt, true);
    })();
    this.disconnecting = ending;
    try {
      await ending;
    } finally {
      if (this.disconnecting === ending) this.disconnecting = undefined;
    }
    // connect() during the wait: log in now that the old client is gone.
    // (startAttempt() does nothing once closed.)
    if (this.wanted && !this.attempt && !this.retryTimer) this.startAttempt();
  }

  /** Final. Rejects every pending and queued request with reason 'closed'; resolves within 2 s. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = new Promise<void>((resolve) => {
        const deadline = setTimeout(resolve, CLOSE_DEADLINE_MS);
        this.shutdown().then(
          () => {
            clearTimeout(deadline);
            resolve();
          },
          () => undefined,
        );
      });
    }
    return this.closing;
  }

  status(): ConnectionStatus {
    const status: ConnectionStatus = { state: this.state, queueDepth: this.pipeline.depth };
    if (this.pipeline.full) status.busy = true;
    if (this.lastError !== undefined) status.lastError = this.lastError;
    if (this.kicked) status.kicked = true;
    return status;
  }

  // ---------------------------------------------------------------------------------------------
  // Requests

  request(kind: 'property-post', params: unknown, options?: RequestCallOptions): Promise<RequestOutcome>;
  request(
    kind: 'event-post',
    params: { identifier: string; output: unknown },
    options?: RequestCallOptions,
  ): Promise<RequestOutcome>;
  request(kind: UplinkKind, params: unknown, options?: RequestCallOptions): Promise<RequestOutcome>;
  request(kind: UplinkKind, params: unknown, options: RequestCallOptions = {}): Promise<RequestOutcome> {
    const createdAt = Date.now();
    if (kind !== 'property-post' && kind !== 'event-post') {
      return Promise.reject(
        new OneNetRequestError(
          'invalid',
          `request kind must be 'property-post' or 'event-post', not ${String(kind)}`,
        ),
      );
    }
    const topic = this.topics[kind];
    if (this.state === 'closed')
      return Promise.reject(new OneNetRequestError('closed', 'the connection is closed', { topic }));
    let id: string;
    let payload: Buffer;
    let values: Record<string, TimedValue>;
    let settings: { qos: 0 | 1; waitReply: boolean; timeoutMs: number };
    const valuesAt = (time: number | undefined): Record<string, TimedValue> =>
      kind === 'property-post' ? toPropertyParams(params, time) : this.eventParams(params, time);
    const build = (time: number | undefined): Buffer => serializeMessage(buildRequest(id, valuesAt(time)));
    try {
      settings = this.requestSettings(options);
      id = this.nextId();
      values = valuesAt(options.time);
      payload = serializeMessage(buildRequest(id, values));
    } catch (err) {
      // The reason quotes the user's data (a property path, an identifier), which may be huge.
      return Promise.reject(
        new OneNetRequestError('invalid', readableText((err as Error).message), { topic }),
      );
    }
    return new Promise<RequestOutcome>((resolve, reject) => {
      const entry: RequestEntry = {
        id,
        kind,
        topic,
        payload,
        ...settings,
        createdAt,
        resolve,
        reject,
        values,
        seq: this.nextSeq++,
        carriers: 0,
        waiting: false,
        done: false,
        timer: undefined,
      };
      // A post that waits in the offline queue carries the time it was accepted (msg.time, when
      // given, already stamps every value). Only 'queue' ever waits that long.
      if (options.time === undefined && this.options.offlinePolicy === 'queue') {
        entry.stamp = () => build(createdAt);
      }
      this.pipeline.submit(entry);
    });
  }

  /** `accepts` says which requests the handler takes; a request nobody takes is answered 100 at once. */
  onDownlink(
    handler: (request: DownlinkRequest) => void,
    accepts?: (request: DownlinkRequest) => boolean,
  ): () => void {
    return this.downlinks.onDownlink(handler, accepts);
  }

  reply(
    request: { kind: DownlinkKind; id: string; identifier?: string },
    code: number,
    data?: unknown,
    message?: string,
  ): Promise<ReplyOutcome> {
    const target: ReplyTarget =
      request?.identifier === undefined
        ? { kind: request?.kind, id: request?.id }
        : { kind: request.kind, id: request.id, identifier: request.identifier };
    return this.downlinks.reply(target, code, data, message);
  }

  private requestSettings(options: RequestCallOptions): {
    qos: 0 | 1;
    waitReply: boolean;
    timeoutMs: number;
  } {
    if (options === null || typeof options !== 'object') throw new Error('request options must be an object');
    const qos = options.qos ?? 1;
    // §1.3: QoS 2 is not supported by OneNET (it disconnects).
    if (qos !== 0 && qos !== 1) throw new Error(`qos must be 0 or 1, not ${String(qos)}`);
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
      throw new Error(`timeout must be a positive number of ms, not ${String(timeoutMs)}`);
    return {
      qos,
      waitReply: options.waitReply !== false,
      timeoutMs: Math.min(Math.ceil(timeoutMs), MAX_TIMER_MS),
    };
  }

  private eventParams(params: unknown, time: number | undefined): ReturnType<typeof toEventParams> {
    if (params === null || typeof params !== 'object' || Array.isArray(params)) {
      throw new Error('an event post needs {identifier, output}');
    }
    const { identifier, output } = params as { identifier?: unknown; output?: unknown };
    return toEventParams(identifier, output, time);
  }

  // ---------------------------------------------------------------------------------------------
  // Attempts and sessions

  private startAttempt(): void {
    this.retryTimer = undefined;
    if (this.state === 'closed' || !this.wanted || this.attempt) return;
    let client: MqttClient;
    let login: ReturnType<typeof signLogin>;
    try {
      login = signLogin(this.identity, this.options, Date.now(), this.lastExpiresAt / 1000 + 1);
      this.lastExpiresAt = login.expiresAt;
      this.recentTokens = [login.token, ...this.recentTokens].slice(0, 2);
      client = mqtt.connect(buildClientOptions(this.identity, this.options, login.token));
    } catch (err) {
      this.lastError = this.clean(`cannot start a connection: ${(err as Error).message}`);
      this.setState('disconnected');
      this.pipeline.applyOfflinePolicy('offline', this.describeOffline());
      this.scheduleRetry('failed');
      return;
    }
    const attempt: Attempt = {
      client,
      expiresAt: login.expiresAt,
      ready: false,
      authRefused: false,
      unsettled: new Set(),
      listeners: {
        connect: () => this.onConnack(attempt),
        message: (topic, payload) => this.onMessage(topic, payload),
        error: (error) => this.onClientError(attempt, error),
        close: () => this.onClientClose(attempt),
      },
    };
    const { listeners } = attempt;
    client.on('connect', listeners.connect);
    client.on('message', listeners.message);
    client.on('error', listeners.error);
    client.on('close', listeners.close);
    this.attempt = attempt;
    this.pipeline.pause('holding');
    this.setState('connecting');
  }

  private onConnack(attempt: Attempt): void {
    if (attempt !== this.attempt) return;
    attempt.connackAt = Date.now();
    this.policy.loggedIn();
    attempt.client.subscribe(this.filters, { qos: 0 }, (error, _granted, packet) => {
      if (attempt !== this.attempt || attempt.ending) return;
      const granted = (packet as { granted?: number[] } | undefined)?.granted;
      if (error && !granted) return; // the session is going away; onClientClose handles it
      this.onSubscribed(attempt, granted ?? []);
    });
  }

  private onSubscribed(attempt: Attempt, granted: number[]): void {
    const refused = this.filters.filter((_, i) => granted[i] === undefined || (granted[i]! & 0x80) !== 0);
    attempt.ready = true;
    this.kicked = false;
    this.lastError =
      refused.length === 0
        ? undefined
        : `OneNET refused the subscription to ${refused.map(shortTopic).join(', ')}; replies or commands on them will not arrive`;
    this.setState('connected');
    this.pipeline.resume((topic, payload, qos, done) => {
      attempt.client.publish(topic, payload, { qos }, done);
    });
    this.scheduleRenewal(attempt);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const route = this.routes.get(topic);
    if (route === 'property-post-reply' || route === 'event-post-reply' || route === 'history-post-reply') {
      const parsed = parseReply(payload);
      if (parsed.ok) this.pipeline.handleReply(parsed.value, route);
      else
        this.emitDownlinkError(
          parsed.id === undefined
            ? { topic, reason: parsed.reason }
            : { topic, reason: parsed.reason, id: parsed.id },
        );
      return;
    }
    if (route === 'property-set' || route === 'property-get') {
      this.downlinks.handle(route, topic, payload);
      return;
    }
    const parsed = parseTopic(topic);
    if (
      parsed.ours &&
      parsed.kind === 'service-invoke' &&
      parsed.productId === this.identity.productId &&
      parsed.deviceName === this.identity.deviceName
    ) {
      this.downlinks.handle('service-invoke', topic, payload, parsed.identifier);
    }
    // Anything else was not subscribed to; a broker sending it is ignored.
  }

  private onClientError(attempt: Attempt, error: Error): void {
    if (attempt !== this.attempt) return;
    if (!attempt.connackAt && isAuthRefusal(error)) attempt.authRefused = true;
    attempt.errorText = this.clean(describeClientError(error, this.identity));
    // Errors that end the attempt are reported when it closes; one on a live session is shown now.
    if (attempt.ready) {
      this.lastError = attempt.errorText;
      this.reporter.now();
    }
  }

  /** The client closed without us ending it: a failed attempt or a dropped session. */
  private onClientClose(attempt: Attempt): void {
    if (attempt !== this.attempt) return;
    this.attempt = undefined;
    // Stop sending first: ending the client makes MQTT.js fail its pending publish callbacks.
    this.pipeline.pause('offline');
    this.pipeline.connectionLost();
    void this.endAttempt(attempt, false);
    const now = Date.now();
    let end: SessionEnd;
    if (attempt.authRefused) end = 'auth-failed';
    else if (attempt.connackAt === undefined) end = 'failed';
    else if (now - attempt.connackAt < this.options.reconnect.kickWindowMs) end = 'kicked';
    else end = 'dropped';

    // The delay is worked out first: whether a short session was a kick depends on the ones before.
    const delay = this.policy.nextDelay(end);
    this.kicked = end === 'kicked' && this.policy.kickedByTwin;
    if (end === 'auth-failed') {
      this.lastError = `auth failed: OneNET refused the login (bad username or password); check the product id, device name and key`;
    } else if (this.kicked) {
      this.lastError =
        `kicked: another client uses this device (${this.policy.consecutiveKicks} logins in a row ended ` +
        `within ${Math.round(this.options.reconnect.kickWindowMs / 1000)} s); waiting longer before each attempt, ` +
        `a deploy or msg.action "connect" tries at once`;
    } else if (end === 'kicked') {
      this.lastError = `connection lost ${now - attempt.connackAt!} ms after login`;
    } else if (end === 'dropped') {
      this.lastError = attempt.errorText ? `connection lost: ${attempt.errorText}` : 'connection lost';
    } else {
      this.lastError = attempt.errorText ?? 'the connection closed before OneNET accepted the login';
    }
    this.pipeline.applyOfflinePolicy(attempt.ready ? 'disconnected' : 'offline', this.lastError);
    this.scheduleRetry(end, delay);
    // Once per episode: the short session that completes the pattern (reset by connect()).
    if (this.kicked && this.policy.consecutiveKicks === KICKS_BEFORE_SLOW_DOWN)
      this.emitSafely('kicked', { reason: this.lastError });
  }

  private scheduleRetry(end: SessionEnd, delay = this.policy.nextDelay(end)): void {
    this.retryAt = Date.now() + delay;
    this.setState(end === 'auth-failed' ? 'auth-failed' : 'disconnected');
    if (!this.wanted || this.state === 'closed') return;
    this.clearRetry();
    this.retryTimer = setTimeout(() => this.startAttempt(), delay);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /**
   * Token renewal: OneNET drops a session whose token expires (§2.2). Shortly before that, the
   * connection stops sending, lets requests in flight collect their replies, ends the session with
   * a DISCONNECT and logs in again with a fresh token, so nothing is lost or rejected on the way.
   */
  private scheduleRenewal(attempt: Attempt): void {
    const ttlMs = this.options.tokenTtlSeconds * 1000;
    const margin = Math.min(60_000, Math.max(1000, ttlMs / 10));
    const renewAt = Math.max(
      attempt.expiresAt - margin,
      (attempt.connackAt ?? Date.now()) + Math.min(500, ttlMs / 2),
    );
    const wait = renewAt - Date.now();
    attempt.renewTimer = setTimeout(
      () => {
        attempt.renewTimer = undefined;
        if (Date.now() < renewAt) this.scheduleRenewal(attempt);
        else void this.renew(attempt, Math.min(2000, margin / 2));
      },
      Math.max(0, Math.min(wait, MAX_TIMER_MS)),
    );
  }

  private async renew(attempt: Attempt, settleMs: number): Promise<void> {
    if (attempt !== this.attempt || !attempt.ready) return;
    this.pipeline.pause('holding');
    this.setState('connecting');
    await this.pipeline.settled(settleMs);
    if (attempt !== this.attempt) return; // dropped, disconnected or closed meanwhile
    this.pipeline.connectionLost();
    await this.endAttempt(attempt, true);
    if (attempt !== this.attempt) return;
    this.attempt = undefined;
    this.startAttempt();
  }

  /** Ends an attempt's client once: our listeners off, pending reply publishes failed, socket closed. */
  private endAttempt(attempt: Attempt, graceful: boolean): Promise<void> {
    if (attempt.ending) return attempt.ending;
    const { client } = attempt;
    const { listeners } = attempt;
    client.removeListener('connect', listeners.connect);
    client.removeListener('message', listeners.message);
    client.removeListener('error', listeners.error);
    client.removeListener('close', listeners.close);
    // MQTT.js may still report errors while it winds down; an unhandled 'error' would crash the process.
    client.on('error', noop);
    clearTimeout(attempt.renewTimer);
    attempt.ending = endClient(client, graceful, FORCE_END_AFTER_MS).then(() => {
      // A graceful end waits for PUBACKs, so replies normally settled before this; the rest failed.
      for (const fail of [...attempt.unsettled]) fail(new Error('connection closed'));
    });
    return attempt.ending;
  }

  private async shutdown(): Promise<void> {
    this.epoch++;
    this.wanted = false;
    this.clearRetry();
    const attempt = this.attempt;
    this.attempt = undefined;
    this.state = 'closed'; // from here on request() rejects with 'closed'
    this.reporter.now();
    this.pipeline.pause('offline');
    if (attempt?.ready && !attempt.ending) await this.pipeline.settled(CLOSE_SETTLE_MS);
    this.pipeline.close();
    this.reporter.finish(); // the final status: closed, with the emptied queue
    this.downlinks.close();
    if (attempt) await this.endAttempt(attempt, true);
  }

  private publishReply(topic: string, payload: Buffer, target: ReplyTarget): Promise<void> {
    const attempt = this.attempt;
    if (!attempt || attempt.connackAt === undefined || attempt.ending) {
      return Promise.reject(
        new OneNetRequestError('offline', `reply not sent: ${this.describeOffline()}`, {
          id: target.id,
          topic,
        }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      // A half-open link never PUBACKs, and MQTT.js would only notice after 1.5 × keepalive; OneNET
      // waits 5 s for a reply anyway (§1.6 "同步调用超时时间5s"), so the reply ends within the request timeout.
      const timeoutMs = this.options.requestTimeoutMs;
      let published = false;
      const timer = setTimeout(() => {
        if (!attempt.unsettled.delete(settle)) return;
        queued.cancelled = true;
        reject(
          new OneNetRequestError(
            'timeout',
            published
              ? `OneNET did not acknowledge (PUBACK) the reply within ${timeoutMs} ms; it may have reached OneNET`
              : `the reply was not sent within ${timeoutMs} ms: the uplink was busy`,
            { id: target.id, topic, sent: published },
          ),
        );
      }, timeoutMs);
      const settle = (error?: Error): void => {
        if (!attempt.unsettled.delete(settle)) return;
        clearTimeout(timer);
        queued.cancelled = true;
        if (error) {
          reject(
            new OneNetRequestError(
              'disconnected',
              published
                ? `reply not confirmed: the connection dropped (${error.message})`
                : `reply not sent: the connection dropped (${error.message})`,
              { id: target.id, topic, sent: published },
            ),
          );
        } else {
          resolve();
        }
      };
      attempt.unsettled.add(settle);
      // Replies go first, within the uplink budget (every uplink counts, DESIGN.md §4 uplinkRate).
      // QoS 1, so 'sent' means OneNET has it (§1.3: device publishes support QoS 1).
      const queued = this.pipeline.submitPriority(() => {
        if (attempt.ending || attempt !== this.attempt) {
          settle(new Error('the session ended'));
          return;
        }
        published = true;
        attempt.client.publish(topic, payload, { qos: 1 }, (error) => settle(error));
      });
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Status

  private setState(state: ConnectionState): void {
    if (this.state === 'closed') return;
    this.state = state;
    this.reporter.now();
  }

  /** Platform data is quoted in the reason (ids, parse errors), so it is kept to a readable length. */
  private emitDownlinkError(event: DownlinkErrorEvent): void {
    this.emitSafely('downlink-error', { ...event, reason: readableText(event.reason) });
  }

  /**
   * A listener that throws must not break the connection's state machine (the emit often runs
   * inside an MQTT.js callback): the error becomes a process warning instead.
   */
  private emitSafely(event: 'status' | 'downlink-error' | 'kicked', value: unknown): void {
    try {
      this.emit(event, value);
    } catch (err) {
      process.emitWarning(
        `a '${event}' listener of OneNET connection ${this.key} threw: ${(err as Error)?.message ?? String(err)}`,
      );
    }
  }

  private describeOffline(): string {
    const base = `not connected to OneNET (${this.state})`;
    const retry = this.retryTimer
      ? `; next attempt in ${Math.max(0, Math.ceil((this.retryAt - Date.now()) / 1000))} s`
      : '';
    return this.lastError ? `${base}: ${this.lastError}${retry}` : `${base}${retry}`;
  }

  private clean(text: string): string {
    return redact(text, [this.options.key, ...this.recentTokens]);
  }
}

function noop(): void {}

/** "$sys/pid/dev/thing/property/set" -> "thing/property/set", for messages. */
function shortTopic(topic: string): string {
  return topic.split('/').slice(3).join('/');
}
