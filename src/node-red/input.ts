import { SubDeviceHandle, type DeviceChannel } from '../connection';
import type { DeviceLink } from './device-link';
import { failureStatusText } from './failure-status';
import { FlowError } from './flow-error';
import type { DoneFunction, NodeMessage } from './node-red-types';

/** What a node does with one message once it has a connection; it settles the status itself. */
export type MessageWork = (connection: DeviceChannel) => Promise<void>;

/**
 * The common shape of every input handler: find the connection, handle `msg.action` like the core
 * MQTT nodes, otherwise run the node's work; any failure ends in done(err) with a short status, so a
 * Catch node sees the message and the error.
 */
export function runInput(
  link: DeviceLink,
  msg: NodeMessage,
  done: DoneFunction,
  connectionOf: () => DeviceChannel,
  work: MessageWork,
): void {
  const fail = (err: unknown): void => {
    link.status.showFailure(failureStatusText(err, link.status.connectionStatus(), link.t, link.statusText));
    done(asError(err));
  };
  let connection: DeviceChannel;
  try {
    connection = connectionOf();
  } catch (err) {
    fail(err);
    return;
  }
  // Truthy, as in the core MQTT nodes: an empty string means "no action".
  const action = msg.action ? runAction(link, connection, msg.action) : work(connection);
  action.then(() => done(), fail);
}

async function runAction(link: DeviceLink, connection: DeviceChannel, action: unknown): Promise<void> {
  if (action === 'connect') {
    connection.connect();
    link.status.showConnection();
  } else if (action === 'disconnect') {
    await connection.disconnect();
    link.status.showConnection();
  } else if (action === 'unbind') {
    // Unbinding is destructive (the console's 解绑), so only a flow's explicit request does it.
    if (!(connection instanceof SubDeviceHandle))
      throw new FlowError(link.t('invalidUnbind'), 'failedInvalidAction');
    await connection.unbind();
  } else {
    throw new FlowError(link.t('invalidAction'), 'failedInvalidAction');
  }
}

/**
 * What done(err) gets: our own errors as they are (their text is the message alone, see FlowError);
 * a plain Error from elsewhere (e.g. the pool refusing a second set of settings) as a FlowError with
 * its message and code, so a Catch node does not read "Error: ..."; anything else that is an Error
 * (a TypeError is a bug) keeps its name, which is then worth seeing.
 */
export function asError(err: unknown): Error {
  if (!(err instanceof Error)) return new FlowError(String(err));
  if (Object.getPrototypeOf(err) !== Error.prototype) return err;
  const readable = new FlowError(err.message);
  const { code } = err as { code?: unknown };
  if (code !== undefined) Object.assign(readable, { code });
  return readable;
}
