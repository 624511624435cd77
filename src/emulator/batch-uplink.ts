import {
  BATCH_LIMITS,
  parseHistoryPost,
  parsePackPost,
  type BatchIdentity,
  type BatchParseResult,
  type HistoryEntry,
  type PackEntry,
  type TimedValue,
} from '../protocol';
import type { ProductModel } from './product-model';
import { describeDevice } from './log-format';
import type { BatchPostRules, DeviceRef } from './types';

/**
 * `thing/pack/post` and `thing/history/post` (§3.1 #8, #9; onenet-next.md §Q3): the message is
 * parsed and checked against the limits, every entry's identity resolved to a device, and, with a
 * thing model, every value checked as property/post and event/post check theirs. A message is
 * accepted or refused as a whole (OneNET documents no partial result; UNCONFIRMED).
 */

/** The values one device entry carried, each identifier's in order; pack/post gives one per identifier. */
export interface BatchDeviceData {
  device: DeviceRef;
  properties: Record<string, TimedValue[]>;
  events: Record<string, TimedValue[]>;
}

/** `code`, when given, replaces `foreignIdentityCode` (a gateway's unbound sub-device has its own). */
export type IdentityResolution =
  { ok: true; device: DeviceRef } | { ok: false; reason: string; code?: number };

/**
 * Who an entry's `identity` names. The hook for gateways: a gateway may post for its bound
 * sub-devices (§Q2), which a later resolver will allow; today only the topic's own device is.
 */
export type BatchIdentityResolver = (self: DeviceRef, identity: BatchIdentity) => IdentityResolution;

/** "直连设备仅能上报自己的物模型数据" (§Q3): a directly connected device posts for itself only. */
export const ownIdentityOnly: BatchIdentityResolver = (self, identity) =>
  identity.productID === self.productId && identity.deviceName === self.deviceName
    ? { ok: true, device: self }
    : {
        ok: false,
        reason: `device ${identity.productID}/${identity.deviceName} is not ${describeDevice(self)}: a directly connected device may post only its own data`,
      };

export interface BatchContext {
  /** The device whose topic carried the message. */
  self: DeviceRef;
  modelOf(productId: string): ProductModel | undefined;
  rules: BatchPostRules | undefined;
  resolveIdentity: BatchIdentityResolver;
}

export type BatchVerdict =
  | { ok: true; id: string; payload: unknown; devices: BatchDeviceData[] }
  | { ok: false; code: number; reason: string; id?: string };

export const DEFAULT_LIMIT_CODE = 301;
export const DEFAULT_FOREIGN_IDENTITY_CODE = 307;

export function interpretBatchPost(
  kind: 'pack-post' | 'history-post',
  payload: Buffer,
  context: BatchContext,
): BatchVerdict {
  const rules = context.rules ?? {};
  const options = {
    limits: {
      devicesPerMessage: rules.devicesPerMessage ?? BATCH_LIMITS.devicesPerMessage,
      pointsPerDevice: rules.pointsPerDevice ?? BATCH_LIMITS.pointsPerDevice,
      valuesPerPoint: rules.valuesPerPoint ?? BATCH_LIMITS.valuesPerPoint,
    },
    eventsArePoints: rules.eventsArePoints ?? true,
  };
  const parsed: BatchParseResult<Array<HistoryEntry | PackEntry>> =
    kind === 'pack-post' ? parsePackPost(payload, options) : parseHistoryPost(payload, options);
  if (!parsed.ok) {
    const code = parsed.limit ? (rules.limitCode ?? DEFAULT_LIMIT_CODE) : parsed.code;
    return parsed.id === undefined
      ? { ok: false, code, reason: parsed.reason }
      : { ok: false, code, reason: parsed.reason, id: parsed.id };
  }
  const { id, params } = parsed.request;
  const refuse = (code: number, reason: string): BatchVerdict => ({ ok: false, code, reason, id });
  const devices: BatchDeviceData[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < params.length; i++) {
    const entry = params[i]!;
    let device = context.self;
    if (entry.identity) {
      const resolved = context.resolveIdentity(context.self, entry.identity);
      if (!resolved.ok)
        return refuse(
          resolved.code ?? rules.foreignIdentityCode ?? DEFAULT_FOREIGN_IDENTITY_CODE,
          `params[${i}]: ${resolved.reason}`,
        );
      device = resolved.device;
    }
    const key = `${device.productId}/${device.deviceName}`;
    // The parser saw explicit identities once each; an entry without one is the topic's device too.
    if (seen.has(key))
      return refuse(
        301,
        `params[${i}]: device ${key} appears in more than one entry; put its values in one entry`,
      );
    seen.add(key);
    const data: BatchDeviceData = {
      device,
      properties: asLists(entry.properties),
      events: asLists(entry.events),
    };
    const model = context.modelOf(device.productId);
    if (model) {
      const violation = modelViolation(model, data, `params[${i}]`);
      if (violation) return refuse(violation.code, violation.reason);
    }
    devices.push(data);
  }
  return { ok: true, id, payload: parsed.request, devices };
}

function asLists(map: Record<string, TimedValue | TimedValue[]> | undefined): Record<string, TimedValue[]> {
  const lists: Record<string, TimedValue[]> = {};
  if (!map) return lists;
  for (const [identifier, point] of Object.entries(map))
    lists[identifier] = Array.isArray(point) ? point : [point];
  return lists;
}

function modelViolation(
  model: ProductModel,
  data: BatchDeviceData,
  path: string,
): { code: number; reason: string } | undefined {
  for (const [section, check] of [
    ['properties', (params: Record<string, unknown>) => model.propertyPost(params)],
    ['events', (params: Record<string, unknown>) => model.eventPost(params)],
  ] as const) {
    for (const [identifier, values] of Object.entries(data[section])) {
      for (let j = 0; j < values.length; j++) {
        const violation = check({ [identifier]: values[j]! });
        if (violation)
          return {
            code: violation.code,
            reason: `${path}.${section}.${identifier}[${j}]: ${violation.reason}`,
          };
      }
    }
  }
  return undefined;
}

/** Refuses nonsense batch rules at start, with the option's name. */
export function checkBatchRules(rules: BatchPostRules | undefined): void {
  if (!rules) return;
  for (const name of ['devicesPerMessage', 'pointsPerDevice', 'valuesPerPoint'] as const) {
    const value = rules[name];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1))
      throw new Error(`batchPosts.${name} must be a positive integer`);
  }
  for (const name of ['limitCode', 'foreignIdentityCode'] as const) {
    const value = rules[name];
    if (value !== undefined && !Number.isSafeInteger(value))
      throw new Error(`batchPosts.${name} must be an integer`);
  }
}
