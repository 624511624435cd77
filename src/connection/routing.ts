import {
  buildTopic,
  devicePrefix,
  parseReply,
  parseTopic,
  TOPICS,
  type ThingReply,
  type TopicKind,
} from '../protocol';
import type { DeviceIdentity, DownlinkErrorEvent, DownlinkKind } from './types';
import type { DesiredReplyKind } from './desired-sync';
import type { UplinkMessageKind } from './uplink-types';

/** Subscribed by each session right after CONNACK: the platform's requests. */
const DOWNLINK_KINDS = ['property-set', 'property-get'] as const;
/**
 * The answers to posts (§1.5: replies need a subscription), subscribed by a session on its first
 * post that waits for one (reply-subscription.ts): a device whose posts never wait receives none.
 */
const POST_REPLY_KINDS = ['property-post-reply', 'event-post-reply', 'history-post-reply'] as const;

export type ReplyKind = 'property-post-reply' | 'event-post-reply' | 'history-post-reply' | 'pack-post-reply';

/**
 * What a gateway subscribes to besides a device's filters (onenet-next.md §Q2 §2.2): one wildcard for
 * every `sub/…` topic (topology and login replies, sub-device commands), and with the other post
 * replies the replies to its sub-devices' pack posts. Two more filters keep the session at 9, within
 * OneNET's 10 (§1.4).
 */
const GATEWAY_DOWNLINK_SUFFIX = 'thing/sub/#';

/**
 * The replies to desired get and delete: routed by their exact topics, subscribed with one filter
 * (`thing/property/desired/+/reply`, a wildcard from the 4th level as §1.5 allows), which keeps the
 * session's subscriptions well below OneNET's 8 filters a SUBSCRIBE and 10 a session (§1.3, §1.4).
 */
const DESIRED_REPLY_KINDS = ['desired-get-reply', 'desired-delete-reply'] as const;

export interface RouteHandlers {
  /** A well-formed reply to one of our posts. */
  reply: (reply: ThingReply, kind: ReplyKind) => void;
  /** A well-formed reply to a desired get or delete. */
  desiredReply: (reply: ThingReply, kind: DesiredReplyKind) => void;
  /** A platform request: property set/get, or a service invocation (with its identifier). */
  downlink: (kind: DownlinkKind, topic: string, payload: Buffer, identifier?: string) => void;
  /** A reply that could not be parsed. */
  malformed: (event: DownlinkErrorEvent) => void;
  /** A message on a gateway's `thing/sub/…` topics (sub-devices.ts), by its topic kind. */
  sub: (kind: TopicKind, topic: string, payload: Buffer) => void;
}

/**
 * A device's topics: the uplink topics it posts on, the filters each session subscribes to, and the
 * routing of what arrives on them (exact topic first, one wildcard filter for services).
 */
export class DownlinkRouter {
  /** The uplink topic of each message kind. */
  readonly topics: Record<UplinkMessageKind, string>;
  /**
   * Subscribed once per session: `downlinks` after CONNACK, `replies` on the first post that waits
   * for a reply. The arrays are the ones every new session subscribes.
   */
  readonly filters: { downlinks: string[]; replies: string[] };
  private readonly routes: Map<string, TopicKind>;
  private readonly desiredRoutes: Map<string, DesiredReplyKind>;

  constructor(
    private readonly identity: DeviceIdentity,
    private readonly handlers: RouteHandlers,
  ) {
    const topicOf = (kind: TopicKind, identifier?: string): string =>
      buildTopic({
        productId: identity.productId,
        deviceName: identity.deviceName,
        kind,
        ...(identifier ? { identifier } : {}),
      });
    this.topics = {
      'property-post': topicOf('property-post'),
      'event-post': topicOf('event-post'),
      'history-post': topicOf('history-post'),
      'pack-post': topicOf('pack-post'),
    };
    this.routes = new Map(
      [...DOWNLINK_KINDS, ...POST_REPLY_KINDS].map((kind) => [topicOf(kind), kind] as const),
    );
    this.desiredRoutes = new Map(DESIRED_REPLY_KINDS.map((kind) => [topicOf(kind), kind]));
    const prefix = devicePrefix(identity.productId, identity.deviceName);
    // Wildcards are allowed from the 4th level (§1.5); one filter covers every service.
    const everyService = prefix + TOPICS['service-invoke'].suffix.replace('{identifier}', '+');
    const everyDesiredReply = prefix + 'thing/property/desired/+/reply';
    this.filters = {
      downlinks: [...DOWNLINK_KINDS.map((kind) => topicOf(kind)), everyDesiredReply, everyService],
      replies: POST_REPLY_KINDS.map((kind) => topicOf(kind)),
    };
  }

  /** Whether the gateway filters are part of `filters`. */
  get servesSubDevices(): boolean {
    return this.routes.has(this.topics['pack-post'] + '/reply');
  }

  /**
   * Makes this device a gateway: its sessions subscribe the gateway filters too. Returns the
   * downlink filter added, for a session that is already up (the pack-post reply joins the replies).
   */
  serveSubDevices(): string[] {
    if (this.servesSubDevices) return [];
    const prefix = devicePrefix(this.identity.productId, this.identity.deviceName);
    const packReply = prefix + TOPICS['pack-post-reply'].suffix;
    this.routes.set(packReply, 'pack-post-reply');
    this.filters.replies.push(packReply);
    const added = [prefix + GATEWAY_DOWNLINK_SUFFIX];
    this.filters.downlinks.push(...added);
    return added;
  }

  route(topic: string, payload: Buffer): void {
    const desired = this.desiredRoutes.get(topic);
    if (desired) {
      const parsed = parseReply(payload);
      if (parsed.ok) this.handlers.desiredReply(parsed.value, desired);
      else this.malformed(topic, parsed);
      return;
    }
    const route = this.routes.get(topic);
    if (
      route === 'property-post-reply' ||
      route === 'event-post-reply' ||
      route === 'history-post-reply' ||
      route === 'pack-post-reply'
    ) {
      const parsed = parseReply(payload);
      if (parsed.ok) this.handlers.reply(parsed.value, route);
      else this.malformed(topic, parsed);
      return;
    }
    if (route === 'property-set' || route === 'property-get') {
      this.handlers.downlink(route, topic, payload);
      return;
    }
    const parsed = parseTopic(topic);
    if (
      parsed.ours &&
      parsed.kind.startsWith('sub-') &&
      this.servesSubDevices &&
      parsed.productId === this.identity.productId &&
      parsed.deviceName === this.identity.deviceName
    ) {
      this.handlers.sub(parsed.kind, topic, payload);
      return;
    }
    if (
      parsed.ours &&
      parsed.kind === 'service-invoke' &&
      parsed.productId === this.identity.productId &&
      parsed.deviceName === this.identity.deviceName
    ) {
      this.handlers.downlink('service-invoke', topic, payload, parsed.identifier);
    }
    // Anything else was not subscribed to; a broker sending it is ignored.
  }

  private malformed(topic: string, parsed: { reason: string; id?: string }): void {
    this.handlers.malformed(
      parsed.id === undefined
        ? { topic, reason: parsed.reason }
        : { topic, reason: parsed.reason, id: parsed.id },
    );
  }
}

/** "$sys/pid/dev/thing/property/set" -> "thing/property/set", for messages. */
export function shortTopic(topic: string): string {
  return topic.split('/').slice(3).join('/');
}
