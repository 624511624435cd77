import type { EventEmitter } from 'node:events';
import {
  buildRequest,
  buildTopic,
  identifierError,
  isPlainObject,
  replyKindOf,
  serializeMessage,
  valueError,
  type ThingReply,
  type TopicAddress,
} from '../protocol';
import type { DesiredStore } from './desired-store';
import { describeDevice, preview } from './log-format';
import { PlatformRequestError, type PendingRequests } from './platform-requests';
import type { ModelVerdict, ProductModel } from './product-model';
import { deviceKeyOf, type DeviceRegistry } from './registry';
import type { Session } from './session';
import type { DesiredSetResult, DeviceRef, OneNetEmulatorEvents, PlatformRequestKind } from './types';

/** The emulator state the platform's requests to a device work with; OneNetEmulator provides it. */
export interface DevicePlatformHost {
  /** Live sessions by device key. */
  readonly sessions: ReadonlyMap<string, Session>;
  readonly registry: DeviceRegistry;
  readonly desired: DesiredStore;
  readonly pending: PendingRequests;
  readonly events: EventEmitter<OneNetEmulatorEvents>;
  readonly log: ((line: string) => void) | undefined;
  /** The platform's message ids, shared with every other platform request so no two are alike. */
  nextRequestId(): string;
}

/**
 * What the console or the application API asks of a directly connected device (§1.6, §3.1 items 2,
 * 3, 7): property set and get and service invoke, each checked as OneNET checks it (the input, then
 * the product's thing model) before it is published, and answered by the device within the deadline
 * (PendingRequests); and desired values (§Q4), kept whether the device is online or not.
 */
export class DevicePlatform {
  constructor(private readonly host: DevicePlatformHost) {}

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
      (model) => model.propertySet(params),
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
      (model) => model.propertyGet(identifiers),
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
      (model) => model.serviceInvoke(identifier, input),
    );
  }

  /**
   * Sets desired values (期望值) as the console or the application API does; online, the device also
   * gets them at once as a property set. The rules, and what is UNCONFIRMED: desired-store.ts.
   */
  async setDesired(ref: DeviceRef, values: Record<string, unknown>): Promise<DesiredSetResult> {
    if (!isPlainObject(values) || Object.keys(values).length === 0)
      throw new PlatformRequestError('desired values must be a non-empty object', 313);
    for (const [identifier, value] of Object.entries(values)) {
      const error = identifierError(identifier) ?? valueError(value, `values.${identifier}`);
      if (error) throw new PlatformRequestError(error, 313);
    }
    if (!this.host.registry.hasDevice(ref))
      throw new PlatformRequestError(`device ${describeDevice(ref)} does not exist`, 313);
    const violation = this.host.registry.thingModelOf(ref.productId)?.propertySet(values);
    if (violation) throw new PlatformRequestError(violation.reason, violation.code);
    const versions = this.host.desired.set(deviceKeyOf(ref), values);
    this.host.log?.(
      `desired values of ${describeDevice(ref)} set ${preview(values)} versions ${preview(versions)}`,
    );
    if (!this.host.sessions.has(deviceKeyOf(ref))) return { versions, online: false };
    try {
      return { versions, online: true, reply: await this.setProperty(ref, values) };
    } catch (error) {
      const failure = error as PlatformRequestError;
      return { versions, online: true, pushError: { message: failure.message, code: failure.code } };
    }
  }

  private request(
    ref: DeviceRef,
    kind: PlatformRequestKind,
    identifier: string | undefined,
    params: unknown,
    inputProblem: () => string | undefined,
    modelProblem: (model: ProductModel) => ModelVerdict | undefined,
  ): Promise<ThingReply> {
    try {
      const session = this.host.sessions.get(deviceKeyOf(ref));
      if (!session) throw new PlatformRequestError(`device ${describeDevice(ref)} is not online`, 308);
      const problem = inputProblem();
      if (problem) throw new PlatformRequestError(problem, 313);
      const model = this.host.registry.thingModelOf(ref.productId);
      const violation = model && modelProblem(model);
      if (violation) throw new PlatformRequestError(violation.reason, violation.code);
      const address: TopicAddress = { productId: ref.productId, deviceName: ref.deviceName, kind };
      if (identifier !== undefined) address.identifier = identifier;
      const topic = buildTopic(address);
      if (!session.isSubscribedTo(topic)) {
        throw new PlatformRequestError(`device ${describeDevice(ref)} has not subscribed to ${topic}`, 1022);
      }
      const id = this.host.nextRequestId();
      const payload = serializeMessage(buildRequest(id, params));
      const reply = this.host.pending.wait(id, session.deviceKey, replyKindOf(kind)!, identifier);
      session.deliver(topic, payload);
      this.host.log?.(`${kind} → ${describeDevice(ref)} id ${id} ${preview(params)}`);
      this.host.events.emit('downlink', {
        productId: ref.productId,
        deviceName: ref.deviceName,
        kind,
        topic,
        id,
      });
      return reply;
    } catch (error) {
      const failure =
        error instanceof PlatformRequestError
          ? error
          : new PlatformRequestError((error as Error).message, 313);
      this.host.log?.(`${kind} → ${describeDevice(ref)} not sent: ${failure.message}`);
      return Promise.reject(failure);
    }
  }
}
