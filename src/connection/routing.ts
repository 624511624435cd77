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
import type { UplinkMessageKind } from './uplink-types';

/** The fixed subscriptions each session makes once, right after CONNACK (§1.5: replies need them). */
const SUBSCRIBED_KINDS = [
  'property-post-reply',
  'event-post-reply',
  'history-post-reply',
  'property-set',
  'property-get',
] as const;

export type ReplyKind = 'property-post-reply' | 'event-post-reply' | 'history-post-reply';

export interface RouteHandlers {
  /** A well-formed reply to one of our posts. */
  reply: (reply: ThingReply, kind: ReplyKind) => void;
  /** A platform request: property set/get, or a service invocation (with its identifier). */
  downlink: (kind: DownlinkKind, topic: string, payload: Buffer, identifier?: string) => void;
  /** A reply that could not be parsed. */
  malformed: (event: DownlinkErrorEvent) => void;
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
    };
    this.routes = new Map(SUBSCRIBED_KINDS.map((kind) => [topicOf(kind), kind]));
    // Wildcards are allowed from the 4th level (§1.5); one filter covers every service.
    const everyService =
      devicePrefix(identity.productId, identity.deviceName) +
      TOPICS['service-invoke'].suffix.replace('{identifier}', '+');
    this.filters = [...this.routes.keys(), everyService];
  }

  route(topic: string, payload: Buffer): void {
    const route = this.routes.get(topic);
    if (route === 'property-post-reply' || route === 'event-post-reply' || route === 'history-post-reply') {
      const parsed = parseReply(payload);
      if (parsed.ok) this.handlers.reply(parsed.value, route);
      else
        this.handlers.malformed(
          parsed.id === undefined
            ? { topic, reason: parsed.reason }
            : { topic, reason: parsed.reason, id: parsed.id },
        );
      return;
    }
    if (route === 'property-set' || route === 'property-get') {
      this.handlers.downlink(route, topic, payload);
      return;
    }
    const parsed = parseTopic(topic);
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
}

/** "$sys/pid/dev/thing/property/set" -> "thing/property/set", for messages. */
export function shortTopic(topic: string): string {
  return topic.split('/').slice(3).join('/');
}
