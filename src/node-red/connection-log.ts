import type { ConnectionStatus, DeviceConnection, DeviceIdentity } from '../connection';
import { redact } from '../connection/redact';
import type { Translate } from './i18n';
import type { Node } from './node-red-types';

/**
 * How long a session must last before "reconnected" is logged. A twin client kicks us within a
 * second or two of every login, and a flapping link drops right after one: logging each short
 * session would be a log line per retry. Three seconds is the connection's default kick window.
 */
export const RECONNECT_SETTLE_MS = 3000;

/** What the log last said about a connection; 'connecting' and 'closed' say nothing new. */
type Condition = 'up' | 'auth-failed' | 'kicked' | 'down' | 'down-on-request';

/** A device config node that can speak for a connection in the log. */
export interface LogSpeaker {
  node: Node;
  t: Translate;
  /** "productId/deviceName". */
  device: string;
  identity: DeviceIdentity;
  /** The device key: never in a log line, whatever a reason text quotes. */
  key: string;
}

/**
 * The Node-RED log of one connection, as the core mqtt-broker node keeps it: one line per change of
 * state, not per retry (a wrong key refused ten times is one "auth failed" line). Lines go through
 * the first config node that handed the connection out and is still open, so a device shared by two
 * config nodes is logged once.
 */
class ConnectionLog {
  private readonly speakers: LogSpeaker[] = [];
  private said: Condition | undefined;
  private settle: NodeJS.Timeout | undefined;
  private readonly onStatus = (status: ConnectionStatus): void => this.changed(status);

  constructor(private readonly connection: DeviceConnection) {
    connection.on('status', this.onStatus);
  }

  add(speaker: LogSpeaker): void {
    if (!this.speakers.some((each) => each.node === speaker.node)) this.speakers.push(speaker);
  }

  /** Returns true when nobody is left to speak, and the log has stopped listening. */
  remove(node: Node): boolean {
    const index = this.speakers.findIndex((each) => each.node === node);
    if (index >= 0) this.speakers.splice(index, 1);
    if (this.speakers.length > 0) return false;
    this.stop();
    return true;
  }

  private stop(): void {
    clearTimeout(this.settle);
    this.settle = undefined;
    this.connection.off('status', this.onStatus);
  }

  private changed(status: ConnectionStatus): void {
    if (status.state === 'closed') {
      this.stop();
      return;
    }
    const now = conditionOf(status);
    if (now === undefined) return; // connecting: the outcome is what counts
    if (now !== 'up') {
      // A short session after trouble was never reported as "reconnected", so the trouble goes on.
      clearTimeout(this.settle);
      this.settle = undefined;
    }
    if (now === this.said) return;
    if (now === 'up' && this.said !== undefined) {
      this.settle ??= setTimeout(() => {
        this.settle = undefined;
        this.say('up', status);
      }, RECONNECT_SETTLE_MS);
      return;
    }
    this.say(now, status);
  }

  private say(condition: Condition, status: ConnectionStatus): void {
    const first = this.said === undefined;
    this.said = condition;
    const speaker = this.speakers[0];
    if (!speaker) return;
    const { node, t, device, identity, key } = speaker;
    switch (condition) {
      case 'up': {
        const address = `${identity.host}:${identity.port}`;
        node.log(first ? t('logConnected', { device, address }) : t('logReconnected', { device }));
        return;
      }
      case 'auth-failed':
        node.warn(t('logAuthFailed', { device }));
        return;
      case 'kicked':
        node.warn(t('logKicked', { device }));
        return;
      case 'down':
        node.warn(t('logDisconnected', { device, reason: redact(status.lastError ?? '', [key]) }));
        return;
      case 'down-on-request':
        node.log(t('logDisconnectedOnRequest', { device }));
        return;
    }
  }
}

function conditionOf(status: ConnectionStatus): Condition | undefined {
  switch (status.state) {
    case 'connected':
      return 'up';
    case 'auth-failed':
      return 'auth-failed';
    case 'disconnected':
      if (status.kicked) return 'kicked';
      // The connection clears its last error only when the user disconnects (msg.action).
      return status.lastError === undefined ? 'down-on-request' : 'down';
    default:
      return undefined;
  }
}

const logs = new WeakMap<DeviceConnection, ConnectionLog>();

/**
 * The connections one device config node has handed out, logged through it (unless another config
 * node of the device already does) until the config node closes.
 */
export class ConfigNodeLog {
  private readonly watched = new Set<DeviceConnection>();

  constructor(private readonly speaker: LogSpeaker) {}

  watch(connection: DeviceConnection): void {
    // A connection closed since (a deploy, the last user gone) logs nothing more: let it go.
    for (const old of this.watched) {
      if (old !== connection && old.status().state === 'closed') this.unwatch(old);
    }
    if (this.watched.has(connection)) return;
    this.watched.add(connection);
    let log = logs.get(connection);
    if (!log) {
      log = new ConnectionLog(connection);
      logs.set(connection, log);
    }
    log.add(this.speaker);
  }

  stop(): void {
    for (const connection of [...this.watched]) this.unwatch(connection);
  }

  private unwatch(connection: DeviceConnection): void {
    this.watched.delete(connection);
    const log = logs.get(connection);
    if (log?.remove(this.speaker.node)) logs.delete(connection);
  }
}
