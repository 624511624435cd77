import type { EventEmitter } from 'node:events';
import type { PublishPacket } from 'aedes';
import {
  SUCCESS_CODE,
  buildReply,
  buildTopic,
  describeReplyCode,
  replyKindOf,
  serializeMessage,
  type DesiredDeleteParams,
  type ThingReply,
  type TopicAddress,
  type TopicKind,
} from '../protocol';
import { ownIdentityOnly, type BatchDeviceData, type BatchIdentityResolver } from './batch-uplink';
import type { CustomCommands } from './custom-commands';
import type { DesiredStore } from './desired-store';
import type { DeviceStore } from './device-store';
import { describeDevice, previewBytes } from './log-format';
import type { PendingRequests } from './platform-requests';
import { type DeviceRegistry, deviceKeyOf } from './registry';
import type { RingBuffer } from './ring-buffer';
import type { Session } from './session';
import type { BatchPostRules, EmulatorStats, OneNetEmulatorEvents, UplinkRecord } from './types';
import { interpretUplink, type UplinkOutcome } from './uplink';

/** The emulator state and callbacks the uplink handler works with; OneNetEmulator provides them. */
export interface UplinkHost {
  readonly stats: EmulatorStats;
  readonly registry: DeviceRegistry;
  readonly store: DeviceStore;
  /** The desired values (期望值) desired/get answers from and desired/delete clears. */
  readonly desired: DesiredStore;
  readonly uplinkLog: RingBuffer<UplinkRecord>;
  readonly pending: PendingRequests;
  readonly customCommands: CustomCommands;
  /** Where the emulator's public events are emitted. */
  readonly events: EventEmitter<OneNetEmulatorEvents>;
  readonly log: ((line: string) => void) | undefined;
  /** Limits and codes of pack/post and history/post (EmulatorOptions.batchPosts). */
  readonly batchRules: BatchPostRules | undefined;
  /** A timer the emulator owns, cleared by its close(). */
  later(ms: number, action: () => void): void;
}

/**
 * What happens to a device publish the broker accepted (§1.6, §3): it is logged, its data stored,
 * a device request answered on its reply topic, a reply to a platform request settled.
 */
export class UplinkHandler {
  /** Fault hook setReplyDelay(): how long replies to device requests are held back. */
  replyDelayMs = 0;
  /** Fault hook failReplies(): the code every otherwise successful device request is answered with. */
  failCode: number | undefined;
  /**
   * Who a batch entry's `identity` may name. Today a device's own identity only; gateway
   * sub-devices (a later issue) plug in here with a resolver that also allows bound sub-devices.
   */
  resolveBatchIdentity: BatchIdentityResolver = ownIdentityOnly;
  /** Gateway requests (sub/topo/*, sub/login|logout; gateway-uplink.ts): an outcome, or undefined for other kinds. */
  interpretGateway:
    ((session: Session, kind: TopicKind, payload: Buffer) => UplinkOutcome | undefined) | undefined;

  constructor(private readonly host: UplinkHost) {}

  /** Records an accepted device publish, then answers a device request or settles a platform request. */
  handle(session: Session, address: TopicAddress, packet: PublishPacket): void {
    const now = Date.now();
    // A copy: aedes' payload may be a view into a larger socket buffer it goes on using.
    const payload = Buffer.from(packet.payload);
    const registry = this.host.registry;
    const batch =
      address.kind === 'pack-post' || address.kind === 'history-post'
        ? {
            self: session.device,
            modelOf: (productId: string) => registry.thingModelOf(productId),
            rules: this.host.batchRules,
            resolveIdentity: this.resolveBatchIdentity,
          }
        : undefined;
    const outcome =
      this.interpretGateway?.(session, address.kind, payload) ??
      interpretUplink(address.kind, payload, registry.thingModelOf(session.productId), batch);
    const record: UplinkRecord = {
      productId: session.productId,
      deviceName: session.deviceName,
      kind: address.kind,
      topic: packet.topic,
      payload: outcome.payload,
      payloadBytes: payload,
      qos: packet.qos === 1 ? 1 : 0,
      receivedAt: now,
    };
    // A custom command's id is in its reply topic (custome/down_reply/{id}), not in its bytes.
    const id = outcome.type === 'custom' ? address.identifier : outcome.id;
    if (id !== undefined) record.id = id;
    this.host.uplinkLog.push(record);
    this.host.stats.publishes++;
    this.host.events.emit('uplink', record);

    if (outcome.type === 'request') {
      let code = outcome.code;
      if (code === SUCCESS_CODE && this.failCode !== undefined) {
        code = this.failCode;
      } else if (code === SUCCESS_CODE) {
        const id = outcome.id ?? '';
        if (outcome.properties)
          this.host.store.recordProperties(session.deviceKey, outcome.properties, now, 'property-post', id);
        if (outcome.events) this.host.store.recordEvents(session.deviceKey, outcome.events, id, now);
        if (outcome.batch) this.storeBatch(address.kind, outcome.batch, id, now);
        outcome.commit?.();
        if (outcome.desiredGet)
          outcome.replyData = this.host.desired.get(session.deviceKey, outcome.desiredGet);
        if (outcome.desiredDelete) this.deleteDesired(session, outcome.desiredDelete);
      }
      if (this.host.log) {
        const detail = outcome.reason
          ? ` refused (${code} ${describeReplyCode(code)}: ${outcome.reason})`
          : '';
        this.host.log(
          `${address.kind} from ${describeDevice(session.device)} id ${outcome.replyId || '?'} ${outcome.logPreview ?? previewBytes(payload)}${detail}`,
        );
      }
      const replyKind = replyKindOf(address.kind)!;
      const msg = code === SUCCESS_CODE ? 'success' : describeReplyCode(code);
      const data = code === SUCCESS_CODE ? outcome.replyData : undefined;
      this.sendReply(session, replyKind, address.identifier, buildReply(outcome.replyId, code, msg, data));
    } else if (outcome.type === 'platform-reply') {
      this.acceptPlatformReply(session, address, outcome.reply, outcome.problem);
    } else if (outcome.type === 'custom' && address.kind === 'custom-down-reply' && address.identifier) {
      this.host.customCommands.acceptReply(session, address.identifier, payload);
    } else {
      // Results, and custom data on custome/up: OneNET answers the latter on custome/up_reply only
      // through a data-parsing script's downlink function ("如果未对平台响应结果进行处理，则平台不会下发响应给
      // 设备", [DOC-IOT] script/example-mqtt.md); the emulator runs no script, so it never answers.
      this.host.log?.(`${address.kind} from ${describeDevice(session.device)} ${previewBytes(payload)}`);
    }
  }

  /**
   * A delete whose version is no longer the latest keeps the newer value and is still answered 200:
   * the documents give no error code for it (onenet-next.md §Q4.2), and the device learns of the newer
   * value by the property set pushed when it was set, or by its next desired get.
   */
  private deleteDesired(session: Session, params: DesiredDeleteParams): void {
    const { cleared, kept } = this.host.desired.delete(session.deviceKey, params);
    if (kept.length > 0)
      this.host.log?.(
        `  desired values of ${describeDevice(session.device)} kept (a newer version is set): ${kept.join(', ')}`,
      );
    if (cleared.length > 0)
      this.host.log?.(`  desired values of ${describeDevice(session.device)} cleared: ${cleared.join(', ')}`);
  }

  /** Every value of a batch post, with its time; events join the event log. */
  private storeBatch(kind: TopicKind, devices: readonly BatchDeviceData[], id: string, now: number): void {
    const store = this.host.store;
    for (const { device, properties, events } of devices) {
      const key = deviceKeyOf(device);
      for (const [identifier, values] of Object.entries(properties)) {
        if (kind === 'pack-post')
          store.recordProperties(key, { [identifier]: values[0]! }, now, 'pack-post', id);
        else store.recordHistory(key, identifier, values, now, id);
      }
      for (const [identifier, values] of Object.entries(events))
        for (const value of values) store.recordEvent(key, identifier, value, id, now);
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
      this.host.log?.(
        `${address.kind} from ${describeDevice(session.device)} ignored: ${problem ?? 'unreadable'}`,
      );
      return;
    }
    const result = this.host.pending.settle(
      reply.id,
      session.deviceKey,
      address.kind,
      address.identifier,
      reply,
    );
    if (this.host.log) {
      const note =
        result === 'matched'
          ? ''
          : result === 'late'
            ? ' (after the deadline: ignored, §1.6)'
            : result === 'wrong-topic'
              ? ' (on the wrong reply topic: ignored)'
              : ' (no request with this id: ignored)';
      this.host.log(
        `${address.kind} from ${describeDevice(session.device)} id ${reply.id} code ${reply.code}${note}`,
      );
    }
    this.host.events.emit('reply', {
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
      this.host.log?.(`  no reply to ${describeDevice(session.device)}: not subscribed to ${topic} (§1.5)`);
      return;
    }
    const deliver = (): void => {
      if (session.closed) return;
      session.deliver(topic, serializeMessage(reply));
      this.host.log?.(`  reply ${reply.code} → ${describeDevice(session.device)} ${kind} id ${reply.id}`);
      this.host.events.emit('downlink', {
        productId: session.productId,
        deviceName: session.deviceName,
        kind,
        topic,
        id: reply.id,
        code: reply.code,
      });
    };
    if (this.replyDelayMs > 0) this.host.later(this.replyDelayMs, deliver);
    else deliver();
  }
}
