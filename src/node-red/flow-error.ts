import type { MessageName } from './i18n';

/**
 * An error our nodes hand to done(err) or throw at the user: its text is the whole story. Node-RED
 * shows String(err) in a Catch node's msg.error.message, the log and the Debug sidebar, so toString()
 * leaves out the class name ("Error: ...") that would otherwise come first.
 *
 * `status` names the short status text the node shows for it (see failure-status.ts), so a status
 * says what went wrong without repeating the whole sentence.
 */
export class FlowError extends Error {
  constructor(
    message: string,
    readonly status?: MessageName,
  ) {
    super(message);
  }

  override toString(): string {
    return this.message;
  }
}
