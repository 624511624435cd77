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

/** The fixed subscriptions each session makes once, right after CONNACK (§1.5: replies need them). */
const SUBSCRIBED_KINDS = [
  'property-post-reply',
  'event-post-reply',
  'history-post-reply',
  'property-set',
  'property-get',
] as const;

export type ReplyKind = 'property-post-reply' | 'event-post-reply' | 'history-post-reply' | 'pack-post-reply';

/**
 * What a gateway subscribes to besides a device's filters (onenet-next.md §Q2 §2.2): the replies to
 * its sub-devices' pack posts, and one wildcard for every `sub/…` topic (topology and login replies,
 * sub-device commands). Two more filters keep the session at 9, within OneNET's 10 (§1.4).
 */
const GATEWAY_SUFFIXES = ['thing/pack/post/reply', 'thing/sub/#'] as const;

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
  /** Subscribed once per session. */
  readonly filters: string[];
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
    this.routes = new Map(SUBSCRIBED_KINDS.map((kind) => [topicOf(kind), kind]));
    this.desiredRoutes = new Map(DESIRED_REPLY_KINDS.map((kind) => [topicOf(kind), kind]));
    const prefix = devicePrefix(identity.productId, identity.deviceName);
    // Wildcards are allowed from the 4th level (§1.5); one filter covers every service.
    const everyService = prefix + TOPICS['service-invoke'].suffix.replace('{identifier}', '+');
    const everyDesiredReply = prefix + 'thing/property/desired/+/reply';
    this.filters = [...this.routes.keys(), everyDesiredReply, everyService];
  }

  /** Whether the gateway filters are part of `filters`. */
  get servesSubDevices(): boolean {
    return this.routes.has(this.topics['pack-post'] + '/reply');
  }

  /**
   * Makes this device a gateway: its sessions subscribe the gateway filters too (the array is the
   * one every new session subscribes). Returns the filters added, for a session that is already up.
   */
  serveSubDevices(): string[] {
    if (this.servesSubDevices) return [];
    const prefix = devicePrefix(this.identity.productId, this.identity.deviceName);
    this.routes.set(prefix + TOPICS['pack-post-reply'].suffix, 'pack-post-reply');
    const added = GATEWAY_SUFFIXES.map((suffix) => prefix + suffix);
    this.filters.push(...added);
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
