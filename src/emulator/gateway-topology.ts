import { deviceKeyOf } from './registry';
import type { Session } from './session';
import type { DeviceRef } from './types';

/**
 * The platform's record of gateways (§Q2): which devices are gateways, which sub-devices each has
 * bound (a sub-device has one gateway), and which sub-devices are logged in, through which gateway
 * session. State only; the rules that change it are in gateway-uplink.ts and gateway-platform.ts.
 */
export class GatewayTopology {
  private readonly gateways = new Set<string>();
  /** Gateway key → its bound sub-devices, in binding order. */
  private readonly bound = new Map<string, Map<string, DeviceRef>>();
  /** Sub-device key → the key of the gateway it is bound to. */
  private readonly parents = new Map<string, string>();
  /** Sub-device key → the gateway session that logged it in. */
  private readonly logins = new Map<string, Session>();

  declareGateway(ref: DeviceRef): void {
    this.gateways.add(deviceKeyOf(ref));
  }

  isGateway(ref: DeviceRef): boolean {
    return this.gateways.has(deviceKeyOf(ref));
  }

  /** Forgets a removed device: as a gateway (its sub-devices are unbound) and as a sub-device. */
  forget(ref: DeviceRef): DeviceRef[] {
    const key = deviceKeyOf(ref);
    const released = this.subDevices(ref);
    for (const sub of released) this.unbind(ref, sub);
    this.gateways.delete(key);
    this.bound.delete(key);
    const parent = this.parents.get(key);
    if (parent !== undefined) this.bound.get(parent)?.delete(key);
    this.parents.delete(key);
    this.logins.delete(key);
    return released;
  }

  subDevices(gateway: DeviceRef): DeviceRef[] {
    return [...(this.bound.get(deviceKeyOf(gateway))?.values() ?? [])].map(copy);
  }

  count(gateway: DeviceRef): number {
    return this.bound.get(deviceKeyOf(gateway))?.size ?? 0;
  }

  /** The gateway a sub-device is bound to, as `productId/deviceName`. */
  parentOf(sub: DeviceRef): string | undefined {
    return this.parents.get(deviceKeyOf(sub));
  }

  isBound(gateway: DeviceRef, sub: DeviceRef): boolean {
    return this.parents.get(deviceKeyOf(sub)) === deviceKeyOf(gateway);
  }

  /** Binds; false when it was bound already. The caller has checked the limit and the parent. */
  bind(gateway: DeviceRef, sub: DeviceRef): boolean {
    const gatewayKey = deviceKeyOf(gateway);
    const subKey = deviceKeyOf(sub);
    if (this.parents.get(subKey) === gatewayKey) return false;
    let subs = this.bound.get(gatewayKey);
    if (!subs) {
      subs = new Map();
      this.bound.set(gatewayKey, subs);
    }
    subs.set(subKey, copy(sub));
    this.parents.set(subKey, gatewayKey);
    return true;
  }

  /** Unbinds (and so logs out); false when it was not bound to this gateway. */
  unbind(gateway: DeviceRef, sub: DeviceRef): boolean {
    if (!this.isBound(gateway, sub)) return false;
    const subKey = deviceKeyOf(sub);
    this.bound.get(deviceKeyOf(gateway))?.delete(subKey);
    this.parents.delete(subKey);
    this.logins.delete(subKey);
    return true;
  }

  /** Logs in through `session`; false when it was logged in through that session already. */
  login(sub: DeviceRef, session: Session): boolean {
    const key = deviceKeyOf(sub);
    if (this.logins.get(key) === session) return false;
    this.logins.set(key, session);
    return true;
  }

  /** False when it was not logged in. */
  logout(sub: DeviceRef): boolean {
    return this.logins.delete(deviceKeyOf(sub));
  }

  isLoggedIn(sub: DeviceRef): boolean {
    return this.logins.has(deviceKeyOf(sub));
  }

  loggedIn(gateway: DeviceRef): DeviceRef[] {
    return this.subDevices(gateway).filter((sub) => this.logins.has(deviceKeyOf(sub)));
  }

  /** The gateway's logged-in sub-devices whose login session has closed. */
  orphanedLogins(gateway: DeviceRef): DeviceRef[] {
    return this.subDevices(gateway).filter((sub) => this.logins.get(deviceKeyOf(sub))?.closed === true);
  }
}

function copy(ref: DeviceRef): DeviceRef {
  return { productId: ref.productId, deviceName: ref.deviceName };
}
