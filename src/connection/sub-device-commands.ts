import {
  buildSubPropertyGetReply,
  buildSubPropertySetReply,
  buildSubServiceInvokeReply,
  DEVICE_FAILURE_CODE,
  parseSubDownlink,
  SUB_DEVICE_REPLY_DEADLINE_MS,
  subServiceInvokeReplyData,
  type SubDeviceIdentity,
  type SubDownlinkKind,
  type ThingReply,
} from '../protocol';
import { readableText } from './client-text';
import { OneNetRequestError } from './errors';
import type { GatewayAnswerKind, GatewayRequests } from './gateway-requests';
import type { SubDeviceHandle } from './sub-device-handle';
import type { DownlinkErrorEvent, DownlinkKind, DownlinkRequest, ReplyOutcome } from './types';

/** Requests remembered for their reply; older ones are forgotten first. */
const LEDGER_LIMIT = 10_000;

const KIND_OF: Record<SubDownlinkKind, DownlinkKind> = {
  'sub-property-get': 'property-get',
  'sub-property-set': 'property-set',
  'sub-service-invoke': 'service-invoke',
};

const REPLY_TOPIC_OF: Record<DownlinkKind, GatewayAnswerKind> = {
  'property-get': 'sub-property-get-reply',
  'property-set': 'sub-property-set-reply',
  'service-invoke': 'sub-service-invoke-reply',
};

interface Received {
  kind: DownlinkKind;
  identity: SubDeviceIdentity;
  identifier?: string;
  receivedAt: number;
  replied: boolean;
}

/**
 * The platform's commands to a gateway's sub-devices (onenet-next.md §Q2 §2.3 step 7): parses
 * `sub/property/get|set` and `sub/service/invoke`, hands each to the command handlers of the
 * sub-device its productID + deviceName name, in the shape a direct device's requests have, and
 * answers on the matching `sub/…_reply` topic once (invoke_reply echoes the sub-device and the
 * identifier with `output`). A request no handler takes is answered 100 at once, as Downlinks does.
 */
export class SubDeviceCommands {
  private readonly ledger = new Map<string, Received>();

  constructor(
    private readonly requests: GatewayRequests,
    private readonly report: (event: DownlinkErrorEvent) => void,
    private readonly handleOf: (identity: SubDeviceIdentity) => SubDeviceHandle | undefined,
  ) {}

  handle(kind: SubDownlinkKind, topic: string, payload: Buffer): void {
    const receivedAt = Date.now();
    const parsed = parseSubDownlink(kind, payload);
    const replyKind = REPLY_TOPIC_OF[KIND_OF[kind]];
    if (!parsed.ok) {
      this.report({ topic, reason: parsed.reason, ...(parsed.id === undefined ? {} : { id: parsed.id }) });
      if (parsed.id !== undefined) this.answer(replyKind, failure(parsed.id, parsed.code, parsed.reason));
      return;
    }
    const { id, params } = parsed.request;
    const identity = { productID: params.productID, deviceName: params.deviceName };
    const request: DownlinkRequest =
      parsed.kind === 'sub-property-get'
        ? { kind: 'property-get', id, params: parsed.request.params.params, receivedAt }
        : parsed.kind === 'sub-property-set'
          ? { kind: 'property-set', id, params: parsed.request.params.params, receivedAt }
          : {
              kind: 'service-invoke',
              id,
              identifier: parsed.request.params.identifier,
              params: parsed.request.params.input,
              receivedAt,
            };
    this.remember(id, {
      kind: request.kind,
      identity,
      ...(request.identifier === undefined ? {} : { identifier: request.identifier }),
      receivedAt,
      replied: false,
    });
    const handle = this.handleOf(identity);
    if (handle?.deliver(request)) return;
    const device = `${identity.productID}/${identity.deviceName}`;
    const reason = handle
      ? `no command-in node of sub-device ${device} takes ${request.kind}; answered ${DEVICE_FAILURE_CODE}`
      : `sub-device ${device} is not used by any flow; answered ${DEVICE_FAILURE_CODE}`;
    this.report({ topic, reason, id });
    void this.reply(identity, request, DEVICE_FAILURE_CODE, undefined, 'not handled').catch(() => undefined);
  }

  /** The sub-device's answer to `request`, on its `_reply` topic; late after OneNET's 5 s deadline. */
  async reply(
    identity: SubDeviceIdentity,
    request: { kind: DownlinkKind; id: string; identifier?: string },
    code: number,
    data?: unknown,
    message?: string,
  ): Promise<ReplyOutcome> {
    const received = this.ledger.get(request?.id);
    if (!received || received.kind !== request.kind)
      throw new OneNetRequestError(
        'invalid',
        'reply not sent: no such request from OneNET for this sub-device',
      );
    if (
      received.identity.productID !== identity.productID ||
      received.identity.deviceName !== identity.deviceName
    )
      throw new OneNetRequestError('invalid', 'reply not sent: the request was for another sub-device');
    if (received.replied) return 'duplicate';
    if (!Number.isSafeInteger(code))
      throw new OneNetRequestError('invalid', `reply code must be an integer, not ${String(code)}`);
    const text = message ?? (code === 200 ? 'success' : 'failure');
    let reply: ThingReply;
    try {
      reply = this.build(received, request.id, code, text, data);
    } catch (err) {
      throw new OneNetRequestError('invalid', readableText(`reply not sent: ${(err as Error).message}`), {
        id: request.id,
      });
    }
    received.replied = true;
    try {
      await this.requests.answer(REPLY_TOPIC_OF[received.kind], reply);
    } catch (err) {
      received.replied = false;
      throw err;
    }
    return Date.now() - received.receivedAt > SUB_DEVICE_REPLY_DEADLINE_MS ? 'late' : 'sent';
  }

  private build(received: Received, id: string, code: number, text: string, data: unknown): ThingReply {
    switch (received.kind) {
      case 'property-get':
        return buildSubPropertyGetReply(
          id,
          code,
          text,
          code === 200 ? ((data ?? {}) as Record<string, unknown>) : undefined,
        );
      case 'property-set':
        return buildSubPropertySetReply(id, code, text);
      case 'service-invoke': {
        if (code !== 200 && data === undefined) return buildSubServiceInvokeReply(id, code, text);
        const output = (data ?? {}) as Record<string, unknown>;
        return buildSubServiceInvokeReply(
          id,
          code,
          text,
          subServiceInvokeReplyData(
            { ...received.identity, identifier: received.identifier ?? '', input: {} },
            output,
          ),
        );
      }
    }
  }

  private answer(kind: GatewayAnswerKind, reply: ThingReply): void {
    this.requests.answer(kind, reply).catch(() => undefined);
  }

  private remember(id: string, received: Received): void {
    this.ledger.delete(id);
    this.ledger.set(id, received);
    if (this.ledger.size > LEDGER_LIMIT) this.ledger.delete(this.ledger.keys().next().value!);
  }
}

function failure(id: string, code: number, reason: string): ThingReply {
  return { id, code, msg: readableText(reason) };
}
