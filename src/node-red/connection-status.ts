import type { ConnectionStatus, DeviceChannel, SubDeviceStatus } from '../connection';
import type { Translate } from './i18n';
import type { Node, NodeStatus } from './node-red-types';

/** How often at most a queue-depth-only change repaints the status (the brief's ~250 ms). */
export const QUEUE_STATUS_INTERVAL_MS = 250;

/**
 * How long the cause of a failed message stays on the node before the connection's status returns:
 * long enough to read, short enough that a node does not look broken after one bad message.
 */
export const FAILURE_STATUS_HOLD_MS = 5000;

/**
 * The status a connection state is shown with (brief "Status colours/shapes"). A non-empty queue wins
 * over the state because it is what the user can act on: messages are being held back.
 */
export function describeConnectionStatus(status: ConnectionStatus, t: Translate): NodeStatus {
  if (status.busy && status.state !== 'closed') {
    return { fill: 'yellow', shape: 'ring', text: t('busy', { count: status.queueDepth }) };
  }
  if (status.storeError !== undefined && status.state !== 'closed') {
    return { fill: 'red', shape: 'ring', text: t('storeFailed') };
  }
  if (status.backfilling !== undefined && status.state === 'connected') {
    return { fill: 'yellow', shape: 'dot', text: t('backfilling', { count: status.backfilling }) };
  }
  if (status.stored !== undefined && status.state !== 'closed') {
    return { fill: 'yellow', shape: 'ring', text: t('stored', { count: status.stored }) };
  }
  // Posts held for a sub-device's binding and login wait as the queued ones do: on a sub-device's
  // nodes its own, on a gateway's nodes those of all its sub-devices.
  const held = status.subDevice ? (status.subDevice.waiting ?? 0) : (status.subDevicesWaiting ?? 0);
  if (held > 0 && status.subDevice?.state === 'binding' && status.state === 'connected') {
    return { fill: 'yellow', shape: 'ring', text: t('subBindingWaiting', { count: held }) };
  }
  if (status.queueDepth + held > 0 && status.state !== 'closed') {
    return { fill: 'yellow', shape: 'dot', text: t('queued', { count: status.queueDepth + held }) };
  }
  if (status.subDevice && status.state === 'connected') return describeSubDevice(status.subDevice, t);
  switch (status.state) {
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: t('connecting') };
    case 'connected':
      return status.subDevices
        ? { fill: 'green', shape: 'dot', text: t('gatewayConnected', { count: status.subDevices }) }
        : { fill: 'green', shape: 'dot', text: t('connected') };
    case 'auth-failed':
      return { fill: 'red', shape: 'dot', text: t('authFailed') };
    case 'closed':
      return { fill: 'grey', shape: 'ring', text: t('closed') };
    case 'disconnected':
      return status.kicked
        ? { fill: 'red', shape: 'ring', text: t('kicked') }
        : { fill: 'red', shape: 'ring', text: t('disconnected') };
  }
}

/** A sub-device's own state, shown while its gateway is connected (else the gateway's state shows). */
function describeSubDevice(sub: SubDeviceStatus, t: Translate): NodeStatus {
  switch (sub.state) {
    case 'binding':
      return { fill: 'yellow', shape: 'ring', text: t('subBinding') };
    case 'logged-in':
      return { fill: 'green', shape: 'dot', text: t('subLoggedIn') };
    case 'not-bound':
      return { fill: 'red', shape: 'ring', text: t('subNotBound') };
    case 'refused':
      return sub.code === undefined
        ? { fill: 'red', shape: 'dot', text: t('subRefused') }
        : { fill: 'red', shape: 'dot', text: t('subRefusedCode', { code: sub.code }) };
  }
}

/**
 * One flow node's status line. It follows a connection's 'status' events and shows the outcome of
 * the node's own work: a reply code until the connection has news, the cause of a failure for
 * FAILURE_STATUS_HOLD_MS (or until a success or a change of connection state). Identical statuses are
 * not repeated, so a steady stream of messages does not turn into a stream of status updates.
 */
export class StatusView {
  private connection: DeviceChannel | undefined;
  private lastShown = '';
  private lastState: ConnectionStatus['state'] | undefined;
  private lastPaintAt = 0;
  private pendingPaint: NodeJS.Timeout | undefined;
  /** Ends the hold of a failure status; while it runs, queue-depth changes do not repaint. */
  private failureHold: NodeJS.Timeout | undefined;
  /**
   * The node shows its connection's status as of the connection's last 'status' event. Then
   * showConnection(), called after every successful message, has nothing to do: the status changes
   * only with an event (or with the node's own showFailure/showReplied/showProblem).
   */
  private showingConnection = false;
  private readonly onStatus = (status: ConnectionStatus): void => this.connectionChanged(status);

  /**
   * `statusText` is what a status text is sent as (see statusTexts in i18n.ts: plain texts as keys
   * for the editor to translate). Failure texts come composed (showFailure).
   */
  constructor(
    private readonly node: Node,
    private readonly statusText: Translate,
    private readonly failureHoldMs = FAILURE_STATUS_HOLD_MS,
  ) {}

  /** The followed connection's status now, or undefined when the node follows none. */
  connectionStatus(): ConnectionStatus | undefined {
    return this.connection?.status();
  }

  /** Shows `connection`'s status from now on (and stops following the previous one). */
  follow(connection: DeviceChannel): void {
    if (this.connection === connection) return;
    this.unfollow();
    this.connection = connection;
    connection.on('status', this.onStatus);
    this.showConnection();
  }

  /** Shows the connection's current status again, e.g. after a success that follows an error. */
  showConnection(): void {
    if (!this.showingConnection) this.repaintConnection();
  }

  /**
   * The cause of a failed message (see failureStatusText), shown red for a few seconds; then the
   * connection's status returns, so one bad message does not leave the node looking broken.
   */
  showFailure(text: string): void {
    this.paint({ fill: 'red', shape: 'ring', text });
    this.clearFailureHold();
    if (!this.connection) return; // nothing to return to: the cause stays until the next message
    this.failureHold = setTimeout(() => {
      this.failureHold = undefined;
      this.repaintConnection();
    }, this.failureHoldMs);
  }

  /** A problem that stops the node from working at all (no device, bad config). */
  showProblem(problem: 'noDeviceStatus' | 'deviceConfigStatus'): void {
    this.paint({ fill: 'red', shape: 'ring', text: this.statusText(problem) });
  }

  /** No status at all: the node has no device to show (a reply node whose last device was removed). */
  clear(): void {
    this.unfollow();
    this.lastShown = '';
    this.node.status({});
  }

  showReplied(code: number): void {
    this.paint({
      fill: code === 200 ? 'green' : 'yellow',
      shape: 'dot',
      text: this.statusText('replied', { code }),
    });
  }

  /** Stops following; the node is closing. */
  stop(): void {
    this.unfollow();
  }

  private repaintConnection(): void {
    this.clearFailureHold();
    if (!this.connection) return;
    const status = this.connection.status();
    this.lastState = status.state;
    this.paint(describeConnectionStatus(status, this.statusText));
    this.showingConnection = true;
  }

  private unfollow(): void {
    this.showingConnection = false;
    this.clearFailureHold();
    if (this.pendingPaint) clearTimeout(this.pendingPaint);
    this.pendingPaint = undefined;
    this.connection?.off('status', this.onStatus);
    this.connection = undefined;
  }

  private connectionChanged(status: ConnectionStatus): void {
    const stateChanged = status.state !== this.lastState;
    // A failure's cause stays for its hold unless the connection itself changed; the end of the hold
    // paints the depth current then.
    if (this.failureHold && !stateChanged) return;
    if (stateChanged || Date.now() - this.lastPaintAt >= QUEUE_STATUS_INTERVAL_MS) {
      if (this.pendingPaint) clearTimeout(this.pendingPaint);
      this.pendingPaint = undefined;
      this.repaintConnection();
      return;
    }
    // Queue depth moved within the interval: paint once at its end, with the depth current then.
    this.pendingPaint ??= setTimeout(
      () => {
        this.pendingPaint = undefined;
        this.repaintConnection();
      },
      QUEUE_STATUS_INTERVAL_MS - (Date.now() - this.lastPaintAt),
    );
  }

  private clearFailureHold(): void {
    if (this.failureHold) clearTimeout(this.failureHold);
    this.failureHold = undefined;
  }

  /** Paints `status` unless it is already shown; the node's own statuses end showingConnection. */
  private paint(status: NodeStatus): void {
    this.showingConnection = false;
    this.lastPaintAt = Date.now();
    const key = `${status.fill}|${status.shape}|${status.text}`;
    if (key === this.lastShown) return;
    this.lastShown = key;
    this.node.status(status);
  }
}
