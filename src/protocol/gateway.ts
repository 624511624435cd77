import { BATCH_LIMITS, type BatchIdentity } from './batch-posts';
import { PLATFORM_REPLY_DEADLINE_MS, THING_MODEL_VERSION } from './limits';
import {
  InvalidInputError,
  buildReply,
  buildRequest,
  parseReply,
  type ParseResult,
  type RejectionCode,
  type ThingReply,
  type ThingRequest,
} from './messages';
import { describeType, deviceNameError, isPlainObject, isValidMessageId, productIdError } from './validation';

/**
 * Gateway topology and sub-device sessions (shared/onenet-next.md §Q2 2.3 steps 3–5, 8, 9): what a
 * gateway sends on `thing/sub/topo/*` and `thing/sub/login|logout`, and what the platform answers.
 * The sub-device commands (`thing/sub/property/*`, `thing/sub/service/invoke`) are in
 * gateway-commands.ts, the sub-device's sasToken in gateway-token.ts. Every topic is on the
 * gateway's own `$sys/{gw-pid}/{gw-dev}/` prefix; the sub-device is named inside the payload.
 *
 * Builders throw InvalidInputError with a sentence for the user and write the keys in the order of
 * OneNET's examples; parsers never throw, whatever bytes they are given, and return the reason a
 * message was refused with the device-log code closest to it (§3.2): 301 shape, 307 a bad product
 * id or device name, 309 a bad identifier, 302 a bad value, 312 a bad message id.
 */

/** "单个网关设备最多支持添加1500个子设备" (topy-manager.md §1). */
export const MAX_SUB_DEVICES_PER_GATEWAY = 1500;
/** "每次批量上送不超过10个子设备" (property&event.md §5): device entries in one pack/history post. */
export const MAX_IDENTITIES_PER_BATCH = BATCH_LIMITS.devicesPerMessage;
/** "每个设备上送数据点数量不超过100个": points per sub-device entry of one pack/history post. */
export const MAX_POINTS_PER_SUB_DEVICE = BATCH_LIMITS.pointsPerDevice;
/** At most 50 properties in one `sub/property/get` or `sub/property/set` (subdevice-data.md). */
export const MAX_PROPERTIES_PER_SUB_REQUEST = 50;
/** Sub-device commands time out after 5 s, as direct ones do (subdevice-data.md). */
export const SUB_DEVICE_REPLY_DEADLINE_MS = PLATFORM_REPLY_DEADLINE_MS;

/** A sub-device as gateway messages name it, in OneNET's spelling (`productID`). */
export type SubDeviceIdentity = BatchIdentity;

/** `sub/topo/add` and `sub/topo/delete` params: one sub-device and its own device token. */
export interface SubDeviceAuth extends SubDeviceIdentity {
  sasToken: string;
}

/** `sub/topo/change` params: the platform's **full** list of the gateway's sub-devices ("子设备全量列表"). */
export interface TopoChangeParams {
  subList: SubDeviceIdentity[];
}

/** A request without params: `sub/topo/get` is `{"id","version"}` ([AIO] omits params). */
export interface ParamlessRequest {
  id: string;
  version: string;
}

/** `sub/topo/get/reply`: on success, `data` lists the bound sub-devices. */
export interface TopoGetReply extends ThingReply {
  data?: SubDeviceIdentity[];
}

/** Parser results carry the request id when it was usable, as messages.ts's do. */
type Refusal = { ok: false; code: RejectionCode; reason: string; id?: string };

/** The map key of a sub-device: product id and device name identify it together. */
export function subDeviceKey(identity: SubDeviceIdentity): string {
  return `${identity.productID}/${identity.deviceName}`;
}

// ---------------------------------------------------------------------------------------------
// Shared checks (builders and parsers)

export type Checked<T> = { ok: true; value: T } | { ok: false; code: RejectionCode; reason: string };

function problem(code: RejectionCode, reason: string): { ok: false; code: RejectionCode; reason: string } {
  return { ok: false, code, reason };
}

/** `{productID, deviceName}` with both valid; the result holds nothing else. */
export function checkSubDeviceIdentity(value: unknown, path: string): Checked<SubDeviceIdentity> {
  if (!isPlainObject(value))
    return problem(301, `${path} must be {"productID", "deviceName"}, not ${describeType(value)}`);
  const { productID, deviceName } = value;
  if (productID === undefined) return problem(301, `${path} has no "productID"`);
  if (deviceName === undefined) return problem(301, `${path} has no "deviceName"`);
  const error = productIdError(productID) ?? deviceNameError(deviceName);
  if (error) return problem(307, `${path}: ${error}`);
  return { ok: true, value: { productID: productID as string, deviceName: deviceName as string } };
}

function checkAuth(value: unknown, path: string): Checked<SubDeviceAuth> {
  const identity = checkSubDeviceIdentity(value, path);
  if (!identity.ok) return identity;
  const { sasToken } = value as Record<string, unknown>;
  if (typeof sasToken !== 'string' || sasToken === '')
    return problem(301, `${path}.sasToken must be the sub-device's token (a non-empty string)`);
  // Doc order: deviceName, productID, sasToken.
  return {
    ok: true,
    value: { deviceName: identity.value.deviceName, productID: identity.value.productID, sasToken },
  };
}

/** A list of distinct sub-devices, at most `MAX_SUB_DEVICES_PER_GATEWAY` (a gateway cannot hold more). */
export function checkSubDeviceList(value: unknown, path: string): Checked<SubDeviceIdentity[]> {
  if (!Array.isArray(value))
    return problem(
      301,
      `${path} must be an array of {"deviceName", "productID"}, not ${describeType(value)}`,
    );
  if (value.length > MAX_SUB_DEVICES_PER_GATEWAY)
    return problem(
      301,
      `${path} lists ${value.length} sub-devices; a gateway holds at most ${MAX_SUB_DEVICES_PER_GATEWAY}`,
    );
  const seen = new Set<string>();
  const list: SubDeviceIdentity[] = [];
  for (let i = 0; i < value.length; i++) {
    const identity = checkSubDeviceIdentity(value[i], `${path}[${i}]`);
    if (!identity.ok) return identity;
    const key = subDeviceKey(identity.value);
    if (seen.has(key)) return problem(301, `${path}[${i}]: sub-device ${key} is listed twice`);
    seen.add(key);
    list.push({ deviceName: identity.value.deviceName, productID: identity.value.productID });
  }
  return { ok: true, value: list };
}

export function assertChecked<T>(checked: Checked<T>, what: string): T {
  if (!checked.ok) throw new InvalidInputError(`${what}: ${checked.reason}`);
  return checked.value;
}

/** A reply's code and msg as buildReply checks them; `data` is checked by the caller. */
function reply(id: string, code: number, msg: string, data?: unknown): ThingReply {
  if (!isValidMessageId(id))
    throw new InvalidInputError(`message id "${String(id)}" is not a numeric string of at most 13 digits`);
  return buildReply(id, code, msg, data);
}

// ---------------------------------------------------------------------------------------------
// Parsing helpers

function parseObject(payload: Buffer | string): Checked<Record<string, unknown>> {
  let parsed: unknown;
  try {
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload))
      return problem(301, `payload must be bytes or text, not ${describeType(payload)}`);
    parsed = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (error) {
    return problem(301, `malformed JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(parsed)) return problem(301, `expected a JSON object, got ${describeType(parsed)}`);
  return { ok: true, value: parsed };
}

/**
 * The request envelope `{id, version?, params}` with `check` deciding about params; `params`
 * undefined is passed to `check` too (topo/get has none).
 */
export function parseGatewayRequest<P>(
  payload: Buffer | string,
  check: (params: unknown) => Checked<P>,
): ParseResult<ThingRequest<P>> {
  const object = parseObject(payload);
  if (!object.ok) return object;
  const { id, version, params } = object.value;
  if (id === undefined) return { ok: false, code: 312, reason: 'request has no "id"' };
  if (!isValidMessageId(id))
    return {
      ok: false,
      code: 312,
      reason: `"id" must be a numeric string of at most 13 digits, got ${JSON.stringify(id)}`,
    };
  const refuse = (code: RejectionCode, reason: string): Refusal => ({ ok: false, code, reason, id });
  if (version !== undefined && typeof version !== 'string') return refuse(301, '"version" must be a string');
  const checked = check(params);
  if (!checked.ok) return refuse(checked.code, checked.reason);
  return { ok: true, value: { id, version: version ?? THING_MODEL_VERSION, params: checked.value } };
}

function objectParams<P>(check: (params: Record<string, unknown>) => Checked<P>) {
  return (params: unknown): Checked<P> => {
    if (params === undefined) return problem(301, 'request has no "params"');
    if (!isPlainObject(params))
      return problem(301, `"params" must be an object, got ${describeType(params)}`);
    return check(params);
  };
}

/** A reply `{id, code, msg?}` whose successful form carries no data. */
export function parseGatewayReply(payload: Buffer | string): ParseResult<ThingReply> {
  try {
    return parseReply(payload);
  } catch (error) {
    return { ok: false, code: 301, reason: `unreadable reply: ${String((error as Error)?.message)}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Topology (↑ sub/topo/add, delete, get, get/result; ↓ sub/topo/change)

/** ↑ `sub/topo/add`: binds one sub-device; `sasToken` from signSubDeviceToken. */
export function buildTopoAddRequest(id: string, auth: SubDeviceAuth): ThingRequest<SubDeviceAuth> {
  return buildRequest(id, assertChecked(checkAuth(auth, 'params'), 'sub/topo/add'));
}

/** ↑ `sub/topo/delete`: the same params as topo/add, sasToken included. */
export function buildTopoDeleteRequest(id: string, auth: SubDeviceAuth): ThingRequest<SubDeviceAuth> {
  return buildRequest(id, assertChecked(checkAuth(auth, 'params'), 'sub/topo/delete'));
}

export function parseTopoAddRequest(payload: Buffer | string): ParseResult<ThingRequest<SubDeviceAuth>> {
  return parseGatewayRequest(
    payload,
    objectParams((params) => checkAuth(params, 'params')),
  );
}

export function parseTopoDeleteRequest(payload: Buffer | string): ParseResult<ThingRequest<SubDeviceAuth>> {
  return parseTopoAddRequest(payload);
}

/** ↑ `sub/topo/get`: `{"id","version":"1.0"}`, no params. */
export function buildTopoGetRequest(id: string): ParamlessRequest {
  const { version } = buildRequest(id, undefined);
  return { id, version };
}

/** Params are ignored when present as an object (OneNET's example has none; some clients send `{}`). */
export function parseTopoGetRequest(payload: Buffer | string): ParseResult<ParamlessRequest> {
  const parsed = parseGatewayRequest(payload, (params) =>
    params === undefined || isPlainObject(params)
      ? { ok: true, value: undefined }
      : problem(301, `sub/topo/get takes no "params", got ${describeType(params)}`),
  );
  if (!parsed.ok) return parsed;
  return { ok: true, value: { id: parsed.value.id, version: parsed.value.version } };
}

/** ↓ `sub/topo/get/reply` (platform side): the bound sub-devices, when `code` is 200. */
export function buildTopoGetReply(
  id: string,
  code: number,
  msg: string,
  subDevices?: readonly SubDeviceIdentity[],
): TopoGetReply {
  if (subDevices === undefined) {
    if (code === 200) throw new InvalidInputError('a successful sub/topo/get reply lists the sub-devices');
    const { id: replyId, code: replyCode, msg: replyMsg } = reply(id, code, msg);
    return { id: replyId, code: replyCode, msg: replyMsg };
  }
  const list = assertChecked(checkSubDeviceList(subDevices, 'data'), 'sub/topo/get/reply');
  return reply(id, code, msg, list) as TopoGetReply;
}

/** A successful reply must list the sub-devices; a failed one may carry anything, which is dropped. */
export function parseTopoGetReply(payload: Buffer | string): ParseResult<TopoGetReply> {
  const parsed = parseGatewayReply(payload);
  if (!parsed.ok) return parsed;
  const { id, code, msg, data } = parsed.value;
  if (code !== 200) return { ok: true, value: { id, code, msg } };
  const list = checkSubDeviceList(data, 'data');
  if (!list.ok) return { ok: false, code: list.code, reason: list.reason, id };
  return { ok: true, value: { id, code, msg, data: list.value } };
}

/**
 * ↑ `sub/topo/get/result`: after syncing its local list, the gateway tells the platform how it
 * went ("回复平台同步状态"), with the id of the topo/get it answers.
 */
export function buildTopoGetResult(id: string, code = 200, msg = 'success'): ThingReply {
  return reply(id, code, msg);
}

export function parseTopoGetResult(payload: Buffer | string): ParseResult<ThingReply> {
  return parseGatewayReply(payload);
}

/** ↓ `sub/topo/change` (platform side): the full list after a change in the console. */
export function buildTopoChangeRequest(
  id: string,
  subList: readonly SubDeviceIdentity[],
): ThingRequest<TopoChangeParams> {
  return buildRequest(id, {
    subList: assertChecked(checkSubDeviceList(subList, 'params.subList'), 'sub/topo/change'),
  });
}

export function parseTopoChangeRequest(
  payload: Buffer | string,
): ParseResult<ThingRequest<TopoChangeParams>> {
  return parseGatewayRequest(
    payload,
    objectParams((params) => {
      const list = checkSubDeviceList(params.subList, 'params.subList');
      return list.ok ? { ok: true, value: { subList: list.value } } : list;
    }),
  );
}

/** ↑ `sub/topo/change_reply` (not `change/reply`: onenet-next.md §2.2 uses the official spelling). */
export function buildTopoChangeReply(id: string, code = 200, msg = 'success'): ThingReply {
  return reply(id, code, msg);
}

export function parseTopoChangeReply(payload: Buffer | string): ParseResult<ThingReply> {
  return parseGatewayReply(payload);
}

export interface TopologyDiff {
  /** Wanted but not in the platform's list: to bind (topo/add), or, after a topo/change, no longer bound. */
  missing: SubDeviceIdentity[];
  /** In the platform's list but not wanted: bound on the platform, unused here (never unbound on our own). */
  extra: SubDeviceIdentity[];
}

/**
 * Compares the sub-devices a gateway wants with the platform's list (a topo/get reply's `data`, a
 * topo/change's `subList`), keeping the order of each list.
 */
export function topologyDiff(
  wanted: readonly SubDeviceIdentity[],
  platform: readonly SubDeviceIdentity[],
): TopologyDiff {
  const platformKeys = new Set(platform.map(subDeviceKey));
  const wantedKeys = new Set(wanted.map(subDeviceKey));
  return {
    missing: wanted.filter((identity) => !platformKeys.has(subDeviceKey(identity))),
    extra: platform.filter((identity) => !wantedKeys.has(subDeviceKey(identity))),
  };
}

// ---------------------------------------------------------------------------------------------
// Sessions (↑ sub/login, sub/logout)

function identityParams(identity: SubDeviceIdentity, what: string): SubDeviceIdentity {
  const checked = assertChecked(checkSubDeviceIdentity(identity, 'params'), what);
  // Doc order for login/logout: productID, deviceName.
  return { productID: checked.productID, deviceName: checked.deviceName };
}

/** ↑ `sub/login`: no credential in the payload; the platform checks the binding instead. */
export function buildSubLoginRequest(
  id: string,
  identity: SubDeviceIdentity,
): ThingRequest<SubDeviceIdentity> {
  return buildRequest(id, identityParams(identity, 'sub/login'));
}

export function buildSubLogoutRequest(
  id: string,
  identity: SubDeviceIdentity,
): ThingRequest<SubDeviceIdentity> {
  return buildRequest(id, identityParams(identity, 'sub/logout'));
}

export function parseSubLoginRequest(payload: Buffer | string): ParseResult<ThingRequest<SubDeviceIdentity>> {
  return parseGatewayRequest(
    payload,
    objectParams((params) => {
      const checked = checkSubDeviceIdentity(params, 'params');
      return checked.ok
        ? { ok: true, value: { productID: checked.value.productID, deviceName: checked.value.deviceName } }
        : checked;
    }),
  );
}

export function parseSubLogoutRequest(
  payload: Buffer | string,
): ParseResult<ThingRequest<SubDeviceIdentity>> {
  return parseSubLoginRequest(payload);
}
