import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { Aedes, type Client, type ConnectPacket, type PublishPacket, type Subscription } from 'aedes';
import {
  DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
  MAX_FILTERS_PER_SUBSCRIBE,
  MAX_PAYLOAD_BYTES,
  PLATFORM_REPLY_DEADLINE_MS,
  SUCCESS_CODE,
  buildReply,
  buildRequest,
  buildTopic,
  createMessageIdGenerator,
  describeReplyCode,
  identifierError,
  isPlainObject,
  parseTopic,
  replyKindOf,
  serializeMessage,
  topicDirection,
  valueError,
  type ThingReply,
  type TopicAddress,
  type TopicKind,
} from '../protocol';
import {
  checkPropertyGet,
  checkPropertySet,
  checkServiceInvoke,
  type ThingModelViolation,
} from '../protocol/thing-model';
import { CONNACK_UNACCEPTABLE_PROTOCOL, connectViolation } from './connect-rules';
import { DeviceStore } from './device-store';
import { Listener } from './listener';
import { describeDevice, preview } from './log-format';
import { PendingRequests, PlatformRequestError } from './platform-requests';
import { UplinkRateLimiter } from './rate-limiter';
import { DeviceRegistry, deviceKeyOf } from './registry';
import { RingBuffer } from './ring-buffer';
import { Session } from './session';
import { filterRefusal } from './subscribe-acl';
import type {
  ConnectionInfo,
  DeviceRef,
  EmulatorDevice,
  EmulatorOptions,
  EmulatorProduct,
  EmulatorStats,
  EventRecord,
  OneNetEmulatorEvents,
  PlatformRequestKind,
  PropertyRecord,
  UplinkRecord,
} from './types';
import { interpretUplink } from './uplink';

/** What a CONNECT said about itself, kept from preConnect until the session exists. */
interface Login {
  clientId: string;
  username: string;
  keepalive: number;
  device?: EmulatorDevice;
  token?: string;
  expiresAt?: number;
}

/** The slice of aedes' client this file reaches into: its MQTT parser (see tapParser). */
interface ParserHolder {
  _parser?: EventEmitter;
}

/** setTimeout's ceiling; longer token lifetimes are not timed (they outlive any test or demo). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long a refused client has to read its CONNACK 1 before the socket is destroyed. */
const REFUSAL_LINGER_MS = 1000;

/**
 * An emulated OneNET thing-model MQTT acceptor on a real broker (aedes). Rules and their sources:
 * shared/onenet-protocol.md §1.3–1.6, §2, §3, §7; usage: docs/emulator.md.
 *
 * Events: 'client-connected', 'client-refused', 'client-disconnected', 'kicked', 'uplink', 'reply',
 * 'subscribed', 'downlink' (payload types in ./types).
 */
export class OneNetEmulator extends EventEmitter<OneNetEmulatorEvents> {
  readonly host: string;
  readonly stats: EmulatorStats = { connects: 0, authFailures: 0, kicks: 0, publishes: 0, refusals: 0 };

  private broker!: Aedes;
  private readonly registry = new DeviceRegistry();
  private readonly store: DeviceStore;
  private readonly uplinkLog: RingBuffer<UplinkRecord>;
  private readonly sessions = new Map<string, Session>();
  private readonly sessionOf = new WeakMap<Client, Session>();
  private readonly logins = new WeakMap<Client, Login>();
  private readonly pending: PendingRequests;
  private readonly nextRequestId = createMessageIdGenerator();
  private readonly limiters = new Map<string, UplinkRateLimiter>();
  /** Tokens of sessions expired by expireTokens(): the platform treats them as expired from then on. */
  private readonly revokedTokens = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly plain: Listener;
  private readonly secure: Listener | undefined;
  private readonly log: ((line: string) => void) | undefined;
  private replyDelayMs = 0;
  private failCode: number | undefined;
  private closing = false;

  private constructor(private readonly options: EmulatorOptions) {
    super();
    this.host = options.host ?? '127.0.0.1';
    this.log = options.log;
    this.store = new DeviceStore(options.eventLogLimit ?? 1000);
    this.uplinkLog = new RingBuffer(options.uplinkLogLimit ?? 10_000);
    this.pending = new PendingRequests(options.replyDeadlineMs ?? PLATFORM_REPLY_DEADLINE_MS);
    const onConnection = (stream: Duplex): void => this.accept(stream);
    this.plain = new Listener(undefined, onConnection, () => undefined);
    if (options.tls) {
      this.secure = new Listener({ key: options.tls.key, cert: options.tls.cert }, onConnection, (error) =>
        this.log?.(`TLS handshake failed: ${error.message}`),
      );
    }
    for (const product of options.products ?? []) this.registry.addProduct(product);
    for (const device of options.devices ?? []) this.registry.addDevice(device);
    if (options.uplinkRateLimit) new UplinkRateLimiter(options.uplinkRateLimit.perSecond); // validates early
  }

  /** Starts the broker and its listener(s); resolves once they accept connections. */
  static async start(options: EmulatorOptions = {}): Promise<OneNetEmulator> {
    const emulator = new OneNetEmulator(options);
    await emulator.startBroker();
    try {
      await emulator.startListening();
    } catch (error) {
      await emulator.close();
      throw error;
    }
    return emulator;
  }

  get port(): number {
    return this.plain.port ?? 0;
  }

  get tlsPort(): number | undefined {
    return this.secure?.port;
  }

  // ---------------------------------------------------------------------------------------------
  // Devices and products

  addDevice(device: EmulatorDevice): void {
    this.registry.addDevice(device);
  }

  /** Forgets the device and closes its session, if any. */
  removeDevice(ref: DeviceRef): void {
    this.registry.removeDevice(ref);
    this.sessions.get(deviceKeyOf(ref))?.cut('device removed from the emulator');
  }

  addProduct(product: EmulatorProduct): void {
    this.registry.addProduct(product);
  }

  // ---------------------------------------------------------------------------------------------
  // Platform side (§1.6, §3.1 items 2, 3, 7)

  setProperty(ref: DeviceRef, params: Record<string, unknown>): Promise<ThingReply> {
    return this.request(
      ref,
      'property-set',
      undefined,
      params,
      () => {
        if (!isPlainObject(params) || Object.keys(params).length === 0)
          return 'params must be a non-empty object';
        for (const [identifier, value] of Object.entries(params)) {
          const error = identifierError(identifier) ?? valueError(value, `params.${identifier}`);
          if (error) return error;
        }
        return undefined;
      },
      (model) => checkPropertySet(model, params),
    );
  }

  getProperty(ref: DeviceRef, identifiers: string[]): Promise<ThingReply> {
    return this.request(
      ref,
      'property-get',
      undefined,
      identifiers,
      () => {
        if (!Array.isArray(identifiers) || identifiers.length === 0)
          return 'identifiers must be a non-empty array';
        for (const identifier of identifiers) {
          const error = identifierError(identifier);
          if (error) return error;
        }
        return undefined;
      },
      (model) => checkPropertyGet(model, identifiers),
    );
  }

  invokeService(ref: DeviceRef, identifier: string, input: Record<string, unknown>): Promise<ThingReply> {
    return this.request(
      ref,
      'service-invoke',
      identifier,
      input,
      () => {
        const error = identifierError(identifier);
        if (error) return `service ${error}`;
        if (!isPlainObject(input)) return 'service input must be an object';
        return valueError(input, 'input');
      },
      (model) => checkServiceInvoke(model, identifier, input),
    );
  }

  latestProperties(ref: DeviceRef): Record<string, PropertyRecord> {
    return this.store.latestOf(deviceKeyOf(ref));
  }

  eventLog(ref: DeviceRef): EventRecord[] {
    return this.store.eventsOf(deviceKeyOf(ref));
  }

  /** Accepted device publishes, oldest first (at most `uplinkLogLimit` overall). */
  uplinks(ref?: DeviceRef): UplinkRecord[] {
    const all = this.uplinkLog.toArray();
    if (!ref) return all;
    return all.filter((record) => record.productId === ref.productId && record.deviceName === ref.deviceName);
  }

  connections(): ConnectionInfo[] {
    return [...this.sessions.values()].map((session) => ({
      productId: session.productId,
      deviceName: session.deviceName,
      connectedAt: session.connectedAt,
    }));
  }

  subscriptions(ref: DeviceRef): string[] {
    const session = this.sessions.get(deviceKeyOf(ref));
    return session ? [...session.granted] : [];
  }

  // ---------------------------------------------------------------------------------------------
  // Fault hooks

  dropDevice(ref: DeviceRef): boolean {
    const session = this.sessions.get(deviceKeyOf(ref));
    if (!session) return false;
    session.cut('connection dropped by the emulator (dropDevice)');
    return true;
  }

  async stopListening(): Promise<void> {
    for (const session of this.sessions.values()) session.closeReason ??= 'the emulator stopped listening';
    await Promise.all([this.plain.close(), this.secure?.close()]);
    this.log?.('stopped listening; every connection closed');
  }

  async startListening(): Promise<void> {
    const port = await this.plain.listen(this.host, this.options.port ?? 0);
    this.log?.(`listening on ${this.host}:${port}`);
    if (this.secure) {
      const tlsPort = await this.secure.listen(this.host, this.options.tls?.port ?? 0);
      this.log?.(`TLS: accepting mqtts on ${this.host}:${tlsPort}`);
    }
  }

  setReplyDelay(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error('reply delay must be a non-negative number of ms');
    this.replyDelayMs = ms;
  }

  failReplies(code: number | undefined): void {
    if (code !== undefined && !Number.isSafeInteger(code))
      throw new Error('failReplies code must be an integer');
    this.failCode = code;
  }

  /** Treats the tokens of current sessions (all, or one device's) as expired now, which disconnects them. */
  expireTokens(ref?: DeviceRef): void {
    for (const session of [...this.sessions.values()]) {
      if (ref && session.deviceKey !== deviceKeyOf(ref)) continue;
      this.revokedTokens.add(session.token);
      session.cut('token expired (expireTokens)');
    }
  }

  /**
   * Test hook for bad platform data: publishes `payload` unchanged (QoS 0, like every downlink) on
   * one of the device's own platform-to-device topics, e.g. garbage on `thing/property/set`. The
   * usual delivery rule holds: only a connected device that subscribed to the topic receives it
   * (§1.5). Returns whether it was delivered; throws for a topic the platform never publishes.
   */
  publishRaw(ref: DeviceRef, topic: string, payload: Buffer | string): boolean {
    const parsed = parseTopic(topic);
    if (
      !parsed.ours ||
      parsed.productId !== ref.productId ||
      parsed.deviceName !== ref.deviceName ||
      topicDirection(parsed.kind) !== 'down'
    ) {
      throw new Error(`publishRaw: ${topic} is not a platform-to-device topic of ${describeDevice(ref)}`);
    }
    const session = this.sessions.get(deviceKeyOf(ref));
    if (!session || session.closed || !session.isSubscribedTo(topic)) return false;
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    this.deliver(session, topic, bytes);
    this.log?.(`raw ${parsed.kind} → ${describeDevice(ref)} (publishRaw, ${bytes.length} bytes)`);
    return true;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const session of this.sessions.values()) session.closeReason ??= 'the emulator closed';
    await Promise.all([this.plain.close(), this.secure?.close()]);
    this.pending.rejectAll(new PlatformRequestError('the emulator closed', 303));
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.broker) await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    this.log?.('closed');
  }

  // ---------------------------------------------------------------------------------------------
  // Broker wiring

  private async startBroker(): Promise<void> {
    this.broker = await Aedes.createBroker({
      // OneNET kicks a silent TCP connection soon (§1.3); 10 s is generous for any real client.
      connectTimeout: 10_000,
      preConnect: (client, packet, done) => this.preConnect(client, packet, done),
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizeSubscribe: (client, subscription, done) =>
        done(null, this.authorizeSubscribe(client, subscription)),
      authorizePublish: (client, packet, done) => this.authorizePublish(client, packet, done),
      // Devices never receive each other's (or their own) uplinks: OneNET is not a device-to-device
      // broker. Only what the emulator itself sends (no clientId) is forwarded.
      authorizeForward: (_client, packet) =>
        (packet as { clientId?: string }).clientId === undefined ? packet : null,
    });
    // 'client' comes when aedes registers the connection, before the CONNACK is written, so the
    // session exists before the device can send anything after its CONNACK.
    this.broker.on('client', (client) => this.onClientRegistered(client));
    this.broker.on('clientDisconnect', (client) => this.onClientDisconnect(client));
    this.broker.on('clientError', (client, error) => {
      const session = this.sessionOf.get(client);
      if (session) session.closeReason ??= `connection error: ${error.message}`;
    });
    this.broker.on('keepaliveTimeout', (client) => {
      const session = this.sessionOf.get(client);
      if (session) session.closeReason ??= 'keepalive timeout (nothing received for 1.5 × keepalive, §1.3)';
    });
    this.broker.on('subscribe', (subscriptions, client) => this.onSubscribed(subscriptions, client));
    this.broker.on('unsubscribe', (filters, client) => {
      const session = this.sessionOf.get(client);
      if (session) for (const filter of filters) session.revoke(filter);
    });
  }

  private accept(stream: Duplex): void {
    if (this.closing) {
      stream.destroy();
      return;
    }
    const client = this.broker.handle(stream);
    this.tapParser(client);
  }

  /**
   * Sees every packet before aedes does, for the two rules its hooks cannot express: a SUBSCRIBE
   * with more than 8 filters disconnects, and the granted QoS is always 0 (§1.3). It also notes a
   * DISCONNECT so the disconnect event can say the device asked for it. Relies on aedes' internal
   * `_parser` (aedes 1.2); without it those rules are skipped, which the test suite would catch.
   */
  private tapParser(client: Client): void {
    const parser = (client as unknown as ParserHolder)._parser;
    parser?.prependListener(
      'packet',
      (packet: { cmd: string; subscriptions?: Array<{ topic: string; qos: number }> }) => {
        if (packet.cmd === 'subscribe' && packet.subscriptions) {
          for (const subscription of packet.subscriptions) subscription.qos = 0;
          if (packet.subscriptions.length > MAX_FILTERS_PER_SUBSCRIBE) {
            const reason = `SUBSCRIBE with ${packet.subscriptions.length} filters; OneNET allows ${MAX_FILTERS_PER_SUBSCRIBE} per packet`;
            const session = this.sessionOf.get(client);
            if (session) session.cut(reason);
            else client.conn.destroy();
          }
        } else if (packet.cmd === 'disconnect') {
          const session = this.sessionOf.get(client);
          if (session) session.closeReason ??= 'the device sent DISCONNECT';
        }
      },
    );
  }

  // CONNECT ------------------------------------------------------------------------------------

  private preConnect(
    client: Client,
    packet: ConnectPacket,
    done: (error: Error | null, success: boolean) => void,
  ): void {
    const clientId = packet.clientId ?? '';
    const username = packet.username ?? '';
    const violation = this.closing
      ? { answer: 'close' as const, reason: 'the emulator is closing' }
      : connectViolation(packet);
    if (violation) {
      this.refuse(clientId, username, violation.reason, false);
      if (violation.answer === 'connack-1') {
        client.conn.end(CONNACK_UNACCEPTABLE_PROTOCOL);
        this.later(REFUSAL_LINGER_MS, () => client.conn.destroy());
      } else {
        client.conn.destroy();
      }
      done(null, false);
      return;
    }
    this.logins.set(client, { clientId, username, keepalive: packet.keepalive ?? 0 });
    // aedes keys connections by client id; OneNET by product id + device name. Giving aedes the pair
    // makes its takeover of an older connection the per-device kick of §1.3, and no other.
    packet.clientId = deviceKeyOf({ productId: username, deviceName: clientId });
    done(null, true);
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: (Error & { returnCode: 4 }) | null, success: boolean | null) => void,
  ): void {
    const login = this.logins.get(client);
    const clientId = login?.clientId ?? '';
    const result = this.registry.checkLogin(clientId, username, password, Math.floor(Date.now() / 1000));
    const token = password?.toString('utf8') ?? '';
    const reason = !result.ok
      ? result.reason
      : this.revokedTokens.has(token)
        ? 'token expired (expireTokens)'
        : undefined;
    if (reason !== undefined || !login || !result.ok) {
      this.refuse(clientId, username ?? '', reason ?? 'no CONNECT seen', true);
      // §2.6: every authentication failure is CONNACK 4, "bad username or password".
      done(Object.assign(new Error('bad username or password'), { returnCode: 4 as const }), null);
      return;
    }
    login.device = result.device;
    login.token = token;
    login.expiresAt = result.token.et;
    const older = this.sessions.get(deviceKeyOf(result.device));
    if (older) {
      older.kicked = true;
      older.closeReason ??= 'kicked: the same device logged in again (§1.3)';
    }
    done(null, true);
  }

  private refuse(clientId: string, username: string, reason: string, authFailure: boolean): void {
    this.stats.refusals++;
    if (authFailure) this.stats.authFailures++;
    this.log?.(
      `refused ${clientId || '(no client id)'} of product ${username || '(none)'}: ${reason}${authFailure ? ' → CONNACK 4' : ''}`,
    );
    this.emit('client-refused', { clientId, username, reason });
  }

  private onClientRegistered(client: Client): void {
    const login = this.logins.get(client);
    if (!login?.device || login.token === undefined) return;
    this.logins.delete(client);
    const device = login.device;
    const session = new Session(client, device, deviceKeyOf(device), login.token, Date.now());
    this.sessions.set(session.deviceKey, session);
    this.sessionOf.set(client, session);
    this.stats.connects++;
    this.scheduleTokenExpiry(session, login.expiresAt ?? 0);
    this.log?.(`connect ${describeDevice(device)} (keepalive ${login.keepalive} s)`);
    this.emit('client-connected', {
      productId: device.productId,
      deviceName: device.deviceName,
      token: login.token,
    });
  }

  private scheduleTokenExpiry(session: Session, expiresAtSeconds: number): void {
    if (this.options.disconnectOnTokenExpiry === false) return;
    const delay = expiresAtSeconds * 1000 - Date.now();
    if (delay > MAX_TIMER_MS) return;
    session.expiryTimer = setTimeout(() => session.cut('token expired (its et passed)'), Math.max(delay, 0));
    session.expiryTimer.unref();
  }

  private onClientDisconnect(client: Client): void {
    const session = this.sessionOf.get(client);
    if (!session || session.closed) return;
    session.closed = true;
    clearTimeout(session.expiryTimer);
    if (this.sessions.get(session.deviceKey) === session) this.sessions.delete(session.deviceKey);
    const { productId, deviceName } = session;
    if (session.kicked) {
      this.stats.kicks++;
      this.log?.(`kicked ${describeDevice(session.device)}: a newer login of the same device`);
      this.emit('kicked', { productId, deviceName });
    }
    const reason = session.closeReason ?? 'the device closed the connection';
    this.log?.(`disconnect ${describeDevice(session.device)}: ${reason}`);
    this.emit('client-disconnected', { productId, deviceName, reason });
  }

  // SUBSCRIBE ----------------------------------------------------------------------------------

  private authorizeSubscribe(client: Client, subscription: Subscription): Subscription | null {
    const session = this.sessionOf.get(client);
    if (!session || session.closed) return null;
    const filter = subscription.topic;
    const cap = this.options.maxSubscriptionsPerSession ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION;
    const reason =
      filterRefusal(session.productId, session.deviceName, filter) ??
      (!session.granted.has(filter) && session.granted.size >= cap
        ? `the session already holds ${cap} subscriptions (§1.4)`
        : undefined);
    if (reason !== undefined) {
      this.log?.(`subscribe ${describeDevice(session.device)} refused ${filter}: ${reason} → SUBACK 0x80`);
      return null;
    }
    session.grant(filter);
    return { ...subscription, qos: 0 };
  }

  private onSubscribed(subscriptions: Subscription[], client: Client): void {
    const session = this.sessionOf.get(client);
    if (!session) return;
    const filters = subscriptions
      .filter((subscription) => (subscription.qos as number) !== 128)
      .map((subscription) => subscription.topic);
    if (filters.length === 0) return;
    this.log?.(`subscribe ${describeDevice(session.device)} granted ${filters.join(', ')}`);
    this.emit('subscribed', { productId: session.productId, deviceName: session.deviceName, filters });
  }

  // PUBLISH ------------------------------------------------------------------------------------

  private authorizePublish(
    client: Client | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    const session = client ? this.sessionOf.get(client) : undefined;
    if (!session || session.closed) {
      done(new Error('publish outside a session'));
      return;
    }
    const problem = this.publishViolation(session, packet);
    if (typeof problem === 'string') {
      session.closeReason ??= problem;
      done(new Error(problem)); // aedes closes the connection on an authorizePublish error
      return;
    }
    const limiter = this.limiterFor(session.deviceKey);
    const delay = limiter ? limiter.delayFor(Date.now()) : 0;
    if (delay === 0) {
      done(null);
      this.handleUplink(session, problem, packet);
      return;
    }
    this.log?.(`rate limit: ${describeDevice(session.device)} uplink held ${delay} ms (§1.4)`);
    this.later(delay, () => {
      if (session.closed) {
        done(new Error('session closed'));
        return;
      }
      done(null);
      this.handleUplink(session, problem, packet);
    });
  }

  /** Returns the parsed own topic, or the reason the publish disconnects the device (§1.3, §1.5). */
  private publishViolation(session: Session, packet: PublishPacket): TopicAddress | string {
    if (packet.qos === 2) return 'QoS 2 publish; OneNET accepts QoS 0 and 1 only';
    if (packet.retain) return 'retained publish; OneNET requires retain 0';
    if (packet.dup && packet.qos === 0) return 'DUP flag on a QoS 0 publish';
    const size =
      typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length;
    if (size > MAX_PAYLOAD_BYTES) return `payload of ${size} bytes exceeds OneNET's ${MAX_PAYLOAD_BYTES}`;
    const known = session.topics.get(packet.topic);
    if (known) return known;
    const parsed = parseTopic(packet.topic);
    if (!parsed.ours) return `publish to ${packet.topic}: ${parsed.reason}`;
    if (parsed.productId !== session.productId || parsed.deviceName !== session.deviceName) {
      return `publish to ${packet.topic}, another device's topic`;
    }
    if (topicDirection(parsed.kind) !== 'up')
      return `publish to ${packet.topic}, a topic only the platform publishes`;
    const address: TopicAddress = {
      productId: parsed.productId,
      deviceName: parsed.deviceName,
      kind: parsed.kind,
    };
    if (parsed.identifier !== undefined) address.identifier = parsed.identifier;
    session.topics.set(packet.topic, address);
    return address;
  }

  private limiterFor(deviceKey: string): UplinkRateLimiter | undefined {
    const limit = this.options.uplinkRateLimit;
    if (!limit) return undefined;
    let limiter = this.limiters.get(deviceKey);
    if (!limiter) {
      limiter = new UplinkRateLimiter(limit.perSecond);
      this.limiters.set(deviceKey, limiter);
    }
    return limiter;
  }

  private handleUplink(session: Session, address: TopicAddress, packet: PublishPacket): void {
    const now = Date.now();
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const outcome = interpretUplink(address.kind, payload, this.registry.thingModelOf(session.productId));
    const record: UplinkRecord = {
      productId: session.productId,
      deviceName: session.deviceName,
      kind: address.kind,
      topic: packet.topic,
      payload: outcome.payload,
      qos: packet.qos === 1 ? 1 : 0,
      receivedAt: now,
    };
    if (outcome.id !== undefined) record.id = outcome.id;
    this.uplinkLog.push(record);
    this.stats.publishes++;
    this.emit('uplink', record);

    if (outcome.type === 'request') {
      let code = outcome.code;
      if (code === SUCCESS_CODE && this.failCode !== undefined) {
        code = this.failCode;
      } else if (code === SUCCESS_CODE) {
        if (outcome.properties) this.store.recordProperties(session.deviceKey, outcome.properties, now);
        if (outcome.events && outcome.id !== undefined)
          this.store.recordEvents(session.deviceKey, outcome.events, outcome.id, now);
      }
      if (this.log) {
        const detail = outcome.reason
          ? ` refused (${code} ${describeReplyCode(code)}: ${outcome.reason})`
          : '';
        this.log(
          `${address.kind} from ${describeDevice(session.device)} id ${outcome.replyId || '?'} ${preview(outcome.payload)}${detail}`,
        );
      }
      const replyKind = replyKindOf(address.kind)!;
      const msg = code === SUCCESS_CODE ? 'success' : describeReplyCode(code);
      const data = code === SUCCESS_CODE ? outcome.replyData : undefined;
      this.sendReply(session, replyKind, address.identifier, buildReply(outcome.replyId, code, msg, data));
    } else if (outcome.type === 'platform-reply') {
      this.acceptPlatformReply(session, address, outcome.reply, outcome.problem);
    } else {
      this.log?.(`${address.kind} from ${describeDevice(session.device)} ${preview(outcome.payload)}`);
    }
  }

  private acceptPlatformReply(
    session: Session,
    address: TopicAddress,
    reply: ThingReply | undefined,
    problem: string | undefined,
  ): void {
    if (!reply) {
      // Device-log 1027: "set_reply 响应中 id 字段错误或 json 格式错误" (§3.2).
      this.log?.(
        `${address.kind} from ${describeDevice(session.device)} ignored: ${problem ?? 'unreadable'}`,
      );
      return;
    }
    const result = this.pending.settle(reply.id, session.deviceKey, address.kind, address.identifier, reply);
    if (this.log) {
      const note =
        result === 'matched'
          ? ''
          : result === 'late'
            ? ' (after the deadline: ignored, §1.6)'
            : result === 'wrong-topic'
              ? ' (on the wrong reply topic: ignored)'
              : ' (no request with this id: ignored)';
      this.log(
        `${address.kind} from ${describeDevice(session.device)} id ${reply.id} code ${reply.code}${note}`,
      );
    }
    this.emit('reply', {
      productId: session.productId,
      deviceName: session.deviceName,
      kind: address.kind,
      id: reply.id,
      code: reply.code,
    });
  }

  /** Sends a reply to a device request, only when the device subscribed to the reply topic (§1.5). */
  private sendReply(
    session: Session,
    kind: TopicKind,
    identifier: string | undefined,
    reply: ThingReply,
  ): void {
    const address: TopicAddress = { productId: session.productId, deviceName: session.deviceName, kind };
    if (identifier !== undefined) address.identifier = identifier;
    const topic = buildTopic(address);
    if (!session.isSubscribedTo(topic)) {
      // Device-log 1022 "subscription not exist": the data is kept, the reply is not sent.
      this.log?.(`  no reply to ${describeDevice(session.device)}: not subscribed to ${topic} (§1.5)`);
      return;
    }
    const deliver = (): void => {
      if (session.closed) return;
      this.deliver(session, topic, serializeMessage(reply));
      this.log?.(`  reply ${reply.code} → ${describeDevice(session.device)} ${kind} id ${reply.id}`);
      this.emit('downlink', {
        productId: session.productId,
        deviceName: session.deviceName,
        kind,
        topic,
        id: reply.id,
        code: reply.code,
      });
    };
    if (this.replyDelayMs > 0) this.later(this.replyDelayMs, deliver);
    else deliver();
  }

  /** Downlinks are QoS 0, retain 0, straight to the device's connection (§1.3). */
  private deliver(session: Session, topic: string, payload: Buffer): void {
    const packet: PublishPacket = { cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false };
    session.client.publish(packet, () => undefined);
  }

  private request(
    ref: DeviceRef,
    kind: PlatformRequestKind,
    identifier: string | undefined,
    params: unknown,
    inputProblem: () => string | undefined,
    modelProblem: (
      model: NonNullable<ReturnType<DeviceRegistry['thingModelOf']>>,
    ) => ThingModelViolation | undefined,
  ): Promise<ThingReply> {
    try {
      const session = this.sessions.get(deviceKeyOf(ref));
      if (!session) throw new PlatformRequestError(`device ${describeDevice(ref)} is not online`, 308);
      const problem = inputProblem();
      if (problem) throw new PlatformRequestError(problem, 313);
      const model = this.registry.thingModelOf(ref.productId);
      const violation = model && modelProblem(model);
      if (violation) throw new PlatformRequestError(violation.reason, violation.code);
      const address: TopicAddress = { productId: ref.productId, deviceName: ref.deviceName, kind };
      if (identifier !== undefined) address.identifier = identifier;
      const topic = buildTopic(address);
      if (!session.isSubscribedTo(topic)) {
        throw new PlatformRequestError(`device ${describeDevice(ref)} has not subscribed to ${topic}`, 1022);
      }
      const id = this.nextRequestId();
      const payload = serializeMessage(buildRequest(id, params));
      const reply = this.pending.wait(id, session.deviceKey, replyKindOf(kind)!, identifier);
      this.deliver(session, topic, payload);
      this.log?.(`${kind} → ${describeDevice(ref)} id ${id} ${preview(params)}`);
      this.emit('downlink', { productId: ref.productId, deviceName: ref.deviceName, kind, topic, id });
      return reply;
    } catch (error) {
      const failure =
        error instanceof PlatformRequestError
          ? error
          : new PlatformRequestError((error as Error).message, 313);
      this.log?.(`${kind} → ${describeDevice(ref)} not sent: ${failure.message}`);
      return Promise.reject(failure);
    }
  }

  /** A timer the emulator owns, cleared by close(). */
  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }
}
