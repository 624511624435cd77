import type { RequestFailureReason } from './types';

/** Every failure of request() and reply(), with a machine-readable reason and a sentence for the user. */
export class OneNetRequestError extends Error {
  override readonly name = 'OneNetRequestError';
  readonly reason: RequestFailureReason;
  // `declare`: only the details that are known become own properties (no `code: undefined` noise).
  declare id?: string;
  declare topic?: string;
  declare code?: number;
  declare latencyMs?: number;
  /**
   * Whether the request left this client: true means it may have reached OneNET (a retry may post it
   * twice); false means it was never sent. Absent where it does not apply (replies refused early).
   */
  declare sent?: boolean;
  /** For reason 'reply': the platform's own msg text of the reply, when it sent one. */
  declare platformMessage?: string;

  constructor(
    reason: RequestFailureReason,
    message: string,
    details: {
      id?: string;
      topic?: string;
      code?: number;
      latencyMs?: number;
      sent?: boolean;
      platformMessage?: string;
    } = {},
  ) {
    super(message);
    this.reason = reason;
    if (details.id !== undefined) this.id = details.id;
    if (details.topic !== undefined) this.topic = details.topic;
    if (details.code !== undefined) this.code = details.code;
    if (details.latencyMs !== undefined) this.latencyMs = details.latencyMs;
    if (details.sent !== undefined) this.sent = details.sent;
    if (details.platformMessage !== undefined) this.platformMessage = details.platformMessage;
  }

  /**
   * The sentence alone: Node-RED puts String(err) into a Catch node's msg.error.message and the log,
   * and the class name in front of it ("OneNetRequestError: ...") means nothing to a user. The name
   * stays on the error (and in its stack) for whoever debugs.
   */
  override toString(): string {
    return this.message;
  }
}
