import type { DeviceChannel, DownlinkErrorEvent } from '../connection';
import { StatusView } from './connection-status';
import { findDeviceNode, type DeviceNode } from './device-node';
import { FlowError } from './flow-error';
import { onFlowsStarted } from './flows-started';
import { statusTexts, translator, type Translate } from './i18n';
import type { Node, NodeAPI } from './node-red-types';

/** Node-RED gives up on a close handler after 15 s; ours must finish well before that. */
export const CLOSE_GUARD_MS = 4000;

/**
 * Malformed platform messages already shown by some node. The connection hands the same event to
 * every node using the device; the first to take it shows it, so each bad message is one warning.
 */
const shownDownlinkErrors = new WeakSet<DownlinkErrorEvent>();

/**
 * A flow node's hold on device connections: acquires from the device config node, shows the
 * connection's status on the node, and releases everything when the node closes, so partial and
 * full deploys leave no users, listeners or sockets behind.
 *
 * Most nodes use one device, their own `device` config, acquired as soon as they start (so the
 * connection is up before the first message). onenet-command-reply may instead use the device a
 * message came from; those are acquired on first use and released on close too.
 *
 * A reply node without a device of its own shows the status of the device it last replied through.
 * When a deploy replaces that device's config node (say, with a new key), the old connection closes
 * and the node takes the new one once the flows have started, so it shows "auth failed" rather than
 * "closed" when the new key is refused.
 *
 * Connection trouble (auth failed, kicked, dropped) is logged by the device config node, once per
 * connection (see connection-log.ts); the nodes only show it in their status.
 *
 * Malformed platform messages (garbage on a request or reply topic) have no msg a Catch node could
 * get, and the fault is the platform's: one node per device shows each as a warning, a command-in
 * node when the device has one (`firstToShowDownlinkErrors`), else whichever node comes first, so a
 * flow that only posts hears about garbage on its reply topics too.
 */
export class DeviceLink {
  readonly t: Translate;
  /** Texts for node.status() (plain ones as keys for the editor to translate). */
  readonly statusText: Translate;
  readonly status: StatusView;
  private readonly held = new Map<
    string,
    { device: DeviceNode; userId: string; connection: DeviceChannel }
  >();
  /** The borrowed device (not the node's own) whose status the node shows: the last one used. */
  private shownBorrowedDevice: string | undefined;
  private stopWatchingDeploys: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly RED: NodeAPI,
    private readonly node: Node,
    private readonly ownDeviceId: string | undefined,
    deviceRequired: boolean,
    private readonly firstToShowDownlinkErrors = false,
  ) {
    this.t = translator(RED);
    this.statusText = statusTexts(RED);
    this.status = new StatusView(node, this.statusText);
    node.on('close', (removed, done) => this.close(removed, done));
    if (ownDeviceId) {
      try {
        this.connectionFor(ownDeviceId);
      } catch (err) {
        // Without a working device the node can only fail its messages; say why once, at start.
        node.error((err as Error).message);
      }
    } else if (deviceRequired) {
      this.status.showProblem('noDeviceStatus');
    }
  }

  /** The own device's connection if acquiring it at start worked. */
  startedConnection(): DeviceChannel | undefined {
    return this.ownDeviceId ? this.held.get(this.ownDeviceId)?.connection : undefined;
  }

  /** The connection of the node's own device; throws an Error for the user when there is none. */
  ownConnection(): DeviceChannel {
    if (!this.ownDeviceId) throw new FlowError(this.t('noDevice'), 'noDeviceStatus');
    return this.connectionFor(this.ownDeviceId);
  }

  /**
   * The connection of config node `deviceId`, acquired on first use. Acquiring again after a failure
   * is deliberate: a conflict with another config node may have gone away since.
   */
  connectionFor(deviceId: string): DeviceChannel {
    if (this.closed) throw new FlowError('node is closing', 'closed');
    const device = findDeviceNode(this.RED, deviceId);
    const existing = this.held.get(deviceId);
    if (deviceId !== this.ownDeviceId) this.showBorrowed(deviceId);
    if (existing && existing.device === device && existing.connection.status().state !== 'closed') {
      this.status.follow(existing.connection);
      return existing.connection;
    }
    // The config node was replaced or removed since (a deploy that did not restart this node): the
    // old hold ended with it (ConnectionPool.ownerClosed), so it is let go and the current one taken.
    if (existing) this.drop(deviceId);
    if (!device) {
      this.status.showProblem('noDeviceStatus');
      throw new FlowError(this.t('noDevice'), 'noDeviceStatus');
    }
    // One pool user per (flow node, device): the node's own device under its plain id, as the
    // connection layer documents; any other device under a derived id, so each is counted once.
    const userId = deviceId === this.ownDeviceId ? this.node.id : `${this.node.id}@${deviceId}`;
    let connection: DeviceChannel;
    try {
      connection = device.acquireConnection(userId);
    } catch (err) {
      this.status.showProblem('deviceConfigStatus');
      throw err;
    }
    this.held.set(deviceId, { device, userId, connection });
    this.status.follow(connection);
    connection.on('downlink-error', this.onDownlinkError);
    return connection;
  }

  /** From now on the node shows borrowed device `deviceId`, also across deploys that replace it. */
  private showBorrowed(deviceId: string): void {
    this.stopWatchingDeploys ??= onFlowsStarted(this.RED, this.onFlowsStarted);
    this.shownBorrowedDevice = deviceId;
  }

  /**
   * A deploy has started the new flows. If it closed the connection of the device shown (its config
   * node was changed), the node takes the one its new config node gives; if the device is gone, the
   * node shows nothing, as before its first reply.
   */
  private readonly onFlowsStarted = (): void => {
    const deviceId = this.shownBorrowedDevice;
    if (this.closed || deviceId === undefined) return;
    const held = this.held.get(deviceId);
    if (
      held &&
      held.connection.status().state !== 'closed' &&
      held.device === findDeviceNode(this.RED, deviceId)
    )
      return;
    if (!findDeviceNode(this.RED, deviceId)) {
      this.drop(deviceId);
      this.shownBorrowedDevice = undefined;
      this.status.clear();
      return;
    }
    try {
      this.connectionFor(deviceId);
    } catch {
      // The status already says why (connectionFor shows it); the next message reports it in full.
    }
  };

  private readonly onDownlinkError = (event: DownlinkErrorEvent): void => {
    if (this.firstToShowDownlinkErrors) this.showDownlinkError(event);
    // The other nodes wait a turn, so a command-in node of the device speaks first wherever it is
    // in the listener list.
    else setImmediate(() => this.showDownlinkError(event));
  };

  private showDownlinkError(event: DownlinkErrorEvent): void {
    if (this.closed || shownDownlinkErrors.has(event)) return;
    shownDownlinkErrors.add(event);
    this.node.warn(this.t('platformMessage', { topic: event.topic, reason: event.reason }));
  }

  private drop(deviceId: string): void {
    const held = this.held.get(deviceId);
    if (!held) return;
    this.held.delete(deviceId);
    held.connection.off('downlink-error', this.onDownlinkError);
    void held.device.releaseConnection(held.userId).catch(() => undefined);
  }

  private close(removed: boolean, done: () => void): void {
    this.closed = true;
    this.status.stop();
    this.stopWatchingDeploys?.();
    for (const { connection } of this.held.values()) connection.off('downlink-error', this.onDownlinkError);
    // A node that is only restarting keeps its own device logged in for its return; any other device it
    // borrowed (a reply node) is let go, as the next message names its device again.
    const releases = [...this.held.entries()].map(([deviceId, { device, userId }]) =>
      device.releaseConnection(userId, removed || deviceId !== this.ownDeviceId).catch((err: unknown) => {
        this.node.warn(this.t('releaseFailed', { reason: (err as Error).message }));
      }),
    );
    this.held.clear();
    // The connection layer promises to close within 2 s; the guard keeps a broken promise from
    // holding up a deploy until Node-RED's own timeout.
    let guard: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      guard = setTimeout(resolve, CLOSE_GUARD_MS);
    });
    void Promise.race([Promise.all(releases), timedOut]).then(() => {
      clearTimeout(guard);
      done();
    });
  }
}
