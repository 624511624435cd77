import type { EventEmitter } from 'node:events';
import { MAX_PAYLOAD_BYTES, buildTopic, isValidMessageId } from '../protocol';
import { describeDevice, previewBytes } from './log-format';
import { PendingRequests, PlatformRequestError } from './platform-requests';
import { deviceKeyOf } from './registry';
import type { Session } from './session';
import type { CustomCommandReply, DeviceRef, OneNetEmulatorEvents } from './types';

/** The emulator state custom commands work with; OneNetEmulator provides it. */
export interface CustomCommandHost {
  /** Live sessions by device key. */
  readonly sessions: ReadonlyMap<string, Session>;
  readonly events: EventEmitter<OneNetEmulatorEvents>;
  readonly log: ((line: string) => void) | undefined;
  /** The platform's message ids, shared with the thing-model requests so no two are alike. */
  nextRequestId(): string;
}

/**
 * Custom (透传) commands, §3 row 21 ([DOC-IOT] device-connect&manager/script/example-mqtt.md): the
 * platform publishes the product's own bytes on `custome/down/{id}` (QoS 0, like every downlink, §1.3)
 * and the device answers on `custome/down_reply/{id}`, "topic中的消息id，应与收到命令请求中的id保持对应关系".
 * On OneNET a data-parsing script makes those bytes from a property set or service call; the emulator
 * has no script, so the caller hands it the bytes.
 */
export class CustomCommands {
  private readonly pending: PendingRequests<CustomCommandReply>;

  constructor(
    private readonly host: CustomCommandHost,
    deadlineMs: number,
  ) {
    this.pending = new PendingRequests(deadlineMs);
  }

  /** Publishes a command; resolves with the device's reply, or rejects with a PlatformRequestError. */
  send(ref: DeviceRef, payload: Buffer | string, id?: string): Promise<CustomCommandReply> {
    try {
      const session = this.host.sessions.get(deviceKeyOf(ref));
      if (!session) throw new PlatformRequestError(`device ${describeDevice(ref)} is not online`, 308);
      if (!Buffer.isBuffer(payload) && typeof payload !== 'string')
        throw new PlatformRequestError('the command payload must be a Buffer or a string', 313);
      const bytes = Buffer.from(payload);
      // OneNET documents no limit for custom commands; the emulator holds them to the uplink limit.
      if (bytes.length > MAX_PAYLOAD_BYTES)
        throw new PlatformRequestError(`payload of ${bytes.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`, 313);
      // The topic's {id} is a message id (消息id): a numeric string of at most 13 digits (§1.6).
      if (id !== undefined && !isValidMessageId(id))
        throw new PlatformRequestError(
          `command id ${JSON.stringify(id)} is not a numeric string of at most 13 digits`,
          313,
        );
      if (id !== undefined && this.pending.isWaiting(id))
        throw new PlatformRequestError(`a command with id ${id} still waits for its reply`, 1025);
      const commandId = id ?? this.host.nextRequestId();
      const topic = buildTopic({ ...deviceOf(ref), kind: 'custom-down', identifier: commandId });
      if (!session.isSubscribedTo(topic)) {
        // §1.5: only subscribed topics are delivered; the doc asks devices for `custome/down/+`.
        throw new PlatformRequestError(`device ${describeDevice(ref)} has not subscribed to ${topic}`, 1022);
      }
      const reply = this.pending.wait(commandId, session.deviceKey, 'custom-down-reply', commandId);
      session.deliver(topic, bytes);
      this.host.log?.(`custom-down → ${describeDevice(ref)} id ${commandId} ${previewBytes(bytes)}`);
      this.host.events.emit('downlink', { ...deviceOf(ref), kind: 'custom-down', topic, id: commandId });
      return reply;
    } catch (error) {
      const failure =
        error instanceof PlatformRequestError
          ? error
          : new PlatformRequestError((error as Error).message, 313);
      this.host.log?.(`custom-down → ${describeDevice(ref)} not sent: ${failure.message}`);
      return Promise.reject(failure);
    }
  }

  /** A device's `custome/down_reply/{id}`: settles the command with that id, or is logged and ignored. */
  acceptReply(session: Session, id: string, payload: Buffer): void {
    const result = this.pending.settle(id, session.deviceKey, 'custom-down-reply', id, { id, payload });
    if (!this.host.log) return;
    const note =
      result === 'matched'
        ? ''
        : result === 'late'
          ? ' (after the deadline: ignored, §1.6)'
          : ' (no command with this id: ignored)';
    this.host.log(
      `custom-down-reply from ${describeDevice(session.device)} id ${id} ${previewBytes(payload)}${note}`,
    );
  }

  rejectAll(error: Error): void {
    this.pending.rejectAll(error);
  }
}

function deviceOf(ref: DeviceRef): DeviceRef {
  return { productId: ref.productId, deviceName: ref.deviceName };
}
