import { OneNetRequestError, type DeviceConnection } from '../connection';
import type { DeviceLink } from './device-link';
import type { DoneFunction, NodeMessage } from './node-red-types';

/** What a node does with one message once it has a connection; it settles the status itself. */
export type MessageWork = (connection: DeviceConnection) => Promise<void>;

/**
 * The common shape of every input handler: find the connection, handle `msg.action` like the core
 * MQTT nodes, otherwise run the node's work; any failure ends in done(err) with a short status, so a
 * Catch node sees the message and the error.
 */
export function runInput(
  link: DeviceLink,
  msg: NodeMessage,
  done: DoneFunction,
  connectionOf: () => DeviceConnection,
  work: MessageWork,
): void {
  let connection: DeviceConnection;
  try {
    connection = connectionOf();
  } catch (err) {
    done(asError(err));
    return;
  }
  // Truthy, as in the core MQTT nodes: an empty string means "no action".
  const action = msg.action ? runAction(link, connection, msg.action) : work(connection);
  action.then(
    () => done(),
    (err: unknown) => {
      link.status.showError(shortReason(err));
      done(asError(err));
    },
  );
}

async function runAction(link: DeviceLink, connection: DeviceConnection, action: unknown): Promise<void> {
  if (action === 'connect') {
    connection.connect();
    link.status.showConnection();
  } else if (action === 'disconnect') {
    await connection.disconnect();
    link.status.showConnection();
  } else {
    throw new Error(link.t('invalidAction'));
  }
}

/** A few words for the status line; the full message goes to done(err). */
export function shortReason(err: unknown): string | undefined {
  if (!(err instanceof OneNetRequestError)) return undefined;
  return err.reason === 'reply' && err.code !== undefined ? `code ${err.code}` : err.reason;
}

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
