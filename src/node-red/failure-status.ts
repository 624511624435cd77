import { OneNetRequestError, type ConnectionStatus, type RequestFailureReason } from '../connection';
import { describeReplyCode } from '../protocol';
import { FlowError } from './flow-error';
import type { MessageName, Translate } from './i18n';
import { ModelCheckError } from './model-check';

/** Longest detail quoted in a status; the whole sentence is in msg.error and the Debug sidebar. */
const MAX_DETAIL_CHARS = 48;

/** Reasons whose status is a fixed text; 'offline', 'invalid' and 'reply' say more. */
const FIXED_TEXTS: Partial<Record<RequestFailureReason, MessageName>> = {
  timeout: 'failedTimeout',
  'queue-overflow': 'failedQueueOverflow',
  'queue-expired': 'failedQueueExpired',
  busy: 'failedBusy',
  disconnected: 'failedDisconnected',
  store: 'failedStore',
  closed: 'closed',
};

/**
 * The status text after a failed message: a few words that name the cause ("offline: auth failed",
 * "invalid: payload.temperature is NaN", "timeout", "OneNET 309: identifier not exist"), never a
 * bare "error". `connection` is the node's connection status at the time, for offline failures.
 * `t` translates composed texts; `statusText` sends fixed ones as keys (see statusTexts in i18n.ts).
 */
export function failureStatusText(
  err: unknown,
  connection: ConnectionStatus | undefined,
  t: Translate,
  statusText: Translate,
): string {
  if (err instanceof ModelCheckError) return t('failedModel', { detail: shortDetail(err.detail) });
  if (err instanceof FlowError && err.status) return statusText(err.status);
  if (!(err instanceof OneNetRequestError)) {
    return t('failedOther', { reason: shortDetail(err instanceof Error ? err.message : String(err)) });
  }
  const fixed = FIXED_TEXTS[err.reason];
  if (fixed) return statusText(fixed);
  switch (err.reason) {
    case 'offline':
      return t('failedOffline', { cause: t(offlineCause(connection)) });
    case 'reply': {
      const code = err.code ?? 0;
      const message = shortDetail(err.platformMessage || describeReplyCode(code));
      return t('failedReply', { code, message });
    }
    default:
      return t('failedInvalid', { detail: shortDetail(err.message) });
  }
}

function offlineCause(connection: ConnectionStatus | undefined): MessageName {
  switch (connection?.state) {
    case 'auth-failed':
      return 'causeAuthFailed';
    case 'connecting':
      return 'causeConnecting';
    case 'closed':
      return 'causeClosed';
    default:
      return connection?.kicked ? 'causeKicked' : 'causeDisconnected';
  }
}

/**
 * The first clause of an error sentence, without the parts every message of its kind shares:
 * "msg.payload.temperature is NaN, which is not a finite number" -> "payload.temperature is NaN".
 */
export function shortDetail(message: string): string {
  let detail = message
    .replace(/^reply not sent: /, '')
    .replace(/^msg\./, '')
    .split(/, which |, or |; | \(/)[0]!
    .trim();
  if (detail === '') detail = message.trim();
  return detail.length <= MAX_DETAIL_CHARS ? detail : `${detail.slice(0, MAX_DETAIL_CHARS - 1)}…`;
}
