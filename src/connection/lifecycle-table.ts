import type { SessionEnd } from './reconnect-policy';
import type { Session } from './session';
import type { ConnectionState } from './types';

/**
 * The phases of a connection's life. Exactly one holds at a time; the session, the retry timer and
 * the pending disconnect live in the phase they belong to, so none outlives it.
 */
export type Phase =
  /** Not wanted: never connected, or disconnect() has finished. */
  | { name: 'idle' }
  /** A session logs in and subscribes. */
  | { name: 'connecting'; session: Session }
  /** The session is subscribed: requests are sent. */
  | { name: 'connected'; session: Session }
  /** The token expires soon: the session lets requests settle, ends, and a fresh login follows. */
  | { name: 'renewing'; session: Session }
  /** The last attempt ended; the next one starts when the back-off timer fires. */
  | { name: 'waiting'; end: SessionEnd; retryAt: number; timer: NodeJS.Timeout }
  /** disconnect() lets the old session settle and ends its client (`job` tells one disconnect() from the next). */
  | { name: 'disconnecting'; job: object }
  /** As disconnecting, but connect() came meanwhile: log in once the old client has ended. */
  | { name: 'reconnecting'; job: object }
  /** Final. */
  | { name: 'closed' };

export type PhaseName = Phase['name'];

export type LifecycleEvent =
  /** connect() (a deploy, msg.action "connect"); retryNow() is connect() while waiting. */
  | 'connect'
  | 'disconnect'
  | 'close'
  /** A session could not even be started (the options cannot make a client). */
  | 'start-failed'
  /** The session subscribed. */
  | 'ready'
  /** The session's client closed without us ending it. */
  | 'dropped'
  | 'retry-due'
  | 'renewal-due'
  /** The old session's client has ended (renewing, disconnecting, reconnecting). */
  | 'ended';

/** The whole state machine: the phase each event leads to; an event not listed is ignored. */
const TRANSITIONS: { readonly [from in PhaseName]: { readonly [event in LifecycleEvent]?: PhaseName } } = {
  idle: { connect: 'connecting', 'start-failed': 'waiting', disconnect: 'disconnecting', close: 'closed' },
  connecting: { ready: 'connected', dropped: 'waiting', disconnect: 'disconnecting', close: 'closed' },
  connected: { 'renewal-due': 'renewing', dropped: 'waiting', disconnect: 'disconnecting', close: 'closed' },
  renewing: {
    ended: 'connecting',
    'start-failed': 'waiting',
    dropped: 'waiting',
    disconnect: 'disconnecting',
    close: 'closed',
  },
  waiting: {
    connect: 'connecting',
    'retry-due': 'connecting',
    'start-failed': 'waiting',
    disconnect: 'disconnecting',
    close: 'closed',
  },
  disconnecting: { connect: 'reconnecting', ended: 'idle', disconnect: 'disconnecting', close: 'closed' },
  reconnecting: {
    ended: 'connecting',
    'start-failed': 'waiting',
    disconnect: 'disconnecting',
    close: 'closed',
  },
  closed: {},
};

/** Pure: where `event` leads from `from`, or undefined when the event changes nothing there. */
export function transition(from: PhaseName, event: LifecycleEvent): PhaseName | undefined {
  return TRANSITIONS[from][event];
}

/** The state events and status() show for a phase. */
export function publicState(phase: Phase): ConnectionState {
  switch (phase.name) {
    case 'connecting':
    case 'renewing':
    case 'reconnecting':
      return 'connecting';
    case 'connected':
      return 'connected';
    case 'waiting':
      return phase.end === 'auth-failed' ? 'auth-failed' : 'disconnected';
    case 'closed':
      return 'closed';
    case 'idle':
    case 'disconnecting':
      return 'disconnected';
  }
}
