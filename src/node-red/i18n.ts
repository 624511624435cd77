import type { NodeAPI } from './node-red-types';

/**
 * Every message key the runtime uses. Those shared by all our node sets live in the onenet-device
 * catalog, so every node refers to them fully qualified (a node's own namespace would not find them).
 */
const OUR_NAMESPACE = '@iot-flows/node-red-onenet/onenet-device:onenet-device.';
/** Messages only one node type uses live in that node's own catalogue. */
const COMMAND_IN_NAMESPACE = '@iot-flows/node-red-onenet/onenet-command-in:onenet-command-in.';
const COMMAND_REPLY_NAMESPACE = '@iot-flows/node-red-onenet/onenet-command-reply:onenet-command-reply.';
const PRODUCT_NAMESPACE = '@iot-flows/node-red-onenet/onenet-product:onenet-product.';

export const MESSAGE_KEYS = {
  connecting: 'node-red:common.status.connecting',
  connected: 'node-red:common.status.connected',
  disconnected: 'node-red:common.status.disconnected',
  invalidAction: 'node-red:mqtt.errors.invalid-action-action',
  authFailed: `${OUR_NAMESPACE}status.auth-failed`,
  kicked: `${OUR_NAMESPACE}status.kicked`,
  queued: `${OUR_NAMESPACE}status.queued`,
  busy: `${OUR_NAMESPACE}status.busy`,
  stored: `${OUR_NAMESPACE}status.stored`,
  backfilling: `${OUR_NAMESPACE}status.backfilling`,
  storeFailed: `${OUR_NAMESPACE}status.store-failed`,
  failedStore: `${OUR_NAMESPACE}status.failed.store`,
  logStoreDropped: `${OUR_NAMESPACE}log.store-dropped`,
  logStoreRefused: `${OUR_NAMESPACE}log.store-refused`,
  logStoreTorn: `${OUR_NAMESPACE}log.store-torn`,
  logStoreUnusable: `${OUR_NAMESPACE}log.store-unusable`,
  logStoreUsable: `${OUR_NAMESPACE}log.store-usable`,
  logStoreKept: `${OUR_NAMESPACE}log.store-kept`,
  logStoreKeptUnread: `${OUR_NAMESPACE}log.store-kept-unread`,
  closed: `${OUR_NAMESPACE}status.closed`,
  subBinding: `${OUR_NAMESPACE}status.sub-binding`,
  subBindingWaiting: `${OUR_NAMESPACE}status.sub-binding-waiting`,
  subLoggedIn: `${OUR_NAMESPACE}status.sub-logged-in`,
  subNotBound: `${OUR_NAMESPACE}status.sub-not-bound`,
  subRefused: `${OUR_NAMESPACE}status.sub-refused`,
  subRefusedCode: `${OUR_NAMESPACE}status.sub-refused-code`,
  gatewayConnected: `${OUR_NAMESPACE}status.gateway-connected`,
  invalidUnbind: `${OUR_NAMESPACE}errors.unbind-not-sub-device`,
  noDeviceStatus: `${OUR_NAMESPACE}status.no-device`,
  sent: `${OUR_NAMESPACE}status.sent`,
  replied: `${OUR_NAMESPACE}status.replied`,
  deviceConfigStatus: `${OUR_NAMESPACE}status.device-config`,
  failedOffline: `${OUR_NAMESPACE}status.failed.offline`,
  failedInvalid: `${OUR_NAMESPACE}status.failed.invalid`,
  failedTimeout: `${OUR_NAMESPACE}status.failed.timeout`,
  failedReply: `${OUR_NAMESPACE}status.failed.reply`,
  failedQueueOverflow: `${OUR_NAMESPACE}status.failed.queue-overflow`,
  failedQueueExpired: `${OUR_NAMESPACE}status.failed.queue-expired`,
  failedBusy: `${OUR_NAMESPACE}status.failed.busy`,
  failedDisconnected: `${OUR_NAMESPACE}status.failed.disconnected`,
  failedOther: `${OUR_NAMESPACE}status.failed.other`,
  failedNoOnenet: `${OUR_NAMESPACE}status.failed.no-onenet`,
  failedNoEvent: `${OUR_NAMESPACE}status.failed.no-event`,
  failedOtherDevice: `${OUR_NAMESPACE}status.failed.other-device`,
  failedInvalidAction: `${OUR_NAMESPACE}status.failed.invalid-action`,
  causeAuthFailed: `${OUR_NAMESPACE}status.cause.auth-failed`,
  causeKicked: `${OUR_NAMESPACE}status.cause.kicked`,
  causeDisconnected: `${OUR_NAMESPACE}status.cause.disconnected`,
  causeConnecting: `${OUR_NAMESPACE}status.cause.connecting`,
  causeClosed: `${OUR_NAMESPACE}status.cause.closed`,
  logConnected: `${OUR_NAMESPACE}log.connected`,
  logReconnected: `${OUR_NAMESPACE}log.reconnected`,
  logAuthFailed: `${OUR_NAMESPACE}log.auth-failed`,
  logKicked: `${OUR_NAMESPACE}log.kicked`,
  logDisconnected: `${OUR_NAMESPACE}log.disconnected`,
  logDisconnectedOnRequest: `${OUR_NAMESPACE}log.disconnected-on-request`,
  duplicateIdentity: `${OUR_NAMESPACE}warn.duplicate-identity`,
  settingsDiffer: `${OUR_NAMESPACE}warn.settings-differ`,
  lateReply: `${OUR_NAMESPACE}warn.late-reply`,
  duplicateReply: `${OUR_NAMESPACE}warn.duplicate-reply`,
  platformMessage: `${OUR_NAMESPACE}warn.platform-message`,
  releaseFailed: `${OUR_NAMESPACE}warn.release-failed`,
  desiredNoProduct: `${OUR_NAMESPACE}warn.sync-desired.no-product`,
  desiredNoModel: `${OUR_NAMESPACE}warn.sync-desired.no-model`,
  desiredNoWritable: `${OUR_NAMESPACE}warn.sync-desired.no-writable`,
  autoReplyFailed: `${COMMAND_IN_NAMESPACE}errors.auto-reply-failed`,
  otherDevice: `${COMMAND_REPLY_NAMESPACE}errors.other-device`,
  noOnenet: `${OUR_NAMESPACE}errors.no-onenet`,
  noDevice: `${OUR_NAMESPACE}errors.no-device`,
  noEvent: `${OUR_NAMESPACE}errors.no-event`,
  failedModel: `${OUR_NAMESPACE}status.failed.model`,
  modelRefused: `${OUR_NAMESPACE}errors.model`,
  modelWarning: `${OUR_NAMESPACE}warn.model`,
  modelViolation: `${OUR_NAMESPACE}model.violation`,
  modelNotJson: `${PRODUCT_NAMESPACE}warn.not-json`,
  modelProblems: `${PRODUCT_NAMESPACE}warn.problems`,
} as const;

export type MessageName = keyof typeof MESSAGE_KEYS;

export type Translate = (name: MessageName, substitutions?: Record<string, string | number>) => string;

/** Binds the runtime's i18n function to our key table, so call sites name messages, not key strings. */
export function translator(RED: NodeAPI): Translate {
  return (name, substitutions) => RED._(MESSAGE_KEYS[name], substitutions);
}

/**
 * Texts for node.status(). A text without placeholders goes out as its key: the editor translates
 * status keys itself, so each user sees their browser's language. One with placeholders is
 * translated here, because the editor cannot fill them in.
 */
export function statusTexts(RED: NodeAPI): Translate {
  return (name, substitutions) =>
    substitutions ? RED._(MESSAGE_KEYS[name], substitutions) : MESSAGE_KEYS[name];
}

/**
 * The reason of one thing-model rule (tsl-types.ts ModelRule), in the runtime's language: the checks'
 * own sentences are en-US, so other languages are built from the rule id and its limit.
 */
export function modelRuleText(RED: NodeAPI, rule: string, limit: number | string | undefined): string {
  return RED._(`${OUR_NAMESPACE}model.rule.${rule}`, { limit: limit === undefined ? '' : String(limit) });
}
