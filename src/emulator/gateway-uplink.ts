import {
  MAX_SUB_DEVICES_PER_GATEWAY,
  SUCCESS_CODE,
  isPlainObject,
  parseSubLoginRequest,
  parseTopoAddRequest,
  parseTopoGetRequest,
  parseTopoGetResult,
  verifySubDeviceToken,
  type SubDeviceIdentity,
  type TopicKind,
} from '../protocol';
import type { BatchIdentityResolver } from './batch-uplink';
import type { GatewayTopology } from './gateway-topology';
import type { GatewayRules, SubDeviceEvent, TopologySyncResult } from './gateway-types';
import { describeDevice, previewBytes } from './log-format';
import { type DeviceRegistry, deviceKeyOf } from './registry';
import type { Session } from './session';
import type { DeviceRef } from './types';
import type { UplinkOutcome } from './uplink';

/**
 * What a gateway's own requests do (shared/onenet-next.md §Q2 2.3 steps 3–5, 9): `sub/topo/add` and
 * `sub/topo/delete` (one sub-device each, its sasToken checked against the sub-device's key or its
 * product's), `sub/topo/get` (answered with the bound list), `sub/topo/get/result` (noted as the
 * sync status), `sub/login` and `sub/logout` (bound sub-devices only). Decisions are made from the
 * payload and the state; changes are applied by the outcome's `commit`, so failReplies() leaves the
 * topology alone as it leaves data unstored. Refusal codes: GatewayRules.codes.
 */

export interface GatewayUplinkHost {
  readonly registry: DeviceRegistry;
  readonly topology: GatewayTopology;
  readonly rules: GatewayRules;
  /** The last sub/topo/get/result of each gateway, by gateway key. */
  readonly syncResults: Map<string, TopologySyncResult>;
  /** Emits the 'sub-device' event and logs it. */
  changed(gateway: DeviceRef, subDevice: DeviceRef, change: SubDeviceEvent['change'], cause: string): void;
}

const CODES = {
  notGateway: 313,
  unknownSubDevice: 307,
  badSasToken: 307,
  subDeviceLimit: 301,
  notBound: 307,
  boundToAnotherGateway: 307,
} as const;

type CodeName = keyof typeof CODES;

const SAS_TOKEN = /("sasToken"\s*:\s*)"(?:[^"\\]|\\.)*"/g;

/** A payload for the log with every sasToken value replaced: tokens are never printed. */
export function redactedPreview(payload: Buffer): string {
  return previewBytes(Buffer.from(payload.toString('utf8').replace(SAS_TOKEN, '$1"(hidden)"')));
}

function loose(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return payload.toString('utf8');
  }
}

function looseId(parsed: unknown): string {
  return isPlainObject(parsed) && (typeof parsed.id === 'string' || typeof parsed.id === 'number')
    ? String(parsed.id)
    : '';
}

function refDevice(identity: SubDeviceIdentity): DeviceRef {
  return { productId: identity.productID, deviceName: identity.deviceName };
}

export class GatewayUplink {
  constructor(private readonly host: GatewayUplinkHost) {}

  /** The UplinkHandler hook: an outcome for the gateway kinds, undefined for every other kind. */
  interpret(session: Session, kind: TopicKind, payload: Buffer): UplinkOutcome | undefined {
    switch (kind) {
      case 'sub-topo-add':
      case 'sub-topo-delete':
        return this.topology(session, kind, payload);
      case 'sub-topo-get':
        return this.topoGet(session, payload);
      case 'sub-login':
      case 'sub-logout':
        return this.loginOrLogout(session, kind, payload);
      case 'sub-topo-get-result':
        return this.topoGetResult(session, payload);
      default:
        return undefined;
    }
  }

  /**
   * Who a batch entry's identity may name: the topic's device itself, and, for a gateway, its bound
   * sub-devices (logged in or not: login is optional, "子设备在线状态会显示为未知").
   */
  readonly resolveIdentity: BatchIdentityResolver = (self, identity) => {
    const device = refDevice(identity);
    if (device.productId === self.productId && device.deviceName === self.deviceName)
      return { ok: true, device: self };
    const topology = this.host.topology;
    if (!topology.isGateway(self))
      return {
        ok: false,
        reason: `device ${describeDevice(device)} is not ${describeDevice(self)}: a directly connected device may post only its own data`,
      };
    if (topology.isBound(self, device)) return { ok: true, device };
    return {
      ok: false,
      code: this.code('notBound'),
      reason: `sub-device ${describeDevice(device)} is not bound to gateway ${describeDevice(self)} (sub/topo/add first)`,
    };
  };

  private code(name: CodeName): number {
    return this.host.rules.codes?.[name] ?? CODES[name];
  }

  private refuse(payload: Buffer, code: number, reason: string, id?: string): UplinkOutcome {
    const parsed = loose(payload);
    return {
      type: 'request',
      replyId: id ?? looseId(parsed),
      id,
      payload: parsed,
      code,
      reason,
      logPreview: redactedPreview(payload),
    };
  }

  private accept(
    payload: unknown,
    bytes: Buffer,
    id: string,
    extra: { commit?: () => void; replyData?: unknown } = {},
  ): UplinkOutcome {
    return {
      type: 'request',
      replyId: id,
      id,
      payload,
      code: SUCCESS_CODE,
      logPreview: redactedPreview(bytes),
      ...extra,
    };
  }

  private notGateway(session: Session): string | undefined {
    return this.host.topology.isGateway(session.device)
      ? undefined
      : `${describeDevice(session.device)} is not a gateway (node type 'direct'); only gateways bind sub-devices`;
  }

  private topology(
    session: Session,
    kind: 'sub-topo-add' | 'sub-topo-delete',
    payload: Buffer,
  ): UplinkOutcome {
    const parsed = parseTopoAddRequest(payload);
    if (!parsed.ok) return this.refuse(payload, parsed.code, parsed.reason, parsed.id);
    const { id, params } = parsed.value;
    const refuse = (name: CodeName, reason: string): UplinkOutcome =>
      this.refuse(payload, this.code(name), reason, id);
    const notGateway = this.notGateway(session);
    if (notGateway) return refuse('notGateway', notGateway);
    const gateway = session.device;
    const sub = refDevice(params);
    const { topology, registry } = this.host;
    if (deviceKeyOf(sub) === session.deviceKey || topology.isGateway(sub))
      return refuse('notGateway', `${describeDevice(sub)} is a gateway; a gateway cannot be a sub-device`);
    const keys = registry.signingKeysOf(sub);
    if (!keys) return refuse('unknownSubDevice', `device ${describeDevice(sub)} does not exist`);
    const options = {
      productID: params.productID,
      deviceName: params.deviceName,
      keys,
      nowSeconds: Math.floor(Date.now() / 1000),
    };
    const accepted = this.host.rules.acceptResEncodings;
    const verdict = verifySubDeviceToken(
      params.sasToken,
      accepted ? { ...options, acceptResEncodings: accepted } : options,
    );
    if (!verdict.ok) return refuse('badSasToken', `sasToken of ${describeDevice(sub)}: ${verdict.reason}`);
    const parent = topology.parentOf(sub);
    if (parent !== undefined && parent !== session.deviceKey)
      return refuse(
        'boundToAnotherGateway',
        `sub-device ${describeDevice(sub)} is bound to gateway ${parent}`,
      );
    // Deleting a sub-device that is not bound is answered 200, as adding a bound one is: both idempotent.
    if (kind === 'sub-topo-delete') {
      return this.accept(parsed.value, payload, id, {
        commit: () => {
          const wasLoggedIn = topology.isLoggedIn(sub);
          if (!topology.unbind(gateway, sub)) return;
          if (wasLoggedIn) this.host.changed(gateway, sub, 'logged-out', 'sub/topo/delete');
          this.host.changed(gateway, sub, 'unbound', 'sub/topo/delete');
        },
      });
    }
    const limit = this.host.rules.maxSubDevices ?? MAX_SUB_DEVICES_PER_GATEWAY;
    if (parent === undefined && topology.count(gateway) >= limit)
      return refuse(
        'subDeviceLimit',
        `gateway ${describeDevice(gateway)} has ${limit} sub-devices, the most allowed`,
      );
    return this.accept(parsed.value, payload, id, {
      commit: () => {
        if (topology.bind(gateway, sub)) this.host.changed(gateway, sub, 'bound', 'sub/topo/add');
      },
    });
  }

  private topoGet(session: Session, payload: Buffer): UplinkOutcome {
    const parsed = parseTopoGetRequest(payload);
    if (!parsed.ok) return this.refuse(payload, parsed.code, parsed.reason, parsed.id);
    const notGateway = this.notGateway(session);
    if (notGateway) return this.refuse(payload, this.code('notGateway'), notGateway, parsed.value.id);
    // OneNET's order: deviceName, productID.
    const data = this.host.topology
      .subDevices(session.device)
      .map(({ productId, deviceName }) => ({ deviceName, productID: productId }));
    return this.accept(parsed.value, payload, parsed.value.id, { replyData: data });
  }

  private loginOrLogout(session: Session, kind: 'sub-login' | 'sub-logout', payload: Buffer): UplinkOutcome {
    const parsed = parseSubLoginRequest(payload);
    if (!parsed.ok) return this.refuse(payload, parsed.code, parsed.reason, parsed.id);
    const { id, params } = parsed.value;
    const refuse = (name: CodeName, reason: string): UplinkOutcome =>
      this.refuse(payload, this.code(name), reason, id);
    const notGateway = this.notGateway(session);
    if (notGateway) return refuse('notGateway', notGateway);
    const gateway = session.device;
    const sub = refDevice(params);
    const { topology, registry } = this.host;
    if (!registry.signingKeysOf(sub))
      return refuse('unknownSubDevice', `device ${describeDevice(sub)} does not exist`);
    // "子设备上线时，平台会根据拓扑关系进行子设备验证".
    if (!topology.isBound(gateway, sub))
      return refuse(
        'notBound',
        `sub-device ${describeDevice(sub)} is not bound to gateway ${describeDevice(gateway)}`,
      );
    const commit =
      kind === 'sub-login'
        ? () => {
            if (topology.login(sub, session)) this.host.changed(gateway, sub, 'logged-in', 'sub/login');
          }
        : () => {
            if (topology.logout(sub)) this.host.changed(gateway, sub, 'logged-out', 'sub/logout');
          };
    return this.accept(parsed.value, payload, id, { commit });
  }

  /** "网关本地同步成功后，回复平台同步状态": kept as the console's sync status; no reply. */
  private topoGetResult(session: Session, payload: Buffer): UplinkOutcome {
    const parsed = parseTopoGetResult(payload);
    if (!parsed.ok) return { type: 'result', payload: loose(payload) };
    const { id, code, msg } = parsed.value;
    this.host.syncResults.set(session.deviceKey, { id, code, msg, at: Date.now() });
    return { type: 'result', payload: parsed.value, id };
  }
}
