import type { Client, PublishPacket } from 'aedes';
import type { TopicAddress } from '../protocol';
import { filterMatches } from './subscribe-acl';
import type { EmulatorDevice } from './types';

/** One logged-in device connection and what it has subscribed to. */
export class Session {
  /** Filters granted to this session, in grant order. */
  readonly granted = new Set<string>();
  /** Own topics already parsed, so the hot path parses each topic once per session. */
  readonly topics = new Map<string, TopicAddress>();
  /** Set by whoever closes the session first, so the disconnect event can say why. */
  closeReason: string | undefined;
  /** True when a newer login of the same device is replacing this one. */
  kicked = false;
  closed = false;
  expiryTimer: NodeJS.Timeout | undefined;
  private readonly routes = new Map<string, boolean>();

  constructor(
    readonly client: Client,
    readonly device: EmulatorDevice,
    readonly deviceKey: string,
    readonly token: string,
    readonly connectedAt: number,
  ) {}

  get productId(): string {
    return this.device.productId;
  }

  get deviceName(): string {
    return this.device.deviceName;
  }

  grant(filter: string): void {
    this.granted.add(filter);
    this.routes.clear();
  }

  revoke(filter: string): void {
    this.granted.delete(filter);
    this.routes.clear();
  }

  /** Whether a message on `topic` reaches the device: only through a granted filter (§1.5). */
  isSubscribedTo(topic: string): boolean {
    let routed = this.routes.get(topic);
    if (routed === undefined) {
      routed = false;
      for (const filter of this.granted) {
        if (filterMatches(filter, topic)) {
          routed = true;
          break;
        }
      }
      this.routes.set(topic, routed);
    }
    return routed;
  }

  /** Downlinks are QoS 0, retain 0, straight to the device's connection (§1.3). */
  deliver(topic: string, payload: Buffer): void {
    const packet: PublishPacket = { cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false };
    this.client.publish(packet, () => undefined);
  }

  /** Closes the connection like a network drop; the first reason given wins. */
  cut(reason: string): void {
    this.closeReason ??= reason;
    this.client.conn.destroy();
  }
}
