import {
  buildRequest,
  buildTopic,
  describeReplyCode,
  inPieces,
  readDesiredValues,
  serializeMessage,
  SUCCESS_CODE,
  toDesiredDeleteParams,
  toDesiredGetParams,
  type ThingReply,
} from '../protocol';
import { readableText } from './client-text';
import { AwaitedReplies } from './awaited-replies';
import { OneNetRequestError } from './errors';
import type { ResolvedOptions } from './options';
import type { Session } from './session';
import type { PriorityUplink } from './uplink-types';
import type { DesiredDelivery, DeviceIdentity, DownlinkErrorEvent, RequestOutcome } from './types';

export type DesiredHandler = (delivery: DesiredDelivery) => void;

type DesiredRequestKind = 'desired-get' | 'desired-delete';
export type DesiredReplyKind = 'desired-get-reply' | 'desired-delete-reply';

export interface DesiredSyncHooks {
  nextId: () => string;
  /** The uplink scheduler's priority lane: `send` runs once the uplink budget allows. */
  submitPriority: (send: () => void) => PriorityUplink;
  /** The session a request may go out on now (logged in, subscribed, not ending), if any. */
  liveSession: () => Session | undefined;
  /** Why nothing can be sent now, for 'offline' errors. */
  describeOffline: () => string;
  /** A problem nobody waits for (a refused or unreadable desired get), for the log. */
  report: (event: DownlinkErrorEvent) => void;
}

/**
 * Desired values (期望值, onenet-next.md §Q4): OneNET keeps a value set while the device was offline
 * and waits for the device to ask ("待设备上线后，设备可主动获取属性期望值"). So after every login
 * this asks for the configured properties (`desired/get`, at most desiredPerMessage identifiers a
 * message), hands what exists to the onDesired handlers, and offers the version-checked delete the
 * flow sends once it has applied them. A value set while the device is online arrives as an ordinary
 * property set instead (Downlinks). Both requests go out on the uplink scheduler's priority lane, so
 * they count against the uplink rate like every other publish and are not held behind posts.
 *
 * Delivery is at least once: a value whose delete did not reach OneNET (no reply from the flow, a
 * drop before it) is found and delivered again after the next login.
 */
export class DesiredSync {
  private handlers: DesiredHandler[] = [];
  private readonly awaited: AwaitedReplies;
  private closed = false;

  constructor(
    private readonly identity: DeviceIdentity,
    private readonly options: ResolvedOptions,
    private readonly hooks: DesiredSyncHooks,
  ) {
    this.awaited = new AwaitedReplies({ deadlineFrom: 'submit', connection: 'the connection' }, hooks);
  }

  onDesired(handler: DesiredHandler): () => void {
    if (typeof handler !== 'function') throw new TypeError('onDesired needs a function');
    // Replaced, never changed in place, so a delivery being handed out keeps the list it started with.
    this.handlers = [...this.handlers, handler];
    return () => {
      this.handlers = this.handlers.filter((candidate) => candidate !== handler);
    };
  }

  /** A session is ready: ask for the desired values, when properties to sync are configured. */
  loggedIn(): void {
    if (this.closed) return;
    for (const piece of inPieces(this.options.syncDesired, this.options.desiredPerMessage))
      void this.fetch(piece);
  }

  /**
   * Clears exactly these versions (desired/delete); resolves on OneNET's 200. Rejects with a
   * OneNetRequestError: 'invalid' (bad versions), 'offline', 'reply' (another code), 'timeout',
   * 'disconnected', 'closed'.
   */
  async delete(versions: Record<string, number>): Promise<RequestOutcome> {
    const startedAt = Date.now();
    let params: ReturnType<typeof toDesiredDeleteParams>;
    try {
      params = toDesiredDeleteParams(versions);
    } catch (err) {
      throw new OneNetRequestError(
        'invalid',
        readableText(`desired values not cleared: ${(err as Error).message}`),
      );
    }
    const reply = await this.send('desired-delete', params);
    const topic = this.topicOf('desired-delete');
    if (reply.code !== SUCCESS_CODE) {
      const meaning = reply.msg || describeReplyCode(reply.code);
      throw new OneNetRequestError(
        'reply',
        readableText(`desired values not cleared: OneNET answered ${reply.code} (${meaning})`),
        { id: reply.id, topic, code: reply.code, platformMessage: reply.msg, sent: true },
      );
    }
    return {
      id: reply.id,
      topic,
      code: reply.code,
      message: reply.msg,
      latencyMs: Date.now() - startedAt,
      merged: 1,
    };
  }

  /** A reply on a desired reply topic. Returns false when no request waits for it. */
  handleReply(reply: ThingReply, replyKind: DesiredReplyKind): boolean {
    return this.awaited.handleReply(reply, replyKind);
  }

  /**
   * The connection's session may have changed: requests sent on another one will get no reply
   * (OneNET answers on the session that asked), so they fail now instead of at their timeout.
   */
  sessionChanged(): void {
    this.awaited.sessionChanged();
  }

  close(): void {
    this.closed = true;
    this.handlers = [];
    this.awaited.close();
  }

  private async fetch(identifiers: string[]): Promise<void> {
    const topic = this.topicOf('desired-get');
    let reply: ThingReply;
    try {
      reply = await this.send('desired-get', toDesiredGetParams(identifiers));
    } catch (err) {
      const error = err as OneNetRequestError;
      if (error.reason === 'closed') return;
      this.report({ topic, reason: `desired values not fetched: ${error.message}`, id: error.id });
      return;
    }
    if (reply.code !== SUCCESS_CODE) {
      const meaning = reply.msg || describeReplyCode(reply.code);
      this.report({
        topic,
        reason: `desired values not fetched: OneNET answered ${reply.code} (${meaning})`,
        id: reply.id,
      });
      return;
    }
    const found = readDesiredValues(reply.data);
    for (const problem of found.problems)
      this.report({ topic, reason: `a desired value was skipped: ${problem}`, id: reply.id });
    if (Object.keys(found.values).length === 0) return;
    this.deliver({ values: found.values, versions: found.versions, receivedAt: Date.now() }, reply.id);
  }

  private deliver(delivery: DesiredDelivery, id: string): void {
    const handlers = this.handlers;
    const topic = this.topicOf('desired-get');
    if (handlers.length === 0) {
      this.report({
        topic,
        reason: `desired values of ${Object.keys(delivery.values).join(', ')} arrived, but nothing takes them (no onenet-command-in node for kind "desired"); they stay on OneNET`,
        id,
      });
      return;
    }
    for (const handler of handlers) {
      try {
        handler(delivery);
      } catch (err) {
        this.report({
          topic,
          reason: `a desired handler failed: ${(err as Error)?.message ?? String(err)}`,
          id,
        });
      }
    }
  }

  private report(event: { topic: string; reason: string; id: string | undefined }): void {
    this.hooks.report(
      event.id === undefined ? { topic: event.topic, reason: event.reason } : (event as DownlinkErrorEvent),
    );
  }

  private topicOf(kind: DesiredRequestKind): string {
    return buildTopic({ productId: this.identity.productId, deviceName: this.identity.deviceName, kind });
  }

  /** Publishes one request at QoS 1 on the live session and waits for its reply (requestTimeoutMs). */
  private send(kind: DesiredRequestKind, params: unknown): Promise<ThingReply> {
    const topic = this.topicOf(kind);
    if (this.closed)
      return Promise.reject(new OneNetRequestError('closed', 'the connection is closed', { topic }));
    const session = this.hooks.liveSession();
    if (!session)
      return Promise.reject(
        new OneNetRequestError('offline', `not sent: ${this.hooks.describeOffline()}`, {
          topic,
          sent: false,
        }),
      );
    const id = this.hooks.nextId();
    let payload: Buffer;
    try {
      payload = serializeMessage(buildRequest(id, params));
    } catch (err) {
      // Only a hand-made msg with thousands of versions gets here: over OneNET's 256 KB.
      return Promise.reject(
        new OneNetRequestError('invalid', readableText(`not sent: ${(err as Error).message}`), { topic }),
      );
    }
    return this.awaited.send({
      id,
      topic,
      replyKind: kind === 'desired-get' ? 'desired-get-reply' : 'desired-delete-reply',
      payload,
      session,
      timeoutMs: this.options.requestTimeoutMs,
    });
  }
}
