import {
  MAX_PROPERTIES_PER_SUB_REQUEST,
  assertChecked,
  checkSubDeviceIdentity,
  parseGatewayReply,
  parseGatewayRequest,
  type Checked,
  type SubDeviceIdentity,
} from './gateway';
import {
  buildReply,
  buildRequest,
  InvalidInputError,
  type ParseResult,
  type RejectionCode,
  type ThingReply,
  type ThingRequest,
} from './messages';
import { describeType, identifierError, isPlainObject, isValidMessageId, valueError } from './validation';

/**
 * Sub-device commands (shared/onenet-next.md §Q2 2.3 step 7): the platform asks the gateway, on the
 * gateway's own topics, to get or set a sub-device's properties or invoke its service, and the
 * gateway answers on the `_reply` topics with the request's id. The sub-device is named inside
 * `params` ("消息体中，参数productID和deviceName的值是子设备的对应信息"), so a client demultiplexes by
 * `productID` + `deviceName`.
 *
 * Builders (the platform's requests, the gateway's replies) throw InvalidInputError and hold the
 * 50-property limit; parsers never throw. The parsers do not refuse a request over 50 properties:
 * that limit binds the platform, and a gateway refusing what the platform sent would only lose it.
 */

export interface SubPropertyGetParams extends SubDeviceIdentity {
  params: string[];
}

export interface SubPropertySetParams extends SubDeviceIdentity {
  params: Record<string, unknown>;
}

export interface SubServiceInvokeParams extends SubDeviceIdentity {
  identifier: string;
  input: Record<string, unknown>;
}

/** `sub/service/invoke_reply` data: the request's productID, deviceName and identifier, and the output. */
export interface SubServiceInvokeReplyData extends SubDeviceIdentity {
  identifier: string;
  output: Record<string, unknown>;
}

export interface SubPropertyGetReply extends ThingReply {
  data?: Record<string, unknown>;
}

export interface SubServiceInvokeReply extends ThingReply {
  data?: SubServiceInvokeReplyData;
}

function problem(code: RejectionCode, reason: string): { ok: false; code: RejectionCode; reason: string } {
  return { ok: false, code, reason };
}

/** Checks the sub-device, then hands the rest to `rest`; the result starts deviceName, productID (doc order). */
function subParams<P>(
  check: (params: Record<string, unknown>, identity: SubDeviceIdentity) => Checked<P>,
): (params: unknown) => Checked<SubDeviceIdentity & P> {
  return (params) => {
    if (params === undefined) return problem(301, 'request has no "params"');
    if (!isPlainObject(params))
      return problem(301, `"params" must be an object, got ${describeType(params)}`);
    const identity = checkSubDeviceIdentity(params, 'params');
    if (!identity.ok) return identity;
    const rest = check(params, identity.value);
    if (!rest.ok) return rest;
    return {
      ok: true,
      value: { deviceName: identity.value.deviceName, productID: identity.value.productID, ...rest.value },
    };
  };
}

function checkIdentifiers(value: unknown, path: string, max?: number): Checked<string[]> {
  if (!Array.isArray(value))
    return problem(301, `${path} must be an array of identifiers, not ${describeType(value)}`);
  if (value.length === 0) return problem(301, `${path} names no property`);
  if (max !== undefined && value.length > max)
    return problem(301, `${path} names ${value.length} properties; OneNET allows at most ${max}`);
  for (const identifier of value) {
    const error = identifierError(identifier);
    if (error) return problem(309, `${path}: ${error}`);
  }
  return { ok: true, value: [...(value as string[])] };
}

/** `{identifier: value}`, non-empty; `max` limits the identifiers, `empty` allows none (service input). */
function checkValues(
  value: unknown,
  path: string,
  options: { max?: number; empty?: boolean } = {},
): Checked<Record<string, unknown>> {
  if (!isPlainObject(value))
    return problem(301, `${path} must be an object of {identifier: value}, not ${describeType(value)}`);
  const entries = Object.entries(value);
  if (entries.length === 0 && !options.empty) return problem(301, `${path} is empty`);
  if (options.max !== undefined && entries.length > options.max)
    return problem(301, `${path} holds ${entries.length} properties; OneNET allows at most ${options.max}`);
  for (const [identifier, item] of entries) {
    const idError = identifierError(identifier);
    if (idError) return problem(309, `${path}: ${idError}`);
    const error = valueError(item, `${path}.${identifier}`);
    if (error) return problem(302, error);
  }
  return { ok: true, value };
}

function checkInvoke(
  params: Record<string, unknown>,
): Checked<{ identifier: string; input: Record<string, unknown> }> {
  const idError = identifierError(params.identifier);
  if (idError) return problem(309, `params.identifier: ${idError}`);
  const input = params.input === undefined ? {} : params.input;
  const checked = checkValues(input, 'params.input', { empty: true });
  if (!checked.ok) return checked;
  return { ok: true, value: { identifier: params.identifier as string, input: checked.value } };
}

// ---------------------------------------------------------------------------------------------
// Platform → gateway requests

/** ↓ `sub/property/get`: `params.params` lists at most 50 identifiers. */
export function buildSubPropertyGetRequest(
  id: string,
  identity: SubDeviceIdentity,
  identifiers: readonly string[],
): ThingRequest<SubPropertyGetParams> {
  const check = subParams((params) => {
    const list = checkIdentifiers(params.params, 'params.params', MAX_PROPERTIES_PER_SUB_REQUEST);
    return list.ok ? { ok: true, value: { params: list.value } } : list;
  });
  return buildRequest(id, assertChecked(check({ ...identity, params: identifiers }), 'sub/property/get'));
}

/** ↓ `sub/property/set`: `params.params` holds at most 50 `{identifier: value}`. */
export function buildSubPropertySetRequest(
  id: string,
  identity: SubDeviceIdentity,
  values: Record<string, unknown>,
): ThingRequest<SubPropertySetParams> {
  const check = subParams((params) => {
    const checked = checkValues(params.params, 'params.params', { max: MAX_PROPERTIES_PER_SUB_REQUEST });
    return checked.ok ? { ok: true, value: { params: checked.value } } : checked;
  });
  return buildRequest(id, assertChecked(check({ ...identity, params: values }), 'sub/property/set'));
}

/** ↓ `sub/service/invoke`: one service of the sub-device with its input parameters. */
export function buildSubServiceInvokeRequest(
  id: string,
  identity: SubDeviceIdentity,
  identifier: string,
  input: Record<string, unknown>,
): ThingRequest<SubServiceInvokeParams> {
  const check = subParams((params) => checkInvoke(params));
  return buildRequest(id, assertChecked(check({ ...identity, identifier, input }), 'sub/service/invoke'));
}

export function parseSubPropertyGetRequest(
  payload: Buffer | string,
): ParseResult<ThingRequest<SubPropertyGetParams>> {
  return parseGatewayRequest(
    payload,
    subParams((params) => {
      const list = checkIdentifiers(params.params, 'params.params');
      return list.ok ? { ok: true, value: { params: list.value } } : list;
    }),
  );
}

export function parseSubPropertySetRequest(
  payload: Buffer | string,
): ParseResult<ThingRequest<SubPropertySetParams>> {
  return parseGatewayRequest(
    payload,
    subParams((params) => {
      const checked = checkValues(params.params, 'params.params');
      return checked.ok ? { ok: true, value: { params: checked.value } } : checked;
    }),
  );
}

/** A missing `input` is read as `{}` (a service without input parameters). */
export function parseSubServiceInvokeRequest(
  payload: Buffer | string,
): ParseResult<ThingRequest<SubServiceInvokeParams>> {
  return parseGatewayRequest(
    payload,
    subParams((params) => checkInvoke(params)),
  );
}

export type SubDownlinkKind = 'sub-property-get' | 'sub-property-set' | 'sub-service-invoke';

export type SubDownlink =
  | { kind: 'sub-property-get'; request: ThingRequest<SubPropertyGetParams> }
  | { kind: 'sub-property-set'; request: ThingRequest<SubPropertySetParams> }
  | { kind: 'sub-service-invoke'; request: ThingRequest<SubServiceInvokeParams> };

/**
 * One entry point for a gateway's command handler: parses the downlink of `kind` (from parseTopic)
 * so the caller can route it by `request.params.productID` + `deviceName`. Never throws.
 */
export function parseSubDownlink(
  kind: SubDownlinkKind,
  payload: Buffer | string,
): ({ ok: true } & SubDownlink) | { ok: false; code: RejectionCode; reason: string; id?: string } {
  switch (kind) {
    case 'sub-property-get': {
      const parsed = parseSubPropertyGetRequest(payload);
      return parsed.ok ? { ok: true, kind, request: parsed.value } : parsed;
    }
    case 'sub-property-set': {
      const parsed = parseSubPropertySetRequest(payload);
      return parsed.ok ? { ok: true, kind, request: parsed.value } : parsed;
    }
    case 'sub-service-invoke': {
      const parsed = parseSubServiceInvokeRequest(payload);
      return parsed.ok ? { ok: true, kind, request: parsed.value } : parsed;
    }
    default:
      return { ok: false, code: 301, reason: `"${String(kind)}" is not a sub-device command` };
  }
}

// ---------------------------------------------------------------------------------------------
// Gateway → platform replies

function assertId(id: string): void {
  if (!isValidMessageId(id))
    throw new InvalidInputError(`message id "${String(id)}" is not a numeric string of at most 13 digits`);
}

/** ↑ `sub/property/get_reply`: on success `data` is `{identifier: value}` of the asked properties. */
export function buildSubPropertyGetReply(
  id: string,
  code: number,
  msg: string,
  data?: Record<string, unknown>,
): SubPropertyGetReply {
  assertId(id);
  if (code === 200 || data !== undefined) {
    const checked = assertChecked(checkValues(data, 'data'), 'sub/property/get_reply');
    return buildReply(id, code, msg, checked) as SubPropertyGetReply;
  }
  return withoutData(buildReply(id, code, msg));
}

/** ↑ `sub/property/set_reply`: no data (the C SDK's reply on get_reply for a failed set is a bug, §2.3). */
export function buildSubPropertySetReply(id: string, code: number, msg: string): ThingReply {
  assertId(id);
  return buildReply(id, code, msg);
}

/** The invoke_reply data for `request`: its sub-device and identifier echoed, with `output`. */
export function subServiceInvokeReplyData(
  request: SubServiceInvokeParams,
  output: Record<string, unknown>,
): SubServiceInvokeReplyData {
  return {
    deviceName: request.deviceName,
    productID: request.productID,
    identifier: request.identifier,
    output,
  };
}

/** ↑ `sub/service/invoke_reply`; on success `data` from subServiceInvokeReplyData. */
export function buildSubServiceInvokeReply(
  id: string,
  code: number,
  msg: string,
  data?: SubServiceInvokeReplyData,
): SubServiceInvokeReply {
  assertId(id);
  if (code !== 200 && data === undefined) return withoutData(buildReply(id, code, msg));
  const checked = assertChecked(checkInvokeReplyData(data), 'sub/service/invoke_reply');
  return buildReply(id, code, msg, checked) as SubServiceInvokeReply;
}

function checkInvokeReplyData(data: unknown): Checked<SubServiceInvokeReplyData> {
  if (!isPlainObject(data))
    return problem(
      301,
      `data must be {"deviceName", "productID", "identifier", "output"}, not ${describeType(data)}`,
    );
  const identity = checkSubDeviceIdentity(data, 'data');
  if (!identity.ok) return identity;
  const idError = identifierError(data.identifier);
  if (idError) return problem(309, `data.identifier: ${idError}`);
  const output = checkValues(data.output === undefined ? {} : data.output, 'data.output', { empty: true });
  if (!output.ok) return output;
  return {
    ok: true,
    value: {
      deviceName: identity.value.deviceName,
      productID: identity.value.productID,
      identifier: data.identifier as string,
      output: output.value,
    },
  };
}

/** A failed reply's data, if any, is dropped: only a successful one's has a documented shape. */
function withoutData(reply: ThingReply): { id: string; code: number; msg: string } {
  return { id: reply.id, code: reply.code, msg: reply.msg };
}

export function parseSubPropertyGetReply(payload: Buffer | string): ParseResult<SubPropertyGetReply> {
  const parsed = parseGatewayReply(payload);
  if (!parsed.ok) return parsed;
  if (parsed.value.code !== 200) return { ok: true, value: withoutData(parsed.value) };
  const data = checkValues(parsed.value.data, 'data', { empty: true });
  if (!data.ok) return { ok: false, code: data.code, reason: data.reason, id: parsed.value.id };
  return { ok: true, value: { ...parsed.value, data: data.value } };
}

export function parseSubPropertySetReply(payload: Buffer | string): ParseResult<ThingReply> {
  return parseGatewayReply(payload);
}

/** A successful reply must carry the echo and `output` (a missing `output` reads as `{}`). */
export function parseSubServiceInvokeReply(payload: Buffer | string): ParseResult<SubServiceInvokeReply> {
  const parsed = parseGatewayReply(payload);
  if (!parsed.ok) return parsed;
  if (parsed.value.code !== 200) return { ok: true, value: withoutData(parsed.value) };
  const data = checkInvokeReplyData(parsed.value.data);
  if (!data.ok) return { ok: false, code: data.code, reason: data.reason, id: parsed.value.id };
  return { ok: true, value: { ...parsed.value, data: data.value } };
}

/**
 * Why a successful invoke_reply does not answer `request` (a different sub-device or service in
 * its echo), or undefined when it does.
 */
export function invokeReplyMismatch(
  request: SubServiceInvokeParams,
  data: SubServiceInvokeReplyData,
): string | undefined {
  for (const field of ['productID', 'deviceName', 'identifier'] as const) {
    if (data[field] !== request[field])
      return `data.${field} is ${JSON.stringify(data[field])}, the request's is ${JSON.stringify(request[field])}`;
  }
  return undefined;
}
