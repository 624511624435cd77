import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  PLATFORM_REPLY_DEADLINE_MS,
  createMessageIdGenerator,
  parseTopic,
  topicDirection,
  type ThingReply,
} from '../protocol';
import { BrokerHooks } from './broker-hooks';
import { CustomCommands } from './custom-commands';
import { DevicePlatform } from './device-platform';
import { DesiredStore } from './desired-store';
import { DeviceStore } from './device-store';
import { Listener } from './listener';
import { describeDevice } from './log-format';
import { PendingRequests, PlatformRequestError } from './platform-requests';
import { DeviceRegistry, deviceKeyOf } from './registry';
import { RingBuffer } from './ring-buffer';
import type { Session } from './session';
import type {
  ConnectionInfo,
  CustomCommandReply,
  DesiredRecord,
  DesiredSetResult,
  DeviceRef,
  EmulatorDevice,
  EmulatorOptions,
  EmulatorProduct,
  EmulatorStats,
  EventRecord,
  OneNetEmulatorEvents,
  PropertyHistoryRecord,
  PropertyRecord,
  RateViolationRecord,
  UplinkRecord,
} from './types';
import { UplinkHandler } from './uplink-handler';
import { checkBatchRules } from './batch-uplink';
import { UplinkRateGate } from './uplink-rate';
import { GatewayPlatform } from './gateway-platform';
import type { TopologySyncResult } from './gateway-types';

/**
 * An emulated OneNET thing-model MQTT acceptor on a real broker (aedes). Rules and their sources:
 * shared/onenet-protocol.md §1.3–1.6, §2, §3, §7; usage: docs/emulator.md.
 *
 * Events: 'client-connected', 'client-refused', 'client-disconnected', 'kicked', 'uplink', 'reply',
 * 'subscribed', 'downlink', 'rate-limited', 'sub-device' (payload types in ./types).
 */
export class OneNetEmulator extends EventEmitter<OneNetEmulatorEvents> {
  readonly host: string;
  readonly stats: EmulatorStats = {
    connects: 0,
    authFailures: 0,
    kicks: 0,
    publishes: 0,
    refusals: 0,
    rateViolations: 0,
  };

  private readonly registry = new DeviceRegistry();
  private readonly store: DeviceStore;
  private readonly desired = new DesiredStore();
  private readonly uplinkLog: RingBuffer<UplinkRecord>;
  private readonly sessions = new Map<string, Session>();
  private readonly pending: PendingRequests;
  private readonly nextRequestId = createMessageIdGenerator();
  /** Tokens of sessions expired by expireTokens(): the platform treats them as expired from then on. */
  private readonly revokedTokens = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly plain: Listener;
  private readonly secure: Listener | undefined;
  private readonly log: ((line: string) => void) | undefined;
  private readonly broker: BrokerHooks;
  private readonly uplinkHandler: UplinkHandler;
  private readonly customCommands: CustomCommands;
  private readonly rateGate: UplinkRateGate;
  private readonly gateways: GatewayPlatform;
  private readonly platform: DevicePlatform;
  private closing = false;

  private constructor(private readonly options: EmulatorOptions) {
    super();
    this.host = options.host ?? '127.0.0.1';
    this.log = options.log;
    this.store = new DeviceStore(options.eventLogLimit ?? 1000, options.propertyHistoryLimit ?? 10_000);
    checkBatchRules(options.batchPosts);
    this.uplinkLog = new RingBuffer(options.uplinkLogLimit ?? 10_000);
    this.pending = new PendingRequests(options.replyDeadlineMs ?? PLATFORM_REPLY_DEADLINE_MS);
    this.customCommands = new CustomCommands(
      {
        sessions: this.sessions,
        events: this,
        log: this.log,
        nextRequestId: () => this.nextRequestId(),
      },
      options.replyDeadlineMs ?? PLATFORM_REPLY_DEADLINE_MS,
    );
    this.platform = new DevicePlatform({
      sessions: this.sessions,
      registry: this.registry,
      desired: this.desired,
      pending: this.pending,
      events: this,
      log: this.log,
      nextRequestId: () => this.nextRequestId(),
    });
    this.uplinkHandler = new UplinkHandler({
      stats: this.stats,
      registry: this.registry,
      store: this.store,
      desired: this.desired,
      uplinkLog: this.uplinkLog,
      pending: this.pending,
      customCommands: this.customCommands,
      events: this,
      log: this.log,
      batchRules: options.batchPosts,
      later: (ms, action) => this.later(ms, action),
    });
    this.gateways = new GatewayPlatform({
      registry: this.registry,
      sessions: this.sessions,
      pending: this.pending,
      events: this,
      log: this.log,
      rules: options.gateways ?? {},
      nextRequestId: () => this.nextRequestId(),
    });
    this.uplinkHandler.interpretGateway = (session, kind, payload) =>
      this.gateways.uplink.interpret(session, kind, payload);
    this.uplinkHandler.resolveBatchIdentity = this.gateways.uplink.resolveIdentity;
    // Registered first, so a test's own listener sees the sub-devices logged out already.
    this.on('client-disconnected', (event) => this.gateways.onDisconnected(event));
    this.rateGate = new UplinkRateGate(options.uplinkRateLimit, {
      stats: this.stats,
      events: this,
      log: this.log,
      later: (ms, action) => this.later(ms, action),
    });
    this.broker = new BrokerHooks({
      rateGate: this.rateGate,
      options,
      stats: this.stats,
      registry: this.registry,
      sessions: this.sessions,
      revokedTokens: this.revokedTokens,
      events: this,
      log: this.log,
      isClosing: () => this.closing,
      later: (ms, action) => this.later(ms, action),
      onUplink: (session, address, packet) => this.uplinkHandler.handle(session, address, packet),
    });
    const onConnection = (stream: Duplex): void => this.broker.accept(stream);
    this.plain = new Listener(undefined, onConnection, () => undefined);
    if (options.tls) {
      this.secure = new Listener({ key: options.tls.key, cert: options.tls.cert }, onConnection, (error) =>
        this.log?.(`TLS handshake failed: ${error.message}`),
      );
    }
    this.registry.modelCodes = options.modelReplyCodes ?? {};
    for (const product of options.products ?? []) this.registry.addProduct(product);
    for (const device of options.devices ?? []) this.registry.addDevice(device);
    this.gateways.addDevices(options.devices ?? []);
  }

  /** Starts the broker and its listener(s); resolves once they accept connections. */
  static async start(options: EmulatorOptions = {}): Promise<OneNetEmulator> {
    const emulator = new OneNetEmulator(options);
    await emulator.broker.start();
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
    this.gateways.addDevices([device]);
  }

  /** Forgets the device and closes its session, if any. */
  removeDevice(ref: DeviceRef): void {
    this.registry.removeDevice(ref);
    this.gateways.forget(ref);
    this.sessions.get(deviceKeyOf(ref))?.cut('device removed from the emulator');
  }

  addProduct(product: EmulatorProduct): void {
    this.registry.addProduct(product);
  }

  // ---------------------------------------------------------------------------------------------
  // Platform side (§1.6, §3.1 items 2, 3, 7; custom commands §3 row 21)

  setProperty(ref: DeviceRef, params: Record<string, unknown>): Promise<ThingReply> {
    return this.platform.setProperty(ref, params);
  }

  getProperty(ref: DeviceRef, identifiers: string[]): Promise<ThingReply> {
    return this.platform.getProperty(ref, identifiers);
  }

  invokeService(ref: DeviceRef, identifier: string, input: Record<string, unknown>): Promise<ThingReply> {
    return this.platform.invokeService(ref, identifier, input);
  }

  /**
   * Sends a custom (透传) command: `payload` unchanged on `custome/down/{id}` at QoS 0 (§3 row 21),
   * `id` a fresh message id unless given. Resolves with the device's reply on
   * `custome/down_reply/{id}`; rejects like the requests above (308, 1022, 306, 313, 1025 for an id
   * still waiting).
   */
  sendCustomCommand(ref: DeviceRef, payload: Buffer | string, id?: string): Promise<CustomCommandReply> {
    return this.customCommands.send(ref, payload, id);
  }

  // ---------------------------------------------------------------------------------------------
  // Gateways and sub-devices (onenet-next.md §Q2; gateway-platform.ts, docs/emulator.md)

  /** The sub-devices bound to the gateway, in binding order. */
  subDevices(gateway: DeviceRef): DeviceRef[] {
    return this.gateways.subDevices(gateway);
  }

  /** Its bound sub-devices that are logged in (sub/login). */
  loggedInSubDevices(gateway: DeviceRef): DeviceRef[] {
    return this.gateways.loggedIn(gateway);
  }

  /** The gateway's last sub/topo/get/result, the console's sync status. */
  topologySyncResult(gateway: DeviceRef): TopologySyncResult | undefined {
    return this.gateways.syncResult(gateway);
  }

  /** Binds as the console does (关联子设备), without telling the gateway; throws when a rule forbids it. */
  bindSubDevice(gateway: DeviceRef, subDevice: DeviceRef): void {
    this.gateways.bind(gateway, subDevice);
  }

  /** Unbinds as the console does (解绑), without telling the gateway; returns whether it was bound. */
  unbindSubDevice(gateway: DeviceRef, subDevice: DeviceRef): boolean {
    return this.gateways.unbind(gateway, subDevice);
  }

  /** sub/property/set through the gateway; rejects like setProperty, 307 when not its sub-device. */
  setSubProperty(
    gateway: DeviceRef,
    subDevice: DeviceRef,
    params: Record<string, unknown>,
  ): Promise<ThingReply> {
    return this.gateways.setSubProperty(gateway, subDevice, params);
  }

  /** sub/property/get through the gateway (at most 50 identifiers). */
  getSubProperty(gateway: DeviceRef, subDevice: DeviceRef, identifiers: string[]): Promise<ThingReply> {
    return this.gateways.getSubProperty(gateway, subDevice, identifiers);
  }

  /** sub/service/invoke through the gateway; the reply must echo the sub-device and identifier (else 304). */
  invokeSubService(
    gateway: DeviceRef,
    subDevice: DeviceRef,
    identifier: string,
    input: Record<string, unknown>,
  ): Promise<ThingReply> {
    return this.gateways.invokeSubService(gateway, subDevice, identifier, input);
  }

  /** Sets the gateway's full sub-device list, pushes sub/topo/change and resolves with its change_reply. */
  changeTopology(gateway: DeviceRef, subList: DeviceRef[]): Promise<ThingReply> {
    return this.gateways.changeTopology(gateway, subList);
  }

  /**
   * Sets desired values (期望值) as the console or the application API does; online, the device also
   * gets them at once as a property set (device-platform.ts).
   */
  setDesired(ref: DeviceRef, values: Record<string, unknown>): Promise<DesiredSetResult> {
    return this.platform.setDesired(ref, values);
  }

  /** The desired values the platform keeps for the device, with their versions. */
  desiredValues(ref: DeviceRef): Record<string, DesiredRecord> {
    return this.desired.valuesOf(deviceKeyOf(ref));
  }

  latestProperties(ref: DeviceRef): Record<string, PropertyRecord> {
    return this.store.latestOf(deviceKeyOf(ref));
  }

  eventLog(ref: DeviceRef): EventRecord[] {
    return this.store.eventsOf(deviceKeyOf(ref));
  }

  /**
   * Every property value the platform stored for the device, with its time, in arrival order,
   * whichever topic carried it (property/post, pack/post, history/post); one identifier's only when
   * given. At most `propertyHistoryLimit` per device, oldest dropped first.
   */
  propertyHistory(ref: DeviceRef, identifier?: string): PropertyHistoryRecord[] {
    return this.store.historyOfDevice(deviceKeyOf(ref), identifier);
  }

  /** Accepted device publishes, oldest first (at most `uplinkLogLimit` overall). */
  uplinks(ref?: DeviceRef): UplinkRecord[] {
    const all = this.uplinkLog.toArray();
    if (!ref) return all;
    return all.filter((record) => record.productId === ref.productId && record.deviceName === ref.deviceName);
  }

  /** Publishes beyond the uplink allowance (all devices', or one's), oldest first; see uplinkRateLimit. */
  rateViolations(ref?: DeviceRef): RateViolationRecord[] {
    return this.rateGate.violations(ref);
  }

  /** Until when (ms) the device's logins are refused after a `ban`, or undefined when it is not banned. */
  bannedUntil(ref: DeviceRef): number | undefined {
    return this.rateGate.bannedUntil(deviceKeyOf(ref), Date.now());
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
    this.uplinkHandler.replyDelayMs = ms;
  }

  failReplies(code: number | undefined): void {
    if (code !== undefined && !Number.isSafeInteger(code))
      throw new Error('failReplies code must be an integer');
    this.uplinkHandler.failCode = code;
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
    session.deliver(topic, bytes);
    this.log?.(`raw ${parsed.kind} → ${describeDevice(ref)} (publishRaw, ${bytes.length} bytes)`);
    return true;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const session of this.sessions.values()) session.closeReason ??= 'the emulator closed';
    await Promise.all([this.plain.close(), this.secure?.close()]);
    this.pending.rejectAll(new PlatformRequestError('the emulator closed', 303));
    this.customCommands.rejectAll(new PlatformRequestError('the emulator closed', 303));
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.broker.close();
    this.log?.('closed');
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
