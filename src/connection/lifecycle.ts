import type { ResolvedOptions } from './options';
import { KICKS_BEFORE_SLOW_DOWN, ReconnectPolicy, type SessionEnd } from './reconnect-policy';
import type { RequestPipeline } from './request-pipeline';
import { shortTopic } from './routing';
import { Logins, Session, type SessionEvents } from './session';
import { publicState, transition, type Phase, type PhaseName } from './lifecycle-table';
import type { ConnectionState, DeviceIdentity } from './types';

/** close() resolves by then whatever the network does (Node-RED gives a node 15 s, the brief 2 s). */
const CLOSE_DEADLINE_MS = 1900;
/** How long close()/disconnect() let requests in flight collect their replies before ending. */
const CLOSE_SETTLE_MS = 300;
const DISCONNECT_SETTLE_MS = 1000;

export interface LifecycleHooks {
  /** Something shown in the status may have changed. */
  report: () => void;
  /** close() has emptied the pipeline: the final status, the downlinks closed. */
  closed: () => void;
  /** Once when the pattern of kicks begins. */
  kicked: (reason: string) => void;
  /** Every message on a session's subscriptions. */
  message: (topic: string, payload: Buffer) => void;
  /** A login is complete (subscribed) and the pipeline sends again: after-login work starts here. */
  loggedIn: () => void;
}

/**
 * The connection's lifecycle: which phase it is in (see TRANSITIONS in lifecycle-table.ts), what each transition does to
 * the session and the request pipeline, and the status fields (lastError, kicked) it explains.
 */
export class Lifecycle {
  private phase: Phase = { name: 'idle' };
  lastError: string | undefined;
  kicked = false;
  private closing: Promise<void> | undefined;
  private readonly policy: ReconnectPolicy;
  private readonly logins: Logins;

  constructor(
    private readonly identity: DeviceIdentity,
    private readonly options: ResolvedOptions,
    /** Subscribed after every CONNACK, and the post-reply filters once a post awaits a reply. */
    private readonly filters: { downlinks: string[]; replies: readonly string[] },
    private readonly pipeline: RequestPipeline,
    private readonly hooks: LifecycleHooks,
  ) {
    this.policy = new ReconnectPolicy(options.reconnect);
    this.logins = new Logins(identity, options);
  }

  get state(): ConnectionState {
    return publicState(this.phase);
  }

  /** The session that is logging in, live or renewing; none otherwise. */
  get session(): Session | undefined {
    const { phase } = this;
    return phase.name === 'connecting' || phase.name === 'connected' || phase.name === 'renewing'
      ? phase.session
      : undefined;
  }

  connect(): void {
    const from = this.phase;
    const to = transition(from.name, 'connect');
    if (to === 'reconnecting' && from.name === 'disconnecting') {
      this.phase = { name: 'reconnecting', job: from.job };
      // disconnect() is letting the old session's requests settle: cut that short, so they fail as
      // disconnected (or are re-sent under 'queue') now, and log in once its client has ended; two
      // clients of one device at once would kick each other.
      this.pipeline.pause('holding');
      this.hooks.report();
      this.pipeline.stopWaitingForSettle();
      return;
    }
    if (to !== 'connecting') return;
    if (from.name === 'waiting') {
      clearTimeout(from.timer);
      this.policy.reset();
    }
    this.startSession();
  }

  retryNow(): void {
    if (this.phase.name === 'waiting') this.connect();
  }

  async disconnect(): Promise<void> {
    const from = this.phase;
    if (transition(from.name, 'disconnect') !== 'disconnecting') return;
    if (from.name === 'waiting') clearTimeout(from.timer);
    const session = this.session;
    const job = {};
    this.phase = { name: 'disconnecting', job };
    this.lastError = undefined;
    this.kicked = false;
    this.hooks.report();
    this.pipeline.pause('offline');
    /** This disconnect()'s phase, unless a later disconnect() or close() took over. */
    const ours = (): PhaseName | undefined => {
      const phase = this.phase as Phase;
      return (phase.name === 'disconnecting' || phase.name === 'reconnecting') && phase.job === job
        ? phase.name
        : undefined;
    };
    if (session?.ready) await this.pipeline.settled(DISCONNECT_SETTLE_MS);
    if ((this.phase as Phase).name === 'closed') {
      // close() took over the pipeline, but the old client is still ours to end: close() no longer
      // knows it, and its socket would stay open until the broker drops it.
      if (session) await session.end(true);
      return;
    }
    // What is still in flight belonged to the old session, whoever asked for the next one.
    this.pipeline.connectionLost();
    if (ours() === 'disconnecting') this.pipeline.applyOfflinePolicy('offline', 'disconnected by request');
    if (session) await session.end(true);
    const name = ours();
    if (name === undefined) return;
    if (transition(name, 'ended') === 'idle') this.phase = { name: 'idle' };
    // connect() during the wait: log in now that the old client is gone.
    else this.startSession();
  }

  /** Final; resolves within CLOSE_DEADLINE_MS. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const deadline = setTimeout(resolve, CLOSE_DEADLINE_MS);
      this.shutdown().then(
        () => {
          clearTimeout(deadline);
          resolve();
        },
        () => undefined,
      );
    });
    return this.closing;
  }

  /** Why requests cannot be sent now. */
  describeOffline(withRetry = true): string {
    const { phase } = this;
    const base = `not connected to OneNET (${this.state})`;
    const retry =
      withRetry && phase.name === 'waiting'
        ? `; next attempt in ${Math.max(0, Math.ceil((phase.retryAt - Date.now()) / 1000))} s`
        : '';
    return this.lastError ? `${base}: ${this.lastError}${retry}` : `${base}${retry}`;
  }

  private async shutdown(): Promise<void> {
    const from = this.phase;
    if (transition(from.name, 'close') !== 'closed') return;
    if (from.name === 'waiting') clearTimeout(from.timer);
    const session = this.session;
    this.phase = { name: 'closed' }; // from here on request() rejects with 'closed'
    this.hooks.report();
    this.pipeline.pause('offline');
    if (session?.ready && !session.ended) await this.pipeline.settled(CLOSE_SETTLE_MS);
    this.pipeline.close();
    this.hooks.closed();
    if (session) await session.end(true);
  }

  /** Enters 'connecting' with a new session, or 'waiting' when none can be started. */
  private startSession(): void {
    let session: Session;
    try {
      session = new Session(
        this.identity,
        this.options,
        this.logins,
        this.filters.downlinks,
        this.filters.replies,
        this.hooks.message,
        () => this.session === session,
        this.eventsOf(() => session),
      );
    } catch (err) {
      if (transition(this.phase.name, 'start-failed') !== 'waiting') return;
      this.lastError = this.logins.clean(`cannot start a connection: ${(err as Error).message}`);
      this.wait('failed', this.policy.nextDelay('failed'));
      this.hooks.report();
      this.pipeline.applyOfflinePolicy('offline', this.describeOffline(false));
      return;
    }
    this.phase = { name: 'connecting', session };
    this.pipeline.pause('holding');
    this.hooks.report();
  }

  private eventsOf(session: () => Session): SessionEvents {
    return {
      connacked: () => this.policy.loggedIn(),
      ready: (refused) => this.ready(session(), refused),
      repliesRefused: (refused) => {
        this.lastError = refusedText(refused);
        this.hooks.report();
      },
      error: (text) => {
        this.lastError = text;
        this.hooks.report();
      },
      closed: (end) => this.dropped(session(), end),
      renewalDue: (settleMs) => void this.renew(session(), settleMs),
    };
  }

  private ready(session: Session, refused: string[]): void {
    if (transition(this.phase.name, 'ready') !== 'connected') return;
    this.kicked = false;
    this.lastError = refused.length === 0 ? undefined : refusedText(refused);
    this.phase = { name: 'connected', session };
    this.hooks.report();
    this.pipeline.resume((topic, payload, qos, done, awaitsReply) =>
      session.publish(topic, payload, qos, done, awaitsReply),
    );
    this.hooks.loggedIn();
  }

  /** The client closed without us ending it: a failed attempt or a dropped session. */
  private dropped(session: Session, end: SessionEnd): void {
    if (transition(this.phase.name, 'dropped') !== 'waiting') return;
    const now = Date.now();
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
      this.lastError = `connection lost ${now - session.connackAt!} ms after login`;
    } else if (end === 'dropped') {
      this.lastError = session.errorText ? `connection lost: ${session.errorText}` : 'connection lost';
    } else {
      this.lastError = session.errorText ?? 'the connection closed before OneNET accepted the login';
    }
    this.wait(end, delay);
    // Stop sending first: ending the client makes MQTT.js fail its pending publish callbacks.
    this.pipeline.pause('offline');
    this.pipeline.connectionLost();
    void session.end(false);
    this.pipeline.applyOfflinePolicy(session.ready ? 'disconnected' : 'offline', this.lastError);
    this.hooks.report();
    // Once per episode: the short session that completes the pattern (reset by connect()).
    if (this.kicked && this.policy.consecutiveKicks === KICKS_BEFORE_SLOW_DOWN)
      this.hooks.kicked(this.lastError);
  }

  private wait(end: SessionEnd, delay: number): void {
    const timer = setTimeout(() => {
      if (transition(this.phase.name, 'retry-due') === 'connecting') this.startSession();
    }, delay);
    this.phase = { name: 'waiting', end, retryAt: Date.now() + delay, timer };
  }

  private async renew(session: Session, settleMs: number): Promise<void> {
    if (transition(this.phase.name, 'renewal-due') !== 'renewing' || this.session !== session) return;
    this.phase = { name: 'renewing', session };
    this.pipeline.pause('holding');
    this.hooks.report();
    await this.pipeline.settled(settleMs);
    if (this.session !== session) return; // dropped, disconnected or closed meanwhile
    this.pipeline.connectionLost();
    await session.end(true);
    if (this.session !== session || transition(this.phase.name, 'ended') !== 'connecting') return;
    this.startSession();
  }
}

function refusedText(refused: string[]): string {
  return `OneNET refused the subscription to ${refused.map(shortTopic).join(', ')}; replies or commands on them will not arrive`;
}
