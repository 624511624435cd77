import { EventEmitter } from 'node:events';
import type { SubDeviceIdentity } from '../protocol';
import type { DownlinkFilter, DownlinkHandler } from './downlinks';
import { OneNetRequestError } from './errors';
import type { RequestCallOptions } from './post-entry';
import type {
  ConnectionStatus,
  DownlinkErrorEvent,
  DownlinkKind,
  DownlinkRequest,
  ReplyOutcome,
  RequestOutcome,
  SubDeviceStatus,
  UplinkKind,
} from './types';

/** What a handle needs from its gateway's connection (sub-devices.ts wires it). */
export interface SubDeviceHost {
  gatewayStatus: () => ConnectionStatus;
  /** Its posts held until it is bound and logged in. */
  waiting: () => number;
  request: (kind: UplinkKind, params: unknown, options: RequestCallOptions) => Promise<RequestOutcome>;
  reply: (
    request: { kind: DownlinkKind; id: string; identifier?: string },
    code: number,
    data?: unknown,
    message?: string,
  ) => Promise<ReplyOutcome>;
  unbind: () => Promise<void>;
  connect: () => void;
}

interface Registration {
  handler: DownlinkHandler;
  accepts: DownlinkFilter | undefined;
}

/**
 * A sub-device as the flow nodes see it: the same calls and events as a DeviceConnection (request,
 * onDownlink, reply, status and 'status' events), carried over its gateway's connection. Its status
 * is the gateway's with the sub-device's own state beside it (`subDevice`). Sub-devices have no
 * desired-value topics (onenet-next.md §Q2 §2.2), so onDesired delivers nothing.
 */
export class SubDeviceHandle extends EventEmitter {
  readonly subDevice: SubDeviceIdentity;
  private own: SubDeviceStatus = { state: 'binding' };
  private handlers: Registration[] = [];
  private disposed = false;

  constructor(
    identity: SubDeviceIdentity,
    private readonly host: SubDeviceHost,
  ) {
    super();
    this.setMaxListeners(0);
    this.subDevice = Object.freeze({ productID: identity.productID, deviceName: identity.deviceName });
  }

  status(): ConnectionStatus {
    const gateway = this.host.gatewayStatus();
    if (this.disposed) return { ...gateway, state: 'closed' };
    const waiting = this.host.waiting();
    return { ...gateway, subDevice: waiting > 0 ? { ...this.own, waiting } : { ...this.own } };
  }

  request(kind: UplinkKind, params: unknown, options: RequestCallOptions = {}): Promise<RequestOutcome> {
    if (this.disposed)
      return Promise.reject(new OneNetRequestError('closed', 'the sub-device is no longer used'));
    return this.host.request(kind, params, options);
  }

  onDownlink(handler: DownlinkHandler, accepts?: DownlinkFilter): () => void {
    if (typeof handler !== 'function') throw new TypeError('onDownlink needs a function');
    const registration: Registration = { handler, accepts };
    this.handlers = [...this.handlers, registration];
    return () => {
      this.handlers = this.handlers.filter((candidate) => candidate !== registration);
    };
  }

  onDesired(): () => void {
    return () => undefined;
  }

  deleteDesired(): Promise<RequestOutcome> {
    return Promise.reject(new OneNetRequestError('invalid', 'sub-devices have no desired values on OneNET'));
  }

  reply(
    request: { kind: DownlinkKind; id: string; identifier?: string },
    code: number,
    data?: unknown,
    message?: string,
  ): Promise<ReplyOutcome> {
    return this.host.reply(request, code, data, message);
  }

  /** Unbinds the sub-device from its gateway (topo/delete); only at a flow's request. */
  unbind(): Promise<void> {
    return this.host.unbind();
  }

  /** msg.action "connect": connects the gateway. */
  connect(): void {
    this.host.connect();
  }

  /**
   * msg.action "disconnect" on a sub-device's node would cut every device of the gateway: refused,
   * the gateway's own nodes do that.
   */
  disconnect(): Promise<void> {
    return Promise.reject(
      new OneNetRequestError(
        'invalid',
        'a sub-device cannot disconnect its gateway: send "disconnect" to a node of the gateway',
      ),
    );
  }

  /**
   * Hands a platform request to every handler that takes it, as Downlinks does for a direct device
   * (a filter or handler that throws counts as not taking it); false when none does.
   */
  deliver(request: DownlinkRequest): boolean {
    let taken = false;
    for (const { handler, accepts } of this.handlers) {
      try {
        if (accepts && !accepts(request)) continue;
        handler(request);
        taken = true;
      } catch (err) {
        process.emitWarning(
          `a OneNET sub-device command handler threw: ${(err as Error)?.message ?? String(err)}`,
        );
      }
    }
    return taken;
  }

  /** Its gateway's 'downlink-error' report (the same object: nodes show each report once). */
  reportDownlinkError(event: DownlinkErrorEvent): void {
    if (this.disposed || this.listenerCount('downlink-error') === 0) return;
    try {
      this.emit('downlink-error', event);
    } catch (err) {
      process.emitWarning(
        `a 'downlink-error' listener of a OneNET sub-device threw: ${(err as Error)?.message ?? String(err)}`,
      );
    }
  }

  subDeviceChanged(status: SubDeviceStatus): void {
    this.own = status;
    this.emitStatus();
  }

  gatewayChanged(): void {
    this.emitStatus();
  }

  /** A post began or stopped waiting for the binding. */
  heldChanged(): void {
    if (!this.disposed) this.emitStatus();
  }

  dispose(): void {
    this.disposed = true;
    this.emitStatus();
  }

  private emitStatus(): void {
    try {
      this.emit('status', this.status());
    } catch (err) {
      process.emitWarning(
        `a 'status' listener of a OneNET sub-device threw: ${(err as Error)?.message ?? String(err)}`,
      );
    }
  }
}
