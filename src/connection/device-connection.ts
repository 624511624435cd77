import { EventEmitter } from 'node:events';
import { createMessageIdGenerator, type SubDeviceIdentity } from '../protocol';
import { readableText } from './client-text';
import { DesiredSync, type DesiredHandler } from './desired-sync';
import { Downlinks, type ReplyTarget } from './downlinks';
import { OneNetRequestError } from './errors';
import { Lifecycle } from './lifecycle';
import { checkIdentity, identityKey, resolveOptions, type ResolvedOptions } from './options';
import { RequestPipeline, type RequestEntry } from './request-pipeline';
import { DownlinkRouter } from './routing';
import { StoreForward } from './store-forward';
import type { Session } from './session';
import { buildPostEntry, type PostInput, type PostNumbering, type RequestCallOptions } from './post-entry';
import { StatusReporter } from './status-reporter';
import type { SubDeviceHandle } from './sub-device-handle';
import { SubDevices } from './sub-devices';
import type {
  ConnectionStatus,
  DeviceConnectionOptions,
  DeviceIdentity,
  DownlinkErrorEvent,
  DownlinkKind,
  DownlinkRequest,
  ReplyOutcome,
  RequestOutcome,
  UplinkKind,
} from './types';

/**
 * One live OneNET device session, shared by every Node-RED node that uses the device: connects with
 * a freshly signed token each time, reconnects with backoff, keeps one fixed set of subscriptions,
 * pipelines thing-model requests and routes platform requests to handlers. It knows MQTT.js but not
 * Node-RED. The parts: the lifecycle state machine (lifecycle.ts, lifecycle-table.ts), one MQTT
 * client's session (session.ts), downlink routing (routing.ts) and the request pipeline
 * (request-pipeline.ts, settlement.ts, the uplink scheduler); this class is the entry for requests.
 *
 * Kick detection: OneNET closes the older of two logins of one device (§1.3). The client cannot
 * see why a socket closed, so it decides from the pattern: a drop within `kickWindowMs` (default
 * 3 s) of a good login, not caused by us, is a short session; one or two in a row get the normal
 * back-off (a flapping link), and from the third in a row they count as kicks: status.kicked is set
 * and the retry waits `kickedDelayMs` (doubling, up to 40x), so two clients with one identity settle
 * instead of kicking each other forever. connect() (a deploy, msg.action) tries again at once. A short-lived token is renewed before it expires (see Session.scheduleRenewal).
 *
 * Events: 'status' (ConnectionStatus) on every change; 'downlink-error' (DownlinkErrorEvent) for
 * malformed platform requests; 'kicked' (KickPatternEvent) once when the pattern of kicks begins;
 * 'store' (StoreEvent) when the durable store drops, refuses or cannot write values. No event or error ever carries the key or the token.
 */
export class DeviceConnection extends EventEmitter {
  readonly identity: DeviceIdentity;
  /** "host:port/productId/deviceName". */
  readonly key: string;
  private readonly options: ResolvedOptions;
  private readonly nextId: () => string;
  private readonly router: DownlinkRouter;
  private readonly pipeline: RequestPipeline;
  private readonly downlinks: Downlinks;
  private readonly desired: DesiredSync;
  private readonly lifecycle: Lifecycle;
  /** The sub-devices this connection carries as their gateway (sub-devices.ts); none for most devices. */
  private readonly subDevices: SubDevices;
  private readonly reporter = new StatusReporter(
    () => this.status(),
    (status) => this.emitSafely('status', status),
  );
  /** Acceptance order of requests, for merging (see RequestEntry.seq). */
  private nextSeq = 0;
  /** Built once, not per post: buildPostEntry runs for every one. */
  private readonly numbering: PostNumbering;
  /** offlinePolicy 'store' only. */
  private readonly store: StoreForward | undefined;

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
    this.numbering = {
      nextId: this.nextId,
      nextSeq: () => this.nextSeq++,
      defaultTimeoutMs: this.options.requestTimeoutMs,
    };
    this.store = StoreForward.create(this.identity, this.options, {
      nextId: this.nextId,
      wake: () => this.pipeline.wake(),
      changed: () => this.reporter.now(),
      report: (event) => this.emitSafely('store', event),
      canDeliver: (device) => this.subDevices.isLoggedIn(device),
    });
    this.pipeline = new RequestPipeline(this.options, {
      ...this.store?.pipelineHooks,
      depthChanged: () => this.reporter.depthChanged(this.pipeline.depth),
      describeOffline: () => this.lifecycle.describeOffline(),
      nextId: this.nextId,
      topicOf: (kind) => this.router.topics[kind],
    });
    this.downlinks = new Downlinks(
      this.identity,
      (event) => this.emitDownlinkError(event),
      (topic, payload, target) => this.publishReply(topic, payload, target),
    );
    this.desired = new DesiredSync(this.identity, this.options, {
      nextId: this.nextId,
      submitPriority: (send) => this.pipeline.submitPriority(send),
      liveSession: () => {
        const session = this.lifecycle.session;
        return this.lifecycle.state === 'connected' && session?.ready && !session.ended ? session : undefined;
      },
      describeOffline: () => this.lifecycle.describeOffline(),
      report: (event) => this.emitDownlinkError(event),
    });
    this.router = new DownlinkRouter(this.identity, {
      reply: (reply, kind) => this.pipeline.handleReply(reply, kind),
      desiredReply: (reply, kind) => this.desired.handleReply(reply, kind),
      downlink: (kind, topic, payload, identifier) => this.downlinks.handle(kind, topic, payload, identifier),
      malformed: (event) => this.emitDownlinkError(event),
      sub: (kind, topic, payload) => this.subDevices.route(kind, topic, payload),
    });
    this.subDevices = new SubDevices(this.identity, {
      nextId: this.nextId,
      liveSession: () => this.liveSession(),
      submitPriority: (send, lane) => this.pipeline.submitPriority(send, lane),
      timeoutMs: () => this.options.requestTimeoutMs,
      options: this.options,
      gatewayStatus: () => this.status(),
      submit: (entry) => this.pipeline.submit(entry),
      fail: (entry, error) => {
        clearTimeout(entry.timer);
        entry.done = true;
        entry.reject(error);
      },
      serveSubDevices: () => this.serveSubDevices(),
      report: (event) => this.emitDownlinkError(event),
      request: (identity, kind, params, options) => this.send(kind, params, options, identity),
      connect: () => this.connect(),
      loggedIn: () => this.store?.poke(),
      waitingChanged: () => this.reporter.soon(),
      store: (entry) => this.store?.takes(entry, false) ?? false,
    });
    this.lifecycle = new Lifecycle(this.identity, this.options, this.router.filters, this.pipeline, {
      report: () => {
        this.store?.poke();
        this.reporter.now();
        // Every change of session passes here: desired requests of a session that went fail now.
        this.desired.sessionChanged();
        this.subDevices.sessionChanged();
      },
      closed: () => {
        this.store?.close();
        this.reporter.finish(); // the final status: closed, with the emptied queue
        this.downlinks.close();
        this.desired.close();
        this.subDevices.sessionChanged();
      },
      loggedIn: () => {
        this.desired.loggedIn();
        this.subDevices.loggedIn();
      },
      kicked: (reason) => this.emitSafely('kicked', { reason }),
      message: (topic, payload) => this.router.route(topic, payload),
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle (see lifecycle.ts)

  /** Idempotent. Starts connecting; when a retry is pending, tries now. */
  connect(): void {
    this.lifecycle.connect();
  }

  /**
   * When a retry waits out a back-off (after a kick, a refused login or drops), tries now; a
   * connection the user disconnected stays disconnected. A deploy calls this through the pool.
   */
  retryNow(): void {
    this.lifecycle.retryNow();
  }

  /** Goes offline at the user's request and stays there until connect(). */
  disconnect(): Promise<void> {
    return this.lifecycle.disconnect();
  }

  /** Final. Rejects every pending and queued request with reason 'closed'; resolves within 2 s. */
  close(): Promise<void> {
    return this.lifecycle.close();
  }

  status(): ConnectionStatus {
    const status: ConnectionStatus = { state: this.lifecycle.state, queueDepth: this.pipeline.depth };
    if (this.pipeline.full) status.busy = true;
    if (this.lifecycle.lastError !== undefined) status.lastError = this.lifecycle.lastError;
    if (this.lifecycle.kicked) status.kicked = true;
    if (this.subDevices.size > 0) status.subDevices = this.subDevices.size;
    if (this.subDevices.waiting > 0) status.subDevicesWaiting = this.subDevices.waiting;
    this.store?.describe(status);
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
    return this.send(kind, params, options);
  }

  /**
   * As a gateway, carries sub-device `identity` for flow node `userId` (DESIGN.md §4 `gateway`): the
   * handle posts, receives commands and replies over this connection. `key` (the sub-device's or its
   * product's) signs its sasToken. Throws beyond OneNET's 1,500 sub-devices per gateway.
   */
  subDevice(identity: SubDeviceIdentity, key: string, userId: string): SubDeviceHandle {
    const before = this.subDevices.size;
    const handle = this.subDevices.attach(identity, key, userId);
    if (this.subDevices.size !== before) this.reporter.now();
    return handle;
  }

  /** `userId` no longer uses the sub-device; the last one leaving logs it out. */
  releaseSubDevice(identity: SubDeviceIdentity, userId: string): void {
    const before = this.subDevices.size;
    this.subDevices.detach(userId, identity);
    if (this.subDevices.size !== before) this.reporter.now();
  }

  /** How many sub-devices this connection carries (the gateway's status count). */
  get subDeviceCount(): number {
    return this.subDevices.size;
  }

  /** A post of this device, or, with `identity`, of one of its sub-devices (a pack/post entry). */
  private send(
    kind: UplinkKind,
    params: unknown,
    options: RequestCallOptions = {},
    identity?: SubDeviceIdentity,
  ): Promise<RequestOutcome> {
    const createdAt = Date.now();
    if (kind !== 'property-post' && kind !== 'event-post') {
      return Promise.reject(
        new OneNetRequestError(
          'invalid',
          `request kind must be 'property-post' or 'event-post', not ${String(kind)}`,
        ),
      );
    }
    const topic = this.router.topics[identity ? 'pack-post' : kind];
    if (this.lifecycle.state === 'closed')
      return Promise.reject(new OneNetRequestError('closed', 'the connection is closed', { topic }));
    return new Promise<RequestOutcome>((resolve, reject) => {
      let entry: RequestEntry;
      try {
        const input: PostInput = { kind, params, options, topic, createdAt };
        if (identity) input.identity = identity;
        entry = buildPostEntry(input, this.numbering, resolve, reject);
      } catch (err) {
        reject(err as OneNetRequestError);
        return;
      }
      if (identity) {
        // Under 'store' a sub-device's post the gateway cannot send now goes to the store with its
        // identity; the backfill delivers it once the sub-device is logged in again.
        if (this.store?.takes(entry, this.lifecycle.state === 'connected')) return;
        this.subDevices.admit(identity, entry);
        return;
      }
      if (this.store?.takes(entry, this.lifecycle.state === 'connected' && !this.pipeline.full)) return;
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

  /**
   * Receives the desired values found after each login (options.syncDesired); see DesiredSync.
   * Returns the function that stops it.
   */
  onDesired(handler: DesiredHandler): () => void {
    return this.desired.onDesired(handler);
  }

  /**
   * Clears exactly these desired versions (`{identifier: version}`, as a DesiredDelivery has them)
   * with a version-checked desired/delete; resolves on OneNET's 200 reply.
   */
  deleteDesired(versions: Record<string, number>): Promise<RequestOutcome> {
    return this.desired.delete(versions);
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

  /** The logged-in session requests may be published on, if any. */
  private liveSession(): Session | undefined {
    const session = this.lifecycle.session;
    return this.lifecycle.state === 'connected' && session?.ready && !session.ended ? session : undefined;
  }

  /**
   * Subscribes the sub-device topics from now on (routing.ts); on a session that is already up,
   * at once. Resolves when the sub-devices can be bound (or at the next login).
   */
  private serveSubDevices(): Promise<void> {
    const added = this.router.serveSubDevices();
    const session = this.liveSession();
    if (added.length === 0 || !session) return Promise.resolve();
    return new Promise<void>((resolve) => {
      session.subscribeMore(added, (refused) => {
        if (refused.length > 0)
          this.emitDownlinkError({
            topic: refused.join(', '),
            reason: 'OneNET refused the subscription; sub-devices cannot be served',
          });
        resolve();
      });
    });
  }

  /** The live session, if any (the reliability tests read its client to count listeners). */
  private get attempt(): Session | undefined {
    return this.lifecycle.session;
  }

  private publishReply(topic: string, payload: Buffer, target: ReplyTarget): Promise<void> {
    const session = this.attempt;
    if (!session || !session.acceptsReplies) {
      return Promise.reject(
        new OneNetRequestError('offline', `reply not sent: ${this.lifecycle.describeOffline()}`, {
          id: target.id,
          topic,
        }),
      );
    }
    return session.publishReply(topic, payload, target.id, (send) => this.pipeline.submitPriority(send));
  }

  // ---------------------------------------------------------------------------------------------
  // Events

  /** Platform data is quoted in the reason (ids, parse errors), so it is kept to a readable length. */
  private emitDownlinkError(event: DownlinkErrorEvent): void {
    const readable = { ...event, reason: readableText(event.reason) };
    this.emitSafely('downlink-error', readable);
    // The same report to every sub-device's nodes: a flow of sub-devices alone hears of it too (once).
    this.subDevices.reportToHandles(readable);
  }

  /**
   * A listener that throws must not break the connection's state machine (the emit often runs
   * inside an MQTT.js callback): the error becomes a process warning instead.
   */
  /** offlinePolicy 'store': resolves once the store's writes are done, with the values left in it. */
  storeClosed(): Promise<{ dir: string; pending: number } | undefined> {
    return this.store?.closed() ?? Promise.resolve(undefined);
  }

  private emitSafely(event: 'status' | 'downlink-error' | 'kicked' | 'store', value: unknown): void {
    try {
      this.emit(event, value);
    } catch (err) {
      process.emitWarning(
        `a '${event}' listener of OneNET connection ${this.key} threw: ${(err as Error)?.message ?? String(err)}`,
      );
    }
  }
}
