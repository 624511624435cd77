import {
  OneNetRequestError,
  type DesiredDelivery,
  type DownlinkKind,
  type DownlinkRequest,
} from '../connection';
import { readableText } from '../connection/client-text';
import { SUCCESS_CODE, describeReplyCode, describeType } from '../protocol';
import { replyDataError } from '../protocol/reply-data';
import type { ModelViolation } from '../protocol/tsl-types';
import { findDeviceNode } from './device-node';
import type { NodeAPI, NodeDef, NodeMessage } from './node-red-types';

/** `desired`: the desired values found after a login (DESIGN.md §4); `all` includes them. */
export type CommandKindFilter = 'all' | DownlinkKind | 'desired';

/** `onenet-command-in` flow-file properties (DESIGN.md §3). */
export interface CommandInNodeDef extends NodeDef {
  device?: string;
  kind?: CommandKindFilter | string;
  service?: string;
  autoReply?: boolean | string;
}

/** msg.onenet on a command message: everything onenet-command-reply needs, as plain data. */
export interface CommandInfo {
  kind: DownlinkKind;
  id: string;
  identifier?: string;
  /** The onenet-device config node's id, so a reply node without its own device finds the connection. */
  device: string;
  receivedAt: number;
  /**
   * A property set the device's product thing model refuses: the violations (read-only or unknown
   * identifiers, bad values), so the flow does not apply it unawares. Absent when it is fine.
   */
  model?: ModelViolation[];
}

/**
 * msg.onenet on a desired-values message (DESIGN.md §4): the versions, so onenet-command-reply with
 * code 200 clears exactly these (a value set again since keeps its newer version).
 */
export interface DesiredInfo {
  kind: 'desired';
  versions: Record<string, number>;
  /** The onenet-device config node's id, as on a command message. */
  device: string;
  receivedAt: number;
  /** Desired values the device's product thing model refuses, as on a property set. */
  model?: ModelViolation[];
}

/** Whether a command-in node of this kind filter emits desired values. */
export function acceptsDesired(def: Pick<CommandInNodeDef, 'kind'>): boolean {
  const kind = def.kind || 'all';
  return kind === 'all' || kind === 'desired';
}

export function toDesiredMessage(delivery: DesiredDelivery, deviceId: string): NodeMessage {
  const onenet: DesiredInfo = {
    kind: 'desired',
    versions: { ...delivery.versions },
    device: deviceId,
    receivedAt: delivery.receivedAt,
  };
  return { payload: { ...delivery.values }, topic: 'desired', onenet };
}

/** Reads a desired message's msg.onenet back, or undefined when the msg is not one. */
export function desiredInfoOf(msg: NodeMessage): DesiredInfo | undefined {
  const info = msg.onenet;
  if (typeof info !== 'object' || info === null) return undefined;
  const { kind, versions, device, receivedAt } = info as Record<string, unknown>;
  if (kind !== 'desired' || typeof versions !== 'object' || versions === null || Array.isArray(versions))
    return undefined;
  return {
    kind,
    versions: versions as Record<string, number>,
    device: typeof device === 'string' ? device : '',
    receivedAt: typeof receivedAt === 'number' ? receivedAt : 0,
  };
}

export function acceptsRequest(
  def: Pick<CommandInNodeDef, 'kind' | 'service'>,
  request: DownlinkRequest,
): boolean {
  const kind = def.kind || 'all';
  if (kind !== 'all' && kind !== request.kind) return false;
  const service = (def.service ?? '').trim();
  if (request.kind === 'service-invoke' && service !== '' && request.identifier !== service) return false;
  return true;
}

export function toCommandMessage(request: DownlinkRequest, deviceId: string): NodeMessage {
  const onenet: CommandInfo = {
    kind: request.kind,
    id: request.id,
    device: deviceId,
    receivedAt: request.receivedAt,
  };
  if (request.identifier !== undefined) onenet.identifier = request.identifier;
  return {
    payload: request.params,
    topic:
      request.kind === 'service-invoke' && request.identifier !== undefined
        ? request.identifier
        : request.kind,
    onenet,
  };
}

/** Reads msg.onenet back, or undefined when the msg did not come from onenet-command-in. */
export function commandInfoOf(msg: NodeMessage): CommandInfo | undefined {
  const info = msg.onenet;
  if (typeof info !== 'object' || info === null) return undefined;
  const { kind, id, identifier, device, receivedAt } = info as Record<string, unknown>;
  if (kind !== 'property-set' && kind !== 'property-get' && kind !== 'service-invoke') return undefined;
  if (typeof id !== 'string') return undefined;
  const parsed: CommandInfo = {
    kind,
    id,
    device: typeof device === 'string' ? device : '',
    receivedAt: typeof receivedAt === 'number' ? receivedAt : 0,
  };
  if (typeof identifier === 'string') parsed.identifier = identifier;
  return parsed;
}

/**
 * The two devices, as "productId/deviceName", when `request` came through a device config node that
 * names another OneNET device than `ownDeviceId` does; undefined when it is the same device or that
 * cannot be told. The request id is only known to the device the platform sent it to: answered on
 * another device's topic it would reach a device with no such request, and the real one would time
 * out. Another config node naming the same product and device is the same device (DESIGN.md §3: they
 * share one connection). A request that names no config node that exists now (hand-made, or from
 * before a deploy) cannot be shown to be foreign, so the node's own device stays in charge.
 */
export function otherDeviceOf(
  RED: NodeAPI,
  ownDeviceId: string,
  request: Pick<CommandInfo, 'device'>,
): { own: string; request: string } | undefined {
  if (request.device === '' || request.device === ownDeviceId) return undefined;
  const own = findDeviceNode(RED, ownDeviceId);
  const other = findDeviceNode(RED, request.device);
  if (!own || !other || own.deviceLabel === other.deviceLabel) return undefined;
  return { own: own.deviceLabel, request: other.deviceLabel };
}

export interface ReplyContent {
  code: number;
  message: string;
  data?: unknown;
}

/** Whole-number text: what an HTTP node, a template or a form field gives for a code. */
const CODE_TEXT = /^\s*-?\d{1,15}\s*$/;

/**
 * msg.code as a reply code: 200 when absent; a whole number, or its decimal text ("200"), the way
 * the core mqtt out node takes msg.qos as a number or its text. Anything else (other text, "2e2",
 * "200.0", booleans) is undefined, so the user hears about it instead of a guess being sent.
 */
export function replyCodeOf(raw: unknown): number | undefined {
  if (raw === undefined) return SUCCESS_CODE;
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? raw : undefined;
  if (typeof raw === 'string' && CODE_TEXT.test(raw)) return Number(raw);
  return undefined;
}

/**
 * msg.code as a reply code (see replyCodeOf); throws OneNetRequestError 'invalid', saying what
 * msg.code holds, when it is no whole number. `id` is the request's, when there is one.
 */
export function requiredReplyCode(msg: NodeMessage, id?: string): number {
  const code = replyCodeOf(msg.code);
  if (code === undefined) {
    // Said here, about msg.code: the protocol core would only see "a code" of some type.
    const shown =
      typeof msg.code === 'number'
        ? String(msg.code)
        : typeof msg.code === 'string'
          ? `the text ${JSON.stringify(msg.code)}`
          : describeType(msg.code);
    throw new OneNetRequestError(
      'invalid',
      readableText(`reply not sent: msg.code must be a whole number such as 200 (or "200"), not ${shown}`),
      id === undefined ? {} : { id },
    );
  }
  return code;
}

/**
 * The reply a msg asks for: msg.code (default 200; see replyCodeOf), msg.message (default: the code's meaning) and,
 * for a successful property get or service invoke, msg.payload as data. Error replies and property
 * set replies carry no data: OneNET only reads code and message from them, and a flow answering an
 * error usually still has the request's payload in msg.payload. Throws OneNetRequestError 'invalid'
 * when the data does not fit the request (e.g. a property get answered with a string).
 */
export function replyOf(request: CommandInfo, msg: NodeMessage): ReplyContent {
  const code = requiredReplyCode(msg, request.id);
  const message =
    typeof msg.message === 'string'
      ? msg.message
      : code === SUCCESS_CODE
        ? 'success'
        : describeReplyCode(code);
  const reply: ReplyContent = { code, message };
  if (code !== SUCCESS_CODE || request.kind === 'property-set') return reply;
  const problem = replyDataError(request.kind, msg.payload);
  if (problem)
    throw new OneNetRequestError('invalid', readableText(`reply not sent: ${problem}`), {
      id: request.id,
      code,
    });
  if (msg.payload !== undefined) reply.data = msg.payload;
  return reply;
}
