import {
  buildTopic,
  serializeMessage,
  type ThingReply,
  type ThingRequest,
  type TopicKind,
} from '../protocol';
import { AwaitedReplies } from './awaited-replies';
import { OneNetRequestError } from './errors';
import type { Session } from './session';
import type { OwnUplinkLane, PriorityUplink } from './uplink-types';
import type { DeviceIdentity } from './types';

/** The gateway's own requests about its sub-devices (onenet-next.md §Q2 §2.2), each answered on `<topic>/reply`. */
export type GatewayRequestKind =
  'sub-topo-get' | 'sub-topo-add' | 'sub-topo-delete' | 'sub-login' | 'sub-logout';

/** The gateway's one-way publishes: answers to the platform (§2.3 steps 4, 7, 8). */
export type GatewayAnswerKind =
  | 'sub-topo-get-result'
  | 'sub-topo-change-reply'
  | 'sub-property-get-reply'
  | 'sub-property-set-reply'
  | 'sub-service-invoke-reply';

export interface GatewayRequestHooks {
  nextId: () => string;
  /** The gateway's logged-in session, if any. */
  liveSession: () => Session | undefined;
  /** Within the uplink budget, before every post or taking turns with them (request-pipeline.ts). */
  submitPriority: (send: () => void, lane?: OwnUplinkLane) => PriorityUplink;
  timeoutMs: () => number;
}

/**
 * Publishes a gateway's topology and login requests through the uplink budget (they count against
 * uplinkRate like every uplink, DESIGN.md §4) and matches each reply to its request by id. The
 * deadline runs from the publish, not from the queueing: binding a thousand sub-devices at one
 * message a second must not time out the ones waiting for their turn. A request of a session that
 * ends fails at once.
 */
export class GatewayRequests {
  private readonly awaited: AwaitedReplies;

  constructor(
    private readonly identity: DeviceIdentity,
    private readonly hooks: GatewayRequestHooks,
  ) {
    // Binding and login take turns with the posts: the posts of sub-devices already logged in must
    // not wait for the binding of all the others (a thousand at one message a second: 17 minutes).
    this.awaited = new AwaitedReplies(
      { deadlineFrom: 'publish', connection: "the gateway's connection" },
      { submitPriority: (send) => hooks.submitPriority(send, 'shared'), liveSession: hooks.liveSession },
    );
  }

  topicOf(kind: TopicKind): string {
    return buildTopic({ productId: this.identity.productId, deviceName: this.identity.deviceName, kind });
  }

  /** Sends the request `build(id)` makes and resolves with its reply (any code). */
  send(
    kind: GatewayRequestKind,
    build: (id: string) => ThingRequest<unknown> | { id: string; version: string },
  ): Promise<ThingReply> {
    const topic = this.topicOf(kind);
    const session = this.hooks.liveSession();
    if (!session)
      return Promise.reject(
        new OneNetRequestError('offline', 'not sent: the gateway is not connected', { topic }),
      );
    const id = this.hooks.nextId();
    let payload: Buffer;
    try {
      payload = serializeMessage(build(id));
    } catch (err) {
      return Promise.reject(new OneNetRequestError('invalid', (err as Error).message, { topic }));
    }
    return this.awaited.send({
      id,
      topic,
      replyKind: `${kind}-reply` as TopicKind,
      payload,
      session,
      timeoutMs: this.hooks.timeoutMs(),
    });
  }

  /** Publishes an answer to the platform within the budget; resolves once handed to the session. */
  answer(kind: GatewayAnswerKind, reply: ThingReply): Promise<void> {
    const topic = this.topicOf(kind);
    const session = this.hooks.liveSession();
    if (!session)
      return Promise.reject(
        new OneNetRequestError('offline', 'reply not sent: the gateway is not connected', { topic }),
      );
    const payload = serializeMessage(reply);
    return new Promise<void>((resolve, reject) => {
      this.hooks.submitPriority(() => {
        if (this.hooks.liveSession() !== session) {
          reject(
            new OneNetRequestError('disconnected', 'reply not sent: the gateway disconnected', { topic }),
          );
          return;
        }
        session.publish(topic, payload, 0, (error) => {
          if (error)
            reject(
              new OneNetRequestError('disconnected', 'reply not sent: the gateway disconnected', { topic }),
            );
          else resolve();
        });
      });
    });
  }

  /** A reply on `replyKind`'s topic; false when no request of ours waits for it. */
  handleReply(replyKind: TopicKind, reply: ThingReply): boolean {
    return this.awaited.handleReply(reply, replyKind);
  }

  /** The gateway's session changed: requests of an older one cannot be answered any more. */
  sessionChanged(): void {
    this.awaited.sessionChanged();
  }
}
