/**
 * Thing-model topics (shared/onenet-protocol.md §3): `$sys/{pid}/{device}/<suffix>`.
 * Device-initiated requests are answered on `<request>/reply`; platform-initiated requests on
 * `<request>_reply`. That inconsistency is OneNET's own, so it is spelled out in the table.
 * The custom-data topics (§3 rows 20–21) are spelled `custome`, as OneNET spells them.
 */

export type Direction = 'up' | 'down';

interface TopicSpec {
  /**
   * Path after `$sys/{pid}/{device}/`; `{identifier}` stands for a service identifier and `{id}` for
   * the message id of a custom command.
   */
  suffix: string;
  /** `up`: the device publishes it; `down`: the device subscribes to it. */
  direction: Direction;
  /** The kind that answers this one, for request kinds (checked by the test suite). */
  reply?: string;
}

export const TOPICS = {
  'property-post': { suffix: 'thing/property/post', direction: 'up', reply: 'property-post-reply' },
  'property-post-reply': { suffix: 'thing/property/post/reply', direction: 'down' },
  'property-set': { suffix: 'thing/property/set', direction: 'down', reply: 'property-set-reply' },
  'property-set-reply': { suffix: 'thing/property/set_reply', direction: 'up' },
  'property-get': { suffix: 'thing/property/get', direction: 'down', reply: 'property-get-reply' },
  'property-get-reply': { suffix: 'thing/property/get_reply', direction: 'up' },
  'desired-get': { suffix: 'thing/property/desired/get', direction: 'up', reply: 'desired-get-reply' },
  'desired-get-reply': { suffix: 'thing/property/desired/get/reply', direction: 'down' },
  'desired-delete': {
    suffix: 'thing/property/desired/delete',
    direction: 'up',
    reply: 'desired-delete-reply',
  },
  'desired-delete-reply': { suffix: 'thing/property/desired/delete/reply', direction: 'down' },
  'event-post': { suffix: 'thing/event/post', direction: 'up', reply: 'event-post-reply' },
  'event-post-reply': { suffix: 'thing/event/post/reply', direction: 'down' },
  'service-invoke': {
    suffix: 'thing/service/{identifier}/invoke',
    direction: 'down',
    reply: 'service-invoke-reply',
  },
  'service-invoke-reply': { suffix: 'thing/service/{identifier}/invoke_reply', direction: 'up' },
  'pack-post': { suffix: 'thing/pack/post', direction: 'up', reply: 'pack-post-reply' },
  'pack-post-reply': { suffix: 'thing/pack/post/reply', direction: 'down' },
  'history-post': { suffix: 'thing/history/post', direction: 'up', reply: 'history-post-reply' },
  'history-post-reply': { suffix: 'thing/history/post/reply', direction: 'down' },
  'sub-login': { suffix: 'thing/sub/login', direction: 'up', reply: 'sub-login-reply' },
  'sub-login-reply': { suffix: 'thing/sub/login/reply', direction: 'down' },
  'sub-logout': { suffix: 'thing/sub/logout', direction: 'up', reply: 'sub-logout-reply' },
  'sub-logout-reply': { suffix: 'thing/sub/logout/reply', direction: 'down' },
  'sub-property-get': {
    suffix: 'thing/sub/property/get',
    direction: 'down',
    reply: 'sub-property-get-reply',
  },
  'sub-property-get-reply': { suffix: 'thing/sub/property/get_reply', direction: 'up' },
  'sub-property-set': {
    suffix: 'thing/sub/property/set',
    direction: 'down',
    reply: 'sub-property-set-reply',
  },
  'sub-property-set-reply': { suffix: 'thing/sub/property/set_reply', direction: 'up' },
  'sub-service-invoke': {
    suffix: 'thing/sub/service/invoke',
    direction: 'down',
    reply: 'sub-service-invoke-reply',
  },
  'sub-service-invoke-reply': { suffix: 'thing/sub/service/invoke_reply', direction: 'up' },
  'sub-topo-add': { suffix: 'thing/sub/topo/add', direction: 'up', reply: 'sub-topo-add-reply' },
  'sub-topo-add-reply': { suffix: 'thing/sub/topo/add/reply', direction: 'down' },
  'sub-topo-delete': { suffix: 'thing/sub/topo/delete', direction: 'up', reply: 'sub-topo-delete-reply' },
  'sub-topo-delete-reply': { suffix: 'thing/sub/topo/delete/reply', direction: 'down' },
  'sub-topo-get': { suffix: 'thing/sub/topo/get', direction: 'up', reply: 'sub-topo-get-reply' },
  'sub-topo-get-reply': { suffix: 'thing/sub/topo/get/reply', direction: 'down' },
  'sub-topo-get-result': { suffix: 'thing/sub/topo/get/result', direction: 'up' },
  'sub-topo-change': { suffix: 'thing/sub/topo/change', direction: 'down', reply: 'sub-topo-change-reply' },
  'sub-topo-change-reply': { suffix: 'thing/sub/topo/change_reply', direction: 'up' },
  'ota-inform': { suffix: 'ota/inform', direction: 'down', reply: 'ota-inform-reply' },
  'ota-inform-reply': { suffix: 'ota/inform_reply', direction: 'up' },
  // §3 rows 20–21, [DOC-IOT] device-connect&manager/script/example-mqtt.md: data up, its reply down;
  // commands down on `custome/down/{id}` ("需采用通配符+号订阅"), answered on `custome/down_reply/{id}`
  // with the id of the command.
  'custom-up': { suffix: 'custome/up', direction: 'up', reply: 'custom-up-reply' },
  'custom-up-reply': { suffix: 'custome/up_reply', direction: 'down' },
  'custom-down': { suffix: 'custome/down/{id}', direction: 'down', reply: 'custom-down-reply' },
  'custom-down-reply': { suffix: 'custome/down_reply/{id}', direction: 'up' },
} as const satisfies Record<string, TopicSpec>;

export type TopicKind = keyof typeof TOPICS;
export const TOPIC_KINDS = Object.keys(TOPICS) as TopicKind[];

/** Kinds whose topic carries a service identifier. */
export type ServiceTopicKind = 'service-invoke' | 'service-invoke-reply';

/** Kinds whose topic carries the message id of a custom command. */
export type CustomCommandTopicKind = 'custom-down' | 'custom-down-reply';

/**
 * The custom-data (透传/自定义) kinds: their payload is the product's own format, bytes a data-parsing
 * script on OneNET translates to and from the thing model, never OneJSON (§3 rows 20–21).
 */
export type CustomTopicKind = 'custom-up' | 'custom-up-reply' | CustomCommandTopicKind;

const CUSTOM_KINDS: ReadonlySet<TopicKind> = new Set<CustomTopicKind>([
  'custom-up',
  'custom-up-reply',
  'custom-down',
  'custom-down-reply',
]);

export function isCustomTopicKind(kind: TopicKind): kind is CustomTopicKind {
  return CUSTOM_KINDS.has(kind);
}

export interface TopicAddress {
  productId: string;
  deviceName: string;
  kind: TopicKind;
  /** The variable topic level: the service identifier (service kinds), the command id (custom commands). */
  identifier?: string;
}

export type ParsedTopic = ({ ours: true } & TopicAddress) | { ours: false; reason: string };

const SYS_PREFIX = '$sys/';

export function devicePrefix(productId: string, deviceName: string): string {
  return `${SYS_PREFIX}${productId}/${deviceName}/`;
}

/** The placeholder of a suffix's variable level. */
const VARIABLE_LEVEL = /\{(?:identifier|id)\}/;

/** A topic level must not be empty nor contain MQTT separators or wildcards. */
function isPlainLevel(value: string): boolean {
  return value.length > 0 && !/[/+#]/.test(value) && !value.includes('\0');
}

export function buildTopic(address: TopicAddress): string {
  const { productId, deviceName, kind, identifier } = address;
  if (!isPlainLevel(productId) || !isPlainLevel(deviceName)) {
    throw new Error('product id and device name must be non-empty and contain no "/", "+" or "#"');
  }
  let suffix: string = TOPICS[kind].suffix;
  const variable = VARIABLE_LEVEL.exec(suffix);
  if (variable) {
    if (identifier === undefined || !isPlainLevel(identifier)) {
      const what = variable[0] === '{id}' ? 'a command id' : 'a service identifier';
      throw new Error(`topic kind "${kind}" needs ${what} without "/", "+" or "#"`);
    }
    suffix = suffix.replace(variable[0], identifier);
  }
  return devicePrefix(productId, deviceName) + suffix;
}

const FIXED_SUFFIXES = new Map<string, TopicKind>(
  TOPIC_KINDS.filter((kind) => !VARIABLE_LEVEL.test(TOPICS[kind].suffix)).map((kind) => [
    TOPICS[kind].suffix,
    kind,
  ]),
);
/** Suffixes with a variable level, as patterns capturing that level (one level: no `/`, `+`, `#`). */
const VARIABLE_SUFFIXES: ReadonlyArray<{ pattern: RegExp; kind: TopicKind }> = TOPIC_KINDS.filter((kind) =>
  VARIABLE_LEVEL.test(TOPICS[kind].suffix),
).map((kind) => {
  const [before, after] = TOPICS[kind].suffix.split(VARIABLE_LEVEL) as [string, string];
  return { pattern: new RegExp(`^${escapeRegExp(before)}([^/+#]+)${escapeRegExp(after)}$`), kind };
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function parseTopic(topic: string): ParsedTopic {
  if (typeof topic !== 'string') return { ours: false, reason: 'topic is not a string' };
  if (!topic.startsWith(SYS_PREFIX)) return { ours: false, reason: 'not a $sys topic' };
  const rest = topic.slice(SYS_PREFIX.length);
  const firstSlash = rest.indexOf('/');
  const secondSlash = rest.indexOf('/', firstSlash + 1);
  if (firstSlash <= 0 || secondSlash <= firstSlash + 1)
    return { ours: false, reason: 'no product id and device name' };
  const productId = rest.slice(0, firstSlash);
  const deviceName = rest.slice(firstSlash + 1, secondSlash);
  if (!isPlainLevel(productId) || !isPlainLevel(deviceName)) {
    return { ours: false, reason: 'wildcard in product id or device name' };
  }
  const suffix = rest.slice(secondSlash + 1);
  const fixedKind = FIXED_SUFFIXES.get(suffix);
  if (fixedKind) return { ours: true, productId, deviceName, kind: fixedKind };
  for (const { pattern, kind } of VARIABLE_SUFFIXES) {
    const match = pattern.exec(suffix);
    if (match) return { ours: true, productId, deviceName, kind, identifier: match[1]! };
  }
  return { ours: false, reason: `unknown thing-model topic "${suffix}"` };
}

export function topicDirection(kind: TopicKind): Direction {
  return TOPICS[kind].direction;
}

/** The kind that answers `kind`, or undefined when it is not a request. */
export function replyKindOf(kind: TopicKind): TopicKind | undefined {
  const spec: TopicSpec = TOPICS[kind];
  return spec.reply as TopicKind | undefined;
}
