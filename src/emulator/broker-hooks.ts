import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Aedes, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes';
import {
  DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
  MAX_FILTERS_PER_SUBSCRIBE,
  MAX_PAYLOAD_BYTES,
  parseTopic,
  topicDirection,
  type TopicAddress,
} from '../protocol';
import { CONNACK_UNACCEPTABLE_PROTOCOL, connectViolation } from './connect-rules';
import { loadAedes } from './load-aedes';
import { describeDevice } from './log-format';
import { forbiddenPacketReason } from './packet-rules';
import { type DeviceRegistry, deviceKeyOf } from './registry';
import { Session } from './session';
import { filterRefusal } from './subscribe-acl';
import type { EmulatorDevice, EmulatorOptions, EmulatorStats, OneNetEmulatorEvents } from './types';
import type { UplinkRateGate } from './uplink-rate';

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

/** The emulator state and callbacks the broker hooks work with; OneNetEmulator provides them. */
export interface BrokerHost {
  readonly options: EmulatorOptions;
  readonly stats: EmulatorStats;
  readonly registry: DeviceRegistry;
  /** Live sessions by device key: the hooks add and remove them. */
  readonly sessions: Map<string, Session>;
  /** Tokens of sessions expired by expireTokens(): the platform treats them as expired from then on. */
  readonly revokedTokens: ReadonlySet<string>;
  /** Where the emulator's public events are emitted. */
  readonly events: EventEmitter<OneNetEmulatorEvents>;
  readonly log: ((line: string) => void) | undefined;
  /** The uplink rate limit: holds or refuses publishes, and knows which devices are banned. */
  readonly rateGate: UplinkRateGate;
  isClosing(): boolean;
  /** A timer the emulator owns, cleared by its close(). */
  later(ms: number, action: () => void): void;
  /** An accepted device publish, once past every check and the rate limit. */
  onUplink(session: Session, address: TopicAddress, packet: PublishPacket): void;
}

/**
 * The aedes broker and its hooks: the connection-level rules of OneNET's acceptor (CONNECT, login,
 * kick, SUBSCRIBE and PUBLISH checks, §1.3–1.5, §2.6). It keeps the sessions in the host up to date
 * and hands accepted publishes back to it.
 */
export class BrokerHooks {
  private broker!: Aedes;
  private readonly sessionOf = new WeakMap<Client, Session>();
  private readonly logins = new WeakMap<Client, Login>();

  constructor(private readonly host: BrokerHost) {}

  /** Creates the aedes broker with every hook; connections come in through accept(). */
  async start(): Promise<void> {
    const aedes = await loadAedes();
    this.broker = await aedes.createBroker({
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

  /** Hands a new connection (plain or TLS) to aedes, unless the emulator is closing. */
  accept(stream: Duplex): void {
    if (this.host.isClosing()) {
      stream.destroy();
      return;
    }
    const client = this.broker.handle(stream);
    this.tapParser(client);
  }

  /**
   * Sees every packet before aedes does, for the rules its hooks cannot express: a SUBSCRIBE with
   * more than 8 filters disconnects, the granted QoS is always 0, and PUBACK, PUBREC, PUBREL,
   * PUBCOMP and the server-only packets disconnect (§1.3, see packet-rules.ts). It also notes a
   * DISCONNECT so the disconnect event can say the device asked for it. Relies on aedes' internal
   * `_parser` (aedes 1.2); without it those rules are skipped, which the test suite would catch.
   */
  private tapParser(client: Client): void {
    const parser = (client as unknown as ParserHolder)._parser;
    parser?.prependListener(
      'packet',
      (packet: {
        cmd: string;
        messageId?: number;
        subscriptions?: Array<{ topic: string; qos: number }>;
      }) => {
        if (packet.cmd === 'subscribe' && packet.subscriptions) {
          for (const subscription of packet.subscriptions) subscription.qos = 0;
          if (packet.subscriptions.length > MAX_FILTERS_PER_SUBSCRIBE) {
            this.cutClient(
              client,
              `SUBSCRIBE with ${packet.subscriptions.length} filters; OneNET allows ${MAX_FILTERS_PER_SUBSCRIBE} per packet`,
            );
          }
        } else if (packet.cmd === 'disconnect') {
          const session = this.sessionOf.get(client);
          if (session) session.closeReason ??= 'the device sent DISCONNECT';
        } else {
          // Destroying the connection here, before aedes sees the packet, also keeps aedes from
          // answering a PUBREC or PUBREL with the next step of a QoS 2 handshake.
          const reason = forbiddenPacketReason(packet.cmd, packet.messageId);
          if (reason !== undefined) this.cutClient(client, reason);
        }
      },
    );
  }

  /** Closes a connection for a rule it broke; the session's disconnect log line says which. */
  private cutClient(client: Client, reason: string): void {
    const session = this.sessionOf.get(client);
    if (session) session.cut(reason);
    else client.conn.destroy();
  }

  // CONNECT ------------------------------------------------------------------------------------

  private preConnect(
    client: Client,
    packet: ConnectPacket,
    done: (error: Error | null, success: boolean) => void,
  ): void {
    const clientId = packet.clientId ?? '';
    const username = packet.username ?? '';
    const violation = this.host.isClosing()
      ? { answer: 'close' as const, reason: 'the emulator is closing' }
      : connectViolation(packet);
    if (violation) {
      this.refuse(clientId, username, violation.reason, false);
      if (violation.answer === 'connack-1') {
        client.conn.end(CONNACK_UNACCEPTABLE_PROTOCOL);
        this.host.later(REFUSAL_LINGER_MS, () => client.conn.destroy());
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
    const result = this.host.registry.checkLogin(clientId, username, password, Math.floor(Date.now() / 1000));
    const token = password?.toString('utf8') ?? '';
    const reason = !result.ok
      ? result.reason
      : this.host.revokedTokens.has(token)
        ? 'token expired (expireTokens)'
        : // A banned device's login is refused like any other refused login (§2.6; UNCONFIRMED for bans).
          this.host.rateGate.banReason(deviceKeyOf(result.device), Date.now());
    if (reason !== undefined || !login || !result.ok) {
      this.refuse(clientId, username ?? '', reason ?? 'no CONNECT seen', true);
      // §2.6: every authentication failure is CONNACK 4, "bad username or password".
      done(Object.assign(new Error('bad username or password'), { returnCode: 4 as const }), null);
      return;
    }
    login.device = result.device;
    login.token = token;
    login.expiresAt = result.token.et;
    const older = this.host.sessions.get(deviceKeyOf(result.device));
    if (older) {
      older.kicked = true;
      older.closeReason ??= 'kicked: the same device logged in again (§1.3)';
    }
    done(null, true);
  }

  private refuse(clientId: string, username: string, reason: string, authFailure: boolean): void {
    this.host.stats.refusals++;
    if (authFailure) this.host.stats.authFailures++;
    this.host.log?.(
      `refused ${clientId || '(no client id)'} of product ${username || '(none)'}: ${reason}${authFailure ? ' → CONNACK 4' : ''}`,
    );
    this.host.events.emit('client-refused', { clientId, username, reason });
  }

  private onClientRegistered(client: Client): void {
    const login = this.logins.get(client);
    if (!login?.device || login.token === undefined) return;
    this.logins.delete(client);
    const device = login.device;
    const session = new Session(client, device, deviceKeyOf(device), login.token, Date.now());
    this.host.sessions.set(session.deviceKey, session);
    this.sessionOf.set(client, session);
    this.host.stats.connects++;
    this.scheduleTokenExpiry(session, login.expiresAt ?? 0);
    this.host.log?.(`connect ${describeDevice(device)} (keepalive ${login.keepalive} s)`);
    this.host.events.emit('client-connected', {
      productId: device.productId,
      deviceName: device.deviceName,
      token: login.token,
    });
  }

  private scheduleTokenExpiry(session: Session, expiresAtSeconds: number): void {
    if (this.host.options.disconnectOnTokenExpiry === false) return;
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
    if (this.host.sessions.get(session.deviceKey) === session) this.host.sessions.delete(session.deviceKey);
    const { productId, deviceName } = session;
    if (session.kicked) {
      this.host.stats.kicks++;
      this.host.log?.(`kicked ${describeDevice(session.device)}: a newer login of the same device`);
      this.host.events.emit('kicked', { productId, deviceName });
    }
    const reason = session.closeReason ?? 'the device closed the connection';
    this.host.log?.(`disconnect ${describeDevice(session.device)}: ${reason}`);
    this.host.events.emit('client-disconnected', { productId, deviceName, reason });
  }

  // SUBSCRIBE ----------------------------------------------------------------------------------

  private authorizeSubscribe(client: Client, subscription: Subscription): Subscription | null {
    const session = this.sessionOf.get(client);
    if (!session || session.closed) return null;
    const filter = subscription.topic;
    const cap = this.host.options.maxSubscriptionsPerSession ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION;
    const reason =
      filterRefusal(session.productId, session.deviceName, filter) ??
      (!session.granted.has(filter) && session.granted.size >= cap
        ? `the session already holds ${cap} subscriptions (§1.4)`
        : undefined);
    if (reason !== undefined) {
      this.host.log?.(
        `subscribe ${describeDevice(session.device)} refused ${filter}: ${reason} → SUBACK 0x80`,
      );
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
    this.host.log?.(`subscribe ${describeDevice(session.device)} granted ${filters.join(', ')}`);
    this.host.events.emit('subscribed', {
      productId: session.productId,
      deviceName: session.deviceName,
      filters,
    });
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
    this.host.rateGate.admit(
      session,
      packet.topic,
      () => {
        done(null);
        this.host.onUplink(session, problem, packet);
      },
      (reason) => done(new Error(reason)), // closes the connection; no PUBACK
    );
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

  /** Closes the broker (after the listeners, so no new connection arrives). */
  async close(): Promise<void> {
    if (this.broker) await new Promise<void>((resolve) => this.broker.close(() => resolve()));
  }
}
