import type { NodeAPI } from './node-red-types';

type Listener = () => void;

/** One 'flows:started' listener per runtime, whatever the number of nodes waiting for it. */
const listenersOf = new WeakMap<object, Set<Listener>>();

/**
 * Calls `listener` each time a deploy (or a start) has started the flows, until the returned function
 * is called. Nodes share one listener on the runtime's event bus, so a flow with many such nodes
 * does not trip the emitter's MaxListeners warning.
 */
export function onFlowsStarted(RED: NodeAPI, listener: Listener): () => void {
  const events = RED.events;
  if (!events) return () => undefined;
  let listeners = listenersOf.get(events);
  if (!listeners) {
    const created = new Set<Listener>();
    listeners = created;
    listenersOf.set(events, created);
    events.on('flows:started', () => {
      for (const each of [...created]) each();
    });
  }
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}
