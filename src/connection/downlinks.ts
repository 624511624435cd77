import {
  buildReply,
  buildTopic,
  DEVICE_FAILURE_CODE,
  describeReplyCode,
  identifierError,
  isValidMessageId,
  parsePropertyGet,
  parsePropertySet,
  parseServiceInvoke,
  PLATFORM_REPLY_DEADLINE_MS,
  replyKindOf,
  serializeMessage,
  SUCCESS_CODE,
  type ParseResult,
  type ThingRequest,
} from '../protocol';
import { readableText } from './client-text';
import { OneNetRequestError } from './errors';
import type {
  DeviceIdentity,
  DownlinkErrorEvent,
  DownlinkKind,
  DownlinkRequest,
  ReplyOutcome,
} from './types';

export type DownlinkHandler = (request: DownlinkRequest) => void;

/**
 * Which requests a handler takes (e.g. only property sets, or only service "reboot"). A handler
 * registered without one takes every request.
 */
export type DownlinkFilter = (request: DownlinkRequest) => boolean;

interface Registration {
  handler: DownlinkHandler;
  accepts: DownlinkFilter | undefined;
}

export interface ReplyTarget {
  kind: DownlinkKind;
  id: string;
  identifier?: string;
}

/** Platform requests remembered for duplicate and deadline checks; older ones are forgotten first. */
const LEDGER_LIMIT = 10_000;

interface LedgerRecord {
  /** 0 when the request was never seen on this connection. */
  receivedAt: number;
  state: 'open' | 'replying' | 'replied';
}

const DOWNLINK_KINDS: readonly DownlinkKind[] = ['property-set', 'property-get', 'service-invoke'];

/**
 * Platform-initiated requests (property set/get, service invoke; §3 rows 2, 3, 7): parses them,
 * hands them to the registered handlers, and publishes each one's `_reply` exactly once.
 *
 * A malformed request is reported as 'downlink-error' and, when its id could be read, answered at
 * once with the parser's code (301 json format error, 302 data type error, 309 identifier error),
 * so the platform gets a reason instead of a 5 s timeout. A request that no registered handler
 * accepts (none at all, or none whose filter takes this kind or service) is answered at once with
 * 100 for the same reason, and reported too. 100 is what the official C SDK replies when the device
 * cannot handle a request (onenet-protocol.md §3.1 row 2, §3.2), the one device-side failure code a
 * primary source shows; the 3xx/1xxx codes are the platform's own log codes, and the nearest of them
 * would say something false here: 309 "identifier not exist" (the platform already checked the
 * identifier against the thing model before sending) or 313 "bad request" (the request was fine).
 */
export class Downlinks {
  private handlers: Registration[] = [];
  private readonly ledger = new Map<string, LedgerRecord>();

  constructor(
    private readonly identity: DeviceIdentity,
    private readonly reportError: (event: DownlinkErrorEvent) => void,
    private readonly publishReply: (topic: string, payload: Buffer, target: ReplyTarget) => Promise<void>,
  ) {}

  /** Registers `handler` for the requests `accepts` takes (every request without it). */
  onDownlink(handler: DownlinkHandler, accepts?: DownlinkFilter): () => void {
    if (typeof handler !== 'function') throw new TypeError('onDownlink needs a function');
    if (accepts !== undefined && typeof accepts !== 'function')
      throw new TypeError('the onDownlink filter must be a function');
    const registration: Registration = { handler, accepts };
    // Replaced, never changed in place, so a request being handed out keeps the list it started with.
    this.handlers = [...this.handlers, registration];
    return () => {
      this.handlers = this.handlers.filter((candidate) => candidate !== registration);
    };
  }

  get handlerCount(): number {
    return this.handlers.length;
  }

  handle(kind: DownlinkKind, topic: string, payload: Buffer, identifier?: string): void {
    const receivedAt = Date.now();
    const parsed = parseDownlink(kind, payload);
    // The wildcard subscription lets any topic level through as a service identifier. One that is
    // not an identifier (§3) cannot be answered (its reply topic is refused), so the flow never sees it.
    const serviceProblem = kind === 'service-invoke' ? identifierError(identifier) : undefined;
    if (serviceProblem !== undefined) {
      const reason = `service ${serviceProblem}; the request cannot be answered`;
      const id = parsed.ok ? parsed.value.id : parsed.id;
      this.reportError(id === undefined ? { topic, reason } : { topic, reason, id });
      return;
    }
    if (!parsed.ok) {
      this.reportError(
        parsed.id === undefined
          ? { topic, reason: parsed.reason }
          : { topic, reason: parsed.reason, id: parsed.id },
      );
      if (parsed.id !== undefined) {
        this.answerForDevice(
          { kind, id: parsed.id, identifier },
          parsed.code,
          `${describeReplyCode(parsed.code)}: ${parsed.reason}`,
        );
      }
      return;
    }
    const { id, params } = parsed.value;
    this.remember(ledgerKey(kind, id), { receivedAt, state: 'open' });
    const request: DownlinkRequest =
      identifier === undefined
        ? { kind, id, params, receivedAt }
        : { kind, id, identifier, params, receivedAt };
    const takers = this.handlers.filter((registration) => this.takes(registration, request, topic));
    if (takers.length === 0) {
      const what = describeRequest(request);
      this.reportError({
        topic,
        reason:
          this.handlers.length === 0
            ? `no handler is registered for platform requests (${what}); answered with code 100`
            : `no handler accepts ${what}; answered with code 100`,
        id,
      });
      this.answerForDevice(
        { kind, id, identifier },
        DEVICE_FAILURE_CODE,
        `the device does not handle ${what}`,
      );
      return;
    }
    for (const { handler } of takers) {
      try {
        handler(request);
      } catch (err) {
        this.reportError({
          topic,
          reason: `a downlink handler failed: ${(err as Error)?.message ?? String(err)}`,
          id,
        });
      }
    }
  }

  /** A filter that throws is reported and counts as "not mine", so one broken filter answers nothing. */
  private takes(registration: Registration, request: DownlinkRequest, topic: string): boolean {
    if (registration.accepts === undefined) return true;
    try {
      return registration.accepts(request) === true;
    } catch (err) {
      this.reportError({
        topic,
        reason: `a downlink filter failed: ${(err as Error)?.message ?? String(err)}`,
        id: request.id,
      });
      return false;
    }
  }

  async reply(target: ReplyTarget, code: number, data?: unknown, message?: string): Promise<ReplyOutcome> {
    const { topic, payload } = this.buildReplyMessage(target, code, data, message);
    const key = ledgerKey(target.kind, target.id);
    let record = this.ledger.get(key);
    if (record && record.state !== 'open') return 'duplicate';
    if (!record) {
      // Not received on this connection (e.g. before a redeploy): it cannot be shown to be in time.
      record = { receivedAt: 0, state: 'open' };
      this.remember(key, record);
    }
    const late = Date.now() - record.receivedAt > PLATFORM_REPLY_DEADLINE_MS;
    record.state = 'replying';
    try {
      await this.publishReply(topic, payload, target);
    } catch (err) {
      record.state = 'open';
      throw err;
    }
    record.state = 'replied';
    return late ? 'late' : 'sent';
  }

  close(): void {
    this.handlers = [];
    this.ledger.clear();
  }

  private buildReplyMessage(
    target: ReplyTarget,
    code: number,
    data: unknown,
    message: string | undefined,
  ): { topic: string; payload: Buffer } {
    const invalid = (text: string, topic?: string): OneNetRequestError => {
      const details: { id?: string; topic?: string; code?: number } = {};
      if (typeof target?.id === 'string') details.id = target.id;
      if (topic !== undefined) details.topic = topic;
      if (Number.isSafeInteger(code)) details.code = code;
      return new OneNetRequestError('invalid', readableText(`reply not sent: ${text}`), details);
    };
    if (target === null || typeof target !== 'object' || !DOWNLINK_KINDS.includes(target.kind)) {
      throw invalid(`kind must be one of ${DOWNLINK_KINDS.join(', ')}`);
    }
    if (!isValidMessageId(target.id))
      throw invalid('the request id must be a numeric string of at most 13 digits');
    if (target.kind === 'service-invoke') {
      const problem = identifierError(target.identifier);
      if (problem) throw invalid(`a service reply needs the service identifier: ${problem}`);
    }
    if (message !== undefined && typeof message !== 'string')
      throw invalid('the reply message must be a string');
    const topic = buildTopic({
      productId: this.identity.productId,
      deviceName: this.identity.deviceName,
      kind: replyKindOf(target.kind)!,
      ...(target.kind === 'service-invoke' ? { identifier: target.identifier! } : {}),
    });
    try {
      const msg = message ?? (code === SUCCESS_CODE ? 'success' : describeReplyCode(code));
      return { topic, payload: serializeMessage(buildReply(target.id, code, msg, data)) };
    } catch (err) {
      throw invalid((err as Error).message, topic);
    }
  }

  /** A reply the connection makes on the device's behalf; its failure has already been reported. */
  private answerForDevice(
    target: { kind: DownlinkKind; id: string; identifier: string | undefined },
    code: number,
    message: string,
  ): void {
    const clean: ReplyTarget =
      target.identifier === undefined
        ? { kind: target.kind, id: target.id }
        : { ...target, identifier: target.identifier };
    this.reply(clean, code, undefined, message).catch(() => undefined);
  }

  private remember(key: string, record: LedgerRecord): void {
    this.ledger.delete(key);
    this.ledger.set(key, record);
    if (this.ledger.size > LEDGER_LIMIT) this.ledger.delete(this.ledger.keys().next().value!);
  }
}

/** The request as the platform and the user read it: "property get requests", "service reboot". */
function describeRequest(request: DownlinkRequest): string {
  switch (request.kind) {
    case 'property-set':
      return 'property set requests';
    case 'property-get':
      return 'property get requests';
    case 'service-invoke':
      return `service ${request.identifier ?? ''}`.trimEnd();
  }
}

function ledgerKey(kind: DownlinkKind, id: string): string {
  return `${kind}/${id}`;
}

function parseDownlink(kind: DownlinkKind, payload: Buffer): ParseResult<ThingRequest<unknown>> {
  switch (kind) {
    case 'property-set':
      return parsePropertySet(payload);
    case 'property-get':
      return parsePropertyGet(payload);
    case 'service-invoke':
      return parseServiceInvoke(payload);
  }
}
