import type { NodeAPI } from './node-red-types';

/**
 * Every message key the runtime uses. Those shared by all five node sets live in the onenet-device
 * catalog, so every node refers to them fully qualified (a node's own namespace would not find them).
 */
const OUR_NAMESPACE = '@iot-flows/node-red-onenet/onenet-device:onenet-device.';
/** Messages only one node type uses live in that node's own catalogue. */
const COMMAND_IN_NAMESPACE = '@iot-flows/node-red-onenet/onenet-command-in:onenet-command-in.';
const COMMAND_REPLY_NAMESPACE = '@iot-flows/node-red-onenet/onenet-command-reply:onenet-command-reply.';

export const MESSAGE_KEYS = {
  connecting: 'node-red:common.status.connecting',
  connected: 'node-red:common.status.connected',
  disconnected: 'node-red:common.status.disconnected',
  invalidAction: 'node-red:mqtt.errors.invalid-action-action',
  authFailed: `${OUR_NAMESPACE}status.auth-failed`,
  kicked: `${OUR_NAMESPACE}status.kicked`,
  queued: `${OUR_NAMESPACE}status.queued`,
  busy: `${OUR_NAMESPACE}status.busy`,
  closed: `${OUR_NAMESPACE}status.closed`,
  noDeviceStatus: `${OUR_NAMESPACE}status.no-device`,
  sent: `${OUR_NAMESPACE}status.sent`,
  error: `${OUR_NAMESPACE}status.error`,
  replied: `${OUR_NAMESPACE}status.replied`,
  duplicateIdentity: `${OUR_NAMESPACE}warn.duplicate-identity`,
  settingsDiffer: `${OUR_NAMESPACE}warn.settings-differ`,
  lateReply: `${OUR_NAMESPACE}warn.late-reply`,
  duplicateReply: `${OUR_NAMESPACE}warn.duplicate-reply`,
  platformMessage: `${OUR_NAMESPACE}warn.platform-message`,
  releaseFailed: `${OUR_NAMESPACE}warn.release-failed`,
  autoReplyFailed: `${COMMAND_IN_NAMESPACE}errors.auto-reply-failed`,
  otherDevice: `${COMMAND_REPLY_NAMESPACE}errors.other-device`,
  noOnenet: `${OUR_NAMESPACE}errors.no-onenet`,
  noDevice: `${OUR_NAMESPACE}errors.no-device`,
  noEvent: `${OUR_NAMESPACE}errors.no-event`,
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
