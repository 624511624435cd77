import type { ConnectionStatus, DeviceConnection } from '../connection';
import type { Translate } from './i18n';
import type { Node, NodeStatus } from './node-red-types';

/** How often at most a queue-depth-only change repaints the status (the brief's ~250 ms). */
export const QUEUE_STATUS_INTERVAL_MS = 250;

/**
 * The status a connection state is shown with (brief "Status colours/shapes"). A non-empty queue wins
 * over the state because it is what the user can act on: messages are being held back.
 */
export function describeConnectionStatus(status: ConnectionStatus, t: Translate): NodeStatus {
  if (status.busy && status.state !== 'closed') {
    return { fill: 'yellow', shape: 'ring', text: t('busy', { count: status.queueDepth }) };
  }
  if (status.queueDepth > 0 && status.state !== 'closed') {
    return { fill: 'yellow', shape: 'dot', text: t('queued', { count: status.queueDepth }) };
  }
  switch (status.state) {
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: t('connecting') };
    case 'connected':
      return { fill: 'green', shape: 'dot', text: t('connected') };
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

/**
 * One flow node's status line. It follows a connection's 'status' events and shows the outcome of
 * the node's own work (an error, a reply code) until the connection has news. Identical statuses are
 * not repeated, so a steady stream of messages does not turn into a stream of status updates.
 */
export class StatusView {
  private connection: DeviceConnection | undefined;
  private lastShown = '';
  private lastState: ConnectionStatus['state'] | undefined;
  private lastPaintAt = 0;
  private pendingPaint: NodeJS.Timeout | undefined;
  /**
   * The node shows its connection's status as of the connection's last 'status' event. Then
   * showConnection(), called after every successful message, has nothing to do: the status changes
   * only with an event (or with the node's own showError/showReplied/showProblem).
   */
  private showingConnection = false;
  private readonly onStatus = (status: ConnectionStatus): void => this.connectionChanged(status);

  /**
   * `t` translates in the runtime (for texts built from several parts); `statusText` is what a
   * plain status text is sent as (see statusTexts in i18n.ts). Tests may pass one function for both.
   */
  constructor(
    private readonly node: Node,
    private readonly t: Translate,
    private readonly statusText: Translate = t,
  ) {}

  /** Shows `connection`'s status from now on (and stops following the previous one). */
  follow(connection: DeviceConnection): void {
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

  /** A short red status after a failed message, e.g. "error: timeout". */
  showError(reason?: string): void {
    const text = reason ? `${this.t('error')}: ${reason}` : this.statusText('error');
    this.paint({ fill: 'red', shape: 'ring', text });
  }

  /** A problem that stops the node from working at all (no device, bad config). */
  showProblem(problem: 'noDeviceStatus' | 'error'): void {
    this.paint({ fill: 'red', shape: 'ring', text: this.statusText(problem) });
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
    if (!this.connection) return;
    const status = this.connection.status();
    this.lastState = status.state;
    this.paint(describeConnectionStatus(status, this.statusText));
    this.showingConnection = true;
  }

  private unfollow(): void {
    this.showingConnection = false;
    if (this.pendingPaint) clearTimeout(this.pendingPaint);
    this.pendingPaint = undefined;
    this.connection?.off('status', this.onStatus);
    this.connection = undefined;
  }

  private connectionChanged(status: ConnectionStatus): void {
    const stateChanged = status.state !== this.lastState;
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
