import type { EventEmitter } from 'node:events';
import {
  MAX_SUB_DEVICES_PER_GATEWAY,
  buildSubPropertyGetRequest,
  buildSubPropertySetRequest,
  buildSubServiceInvokeRequest,
  buildTopic,
  buildTopoChangeRequest,
  invokeReplyMismatch,
  parseSubPropertyGetReply,
  parseSubServiceInvokeReply,
  replyKindOf,
  serializeMessage,
  type SubDeviceIdentity,
  type SubServiceInvokeParams,
  type ThingReply,
  type ThingRequest,
  type TopicKind,
} from '../protocol';
import { GatewayTopology } from './gateway-topology';
import type { GatewayRules, SubDeviceEvent, TopologySyncResult } from './gateway-types';
import { GatewayUplink } from './gateway-uplink';
import { describeDevice, preview } from './log-format';
import { PlatformRequestError, type PendingRequests } from './platform-requests';
import type { ModelVerdict, ProductModel } from './product-model';
import { type DeviceRegistry, deviceKeyOf } from './registry';
import type { Session } from './session';
import type { ClientDisconnectedEvent, DeviceRef, EmulatorDevice, OneNetEmulatorEvents } from './types';

/** The emulator state the gateways work with; OneNetEmulator provides it. */
export interface GatewayPlatformHost {
  readonly registry: DeviceRegistry;
  readonly sessions: ReadonlyMap<string, Session>;
  /** The emulator's waiting platform requests: sub-device replies settle there like direct ones. */
  readonly pending: PendingRequests;
  readonly events: EventEmitter<OneNetEmulatorEvents>;
  readonly log: ((line: string) => void) | undefined;
  readonly rules: GatewayRules;
  /** The platform's message ids, shared with every other platform request. */
  nextRequestId(): string;
}

type SubCommandKind = 'sub-property-set' | 'sub-property-get' | 'sub-service-invoke';

function identityOf(ref: DeviceRef): SubDeviceIdentity {
  return { productID: ref.productId, deviceName: ref.deviceName };
}

function copy(ref: DeviceRef): DeviceRef {
  return { productId: ref.productId, deviceName: ref.deviceName };
}

/**
 * The platform side of gateways (shared/onenet-next.md §Q2): declaring gateways and console
 * bindings, the sub-device commands `sub/property/set|get` and `sub/service/invoke` with OneNET's
 * 5 s deadline, the topology push `sub/topo/change`, and what a gateway's disconnect does to its
 * sub-devices' logins. The gateway's own requests are GatewayUplink's.
 */
export class GatewayPlatform {
  readonly topology = new GatewayTopology();
  readonly uplink: GatewayUplink;
  private readonly syncResults = new Map<string, TopologySyncResult>();

  constructor(private readonly host: GatewayPlatformHost) {
    this.uplink = new GatewayUplink({
      registry: host.registry,
      topology: this.topology,
      rules: host.rules,
      syncResults: this.syncResults,
      changed: (gateway, sub, change, cause) => this.changed(gateway, sub, change, cause),
    });
  }

  /** Declares gateways, then binds the sub-devices that name one (a console binding, §2.1). */
  addDevices(devices: readonly EmulatorDevice[]): void {
    for (const device of devices) if (device.nodeType === 'gateway') this.topology.declareGateway(device);
    for (const device of devices) if (device.gateway) this.bind(device.gateway, device, 'console');
  }

  forget(ref: DeviceRef): void {
    const parent = this.topology.parentOf(ref);
    for (const sub of this.topology.forget(ref)) this.changed(ref, sub, 'unbound', 'gateway removed');
    if (parent !== undefined) {
      const [productId, deviceName] = parent.split('/') as [string, string];
      this.changed({ productId, deviceName }, ref, 'unbound', 'device removed');
    }
  }

  subDevices(gateway: DeviceRef): DeviceRef[] {
    return this.topology.subDevices(gateway);
  }

  loggedIn(gateway: DeviceRef): DeviceRef[] {
    return this.topology.loggedIn(gateway);
  }

  syncResult(gateway: DeviceRef): TopologySyncResult | undefined {
    const result = this.syncResults.get(deviceKeyOf(gateway));
    return result && { ...result };
  }

  /** A binding made in the console (关联子设备): no message to the gateway. Throws when it breaks a rule. */
  bind(gateway: DeviceRef, sub: DeviceRef, cause = 'console'): void {
    const problem = this.bindingProblem(gateway, sub);
    if (problem)
      throw new Error(`cannot bind ${describeDevice(sub)} to ${describeDevice(gateway)}: ${problem}`);
    const limit = this.host.rules.maxSubDevices ?? MAX_SUB_DEVICES_PER_GATEWAY;
    if (!this.topology.isBound(gateway, sub) && this.topology.count(gateway) >= limit)
      throw new Error(`gateway ${describeDevice(gateway)} has ${limit} sub-devices, the most allowed`);
    if (this.topology.bind(gateway, sub)) this.changed(gateway, sub, 'bound', cause);
  }

  /** An unbinding in the console (解绑), without a push; returns whether it was bound. */
  unbind(gateway: DeviceRef, sub: DeviceRef, cause = 'console'): boolean {
    const wasLoggedIn = this.topology.isLoggedIn(sub);
    if (!this.topology.unbind(gateway, sub)) return false;
    if (wasLoggedIn) this.changed(gateway, sub, 'logged-out', cause);
    this.changed(gateway, sub, 'unbound', cause);
    return true;
  }

  /** After a gateway's session ended: its sub-devices' logins through it end too (GatewayRules). */
  onDisconnected(event: ClientDisconnectedEvent): void {
    if (this.host.rules.logoutOnGatewayDisconnect === false) return;
    const gateway = { productId: event.productId, deviceName: event.deviceName };
    if (!this.topology.isGateway(gateway)) return;
    for (const sub of this.topology.orphanedLogins(gateway)) {
      this.topology.logout(sub);
      this.changed(gateway, sub, 'logged-out', 'gateway disconnected');
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Platform requests

  setSubProperty(gateway: DeviceRef, sub: DeviceRef, params: Record<string, unknown>): Promise<ThingReply> {
    return this.command(
      gateway,
      sub,
      'sub-property-set',
      (id) => buildSubPropertySetRequest(id, identityOf(sub), params),
      (model) => model.propertySet(params),
    );
  }

  getSubProperty(gateway: DeviceRef, sub: DeviceRef, identifiers: string[]): Promise<ThingReply> {
    return this.command(
      gateway,
      sub,
      'sub-property-get',
      (id) => buildSubPropertyGetRequest(id, identityOf(sub), identifiers),
      (model) => model.propertyGet(identifiers),
      (reply) => {
        const parsed = parseSubPropertyGetReply(JSON.stringify(reply));
        return parsed.ok ? undefined : parsed.reason;
      },
    );
  }

  invokeSubService(
    gateway: DeviceRef,
    sub: DeviceRef,
    identifier: string,
    input: Record<string, unknown>,
  ): Promise<ThingReply> {
    let request: SubServiceInvokeParams | undefined;
    return this.command(
      gateway,
      sub,
      'sub-service-invoke',
      (id) => {
        const built = buildSubServiceInvokeRequest(id, identityOf(sub), identifier, input);
        request = built.params;
        return built;
      },
      (model) => model.serviceInvoke(identifier, input),
      (reply) => {
        const parsed = parseSubServiceInvokeReply(JSON.stringify(reply));
        if (!parsed.ok) return parsed.reason;
        return parsed.value.data && request ? invokeReplyMismatch(request, parsed.value.data) : undefined;
      },
    );
  }

  /**
   * The console's change of the gateway's sub-devices followed by 同步拓扑关系至网关: the store takes
   * `subList` (the full list) at once, then `sub/topo/change` is pushed and its `change_reply`
   * awaited. Sub-devices left out are unbound (and logged out). A gateway that is offline or not
   * subscribed still gets the change in the store; the push then fails with 308 or 1022.
   */
  changeTopology(gateway: DeviceRef, subList: readonly DeviceRef[]): Promise<ThingReply> {
    try {
      this.assertGateway(gateway);
      let request: ThingRequest<unknown> | undefined;
      const id = this.host.nextRequestId();
      try {
        request = buildTopoChangeRequest(id, subList.map(identityOf));
      } catch (error) {
        throw new PlatformRequestError((error as Error).message, 313);
      }
      const limit = this.host.rules.maxSubDevices ?? MAX_SUB_DEVICES_PER_GATEWAY;
      if (subList.length > limit)
        throw new PlatformRequestError(
          `${subList.length} sub-devices; a gateway holds at most ${limit}`,
          313,
        );
      for (const sub of subList) {
        const problem = this.bindingProblem(gateway, sub);
        if (problem) throw new PlatformRequestError(`${describeDevice(sub)}: ${problem}`, 313);
      }
      const wanted = new Set(subList.map(deviceKeyOf));
      for (const sub of this.topology.subDevices(gateway))
        if (!wanted.has(deviceKeyOf(sub))) this.unbind(gateway, sub, 'sub/topo/change');
      for (const sub of subList)
        if (this.topology.bind(gateway, sub)) this.changed(gateway, copy(sub), 'bound', 'sub/topo/change');
      return this.send(gateway, 'sub-topo-change', id, request);
    } catch (error) {
      return this.failed(gateway, 'sub-topo-change', error);
    }
  }

  private command(
    gateway: DeviceRef,
    sub: DeviceRef,
    kind: SubCommandKind,
    build: (id: string) => ThingRequest<unknown>,
    modelProblem: (model: ProductModel) => ModelVerdict | undefined,
    replyProblem?: (reply: ThingReply) => string | undefined,
  ): Promise<ThingReply> {
    try {
      this.assertGateway(gateway);
      if (!this.topology.isBound(gateway, sub))
        throw new PlatformRequestError(
          `${describeDevice(sub)} is not a sub-device of gateway ${describeDevice(gateway)}`,
          307,
        );
      const id = this.host.nextRequestId();
      let request: ThingRequest<unknown>;
      try {
        request = build(id);
      } catch (error) {
        throw new PlatformRequestError((error as Error).message, 313);
      }
      const model = this.host.registry.thingModelOf(sub.productId);
      const violation = model && modelProblem(model);
      if (violation) throw new PlatformRequestError(violation.reason, violation.code);
      return this.send(gateway, kind, id, request).then((reply) => {
        const problem = reply.code === 200 ? replyProblem?.(reply) : undefined;
        // 304 "response error": a successful reply that breaks the documented shape (§2.3 step 7).
        if (problem)
          throw new PlatformRequestError(`${kind} reply of ${describeDevice(gateway)}: ${problem}`, 304);
        return reply;
      });
    } catch (error) {
      return this.failed(gateway, kind, error);
    }
  }

  /** Publishes on the gateway's own topic and waits for the reply there (§1.6 deadline). */
  private send(
    gateway: DeviceRef,
    kind: TopicKind,
    id: string,
    request: ThingRequest<unknown>,
  ): Promise<ThingReply> {
    const session = this.host.sessions.get(deviceKeyOf(gateway));
    if (!session) throw new PlatformRequestError(`gateway ${describeDevice(gateway)} is not online`, 308);
    const topic = buildTopic({ productId: gateway.productId, deviceName: gateway.deviceName, kind });
    if (!session.isSubscribedTo(topic))
      throw new PlatformRequestError(
        `gateway ${describeDevice(gateway)} has not subscribed to ${topic}`,
        1022,
      );
    const reply = this.host.pending.wait(id, session.deviceKey, replyKindOf(kind)!, undefined);
    session.deliver(topic, serializeMessage(request));
    this.host.log?.(`${kind} → ${describeDevice(gateway)} id ${id} ${preview(request.params)}`);
    this.host.events.emit('downlink', { ...copy(gateway), kind, topic, id });
    return reply;
  }

  private failed(gateway: DeviceRef, kind: TopicKind, error: unknown): Promise<never> {
    const failure =
      error instanceof PlatformRequestError ? error : new PlatformRequestError((error as Error).message, 313);
    this.host.log?.(`${kind} → ${describeDevice(gateway)} not sent: ${failure.message}`);
    return Promise.reject(failure);
  }

  private assertGateway(gateway: DeviceRef): void {
    if (!this.topology.isGateway(gateway))
      throw new PlatformRequestError(`${describeDevice(gateway)} is not a gateway`, 313);
  }

  /** Why `sub` cannot be bound to `gateway`, or undefined. */
  private bindingProblem(gateway: DeviceRef, sub: DeviceRef): string | undefined {
    if (!this.topology.isGateway(gateway)) return `${describeDevice(gateway)} is not a gateway`;
    if (!this.host.registry.hasDevice(sub)) return 'no such device';
    if (this.topology.isGateway(sub)) return 'a gateway cannot be a sub-device';
    const parent = this.topology.parentOf(sub);
    if (parent !== undefined && parent !== deviceKeyOf(gateway)) return `it is bound to gateway ${parent}`;
    return undefined;
  }

  private changed(gateway: DeviceRef, sub: DeviceRef, change: SubDeviceEvent['change'], cause: string): void {
    this.host.log?.(`sub-device ${describeDevice(sub)} of ${describeDevice(gateway)}: ${change} (${cause})`);
    this.host.events.emit('sub-device', { gateway: copy(gateway), subDevice: copy(sub), change, cause });
  }
}
