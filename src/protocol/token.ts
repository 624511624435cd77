import { createHmac } from 'node:crypto';
import { DEVICE_TOKEN_VERSION } from './limits';

/**
 * The OneNET access token (shared/onenet-protocol.md §2.2):
 *   version=<v>&res=<res>&et=<unix seconds>&method=<m>&sign=<base64 HMAC>
 * sign = base64(HMAC_<method>(base64decode(key), et \n method \n res \n version)),
 * values URL-encoded in the transmitted string, `res` signed un-encoded.
 */

export type SignMethod = 'md5' | 'sha1' | 'sha256';
export const SIGN_METHODS: readonly SignMethod[] = ['md5', 'sha1', 'sha256'];

export interface TokenFields {
  version: string;
  res: string;
  /** Expiry in unix seconds. */
  et: number;
  method: string;
  sign: string;
}

export interface SignTokenInput {
  /** The base64 key shown in the OneNET console (device key or product access key). */
  key: string;
  res: string;
  et: number;
  method?: SignMethod;
  version?: string;
}

/** The resource a device signs its MQTT login with. */
export function deviceResource(productId: string, deviceName: string): string {
  return `products/${productId}/devices/${deviceName}`;
}

/** The resource a product access key signs ("一型一密", §2.3). */
export function productResource(productId: string): string {
  return `products/${productId}`;
}

/**
 * URL-encodes a token value. Equivalent to Python's quote(safe=''), which the official sample uses:
 * encodeURIComponent leaves !'()* alone, so those are encoded by hand.
 */
export function encodeTokenValue(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

function hmacMethodName(method: string): string | undefined {
  // The signature string carries `method` as written; the HMAC itself is case-insensitive (§2.5 "MD5" vector).
  const lower = method.toLowerCase();
  return (SIGN_METHODS as readonly string[]).includes(lower) ? lower : undefined;
}

/** Computes the base64 signature, or undefined when the method is not one OneNET supports. */
export function computeSignature(key: string, fields: Omit<TokenFields, 'sign'>): string | undefined {
  const algorithm = hmacMethodName(fields.method);
  if (!algorithm) return undefined;
  const stringForSignature = `${fields.et}\n${fields.method}\n${fields.res}\n${fields.version}`;
  return createHmac(algorithm, Buffer.from(key, 'base64'))
    .update(stringForSignature, 'utf8')
    .digest('base64');
}

export function signToken(input: SignTokenInput): string {
  const fields = {
    version: input.version ?? DEVICE_TOKEN_VERSION,
    res: input.res,
    et: input.et,
    method: input.method ?? 'sha256',
  };
  const sign = computeSignature(input.key, fields);
  if (sign === undefined) throw new Error(`unsupported sign method "${fields.method}"`);
  return formatToken({ ...fields, sign });
}

export function formatToken(fields: TokenFields): string {
  return (
    `version=${encodeTokenValue(fields.version)}&res=${encodeTokenValue(fields.res)}` +
    `&et=${fields.et}&method=${encodeTokenValue(fields.method)}&sign=${encodeTokenValue(fields.sign)}`
  );
}

export type TokenParseResult = { ok: true; fields: TokenFields } | { ok: false; reason: string };

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/** Parses a token as the platform does: split on &, each pair on its first =, percent-decode the value. */
export function parseToken(token: string): TokenParseResult {
  if (typeof token !== 'string' || token.length === 0) return { ok: false, reason: 'token is empty' };
  const values = new Map<string, string>();
  for (const pair of token.split('&')) {
    const eq = pair.indexOf('=');
    // The reason never quotes the part: a user who pasted a key as the password must not see it echoed.
    if (eq <= 0) return { ok: false, reason: 'malformed token: a part is not name=value' };
    const decoded = safeDecode(pair.slice(eq + 1));
    if (decoded === undefined) return { ok: false, reason: 'malformed token: bad percent-encoding' };
    values.set(pair.slice(0, eq), decoded);
  }
  const missing = ['version', 'res', 'et', 'method', 'sign'].filter((name) => !values.get(name));
  if (missing.length > 0) return { ok: false, reason: `token lacks ${missing.join(', ')}` };
  const etText = values.get('et')!;
  if (!/^\d{1,15}$/.test(etText)) return { ok: false, reason: 'et is not a unix time in seconds' };
  return {
    ok: true,
    fields: {
      version: values.get('version')!,
      res: values.get('res')!,
      et: Number(etText),
      method: values.get('method')!,
      sign: values.get('sign')!,
    },
  };
}

/** Why a token was refused, with the device-log code OneNET records for it (§2.2). */
export interface TokenRejection {
  ok: false;
  logCode: 1103 | 1104 | 1106 | 1110 | 1111 | 1114;
  reason: string;
}

export interface VerifyTokenOptions {
  /** Resources the login may sign: the device's own and, when a product key is given, the product's. */
  acceptedResources: readonly string[];
  /** Keys to try (device key, product access key). */
  keys: readonly string[];
  /** Current time in unix seconds. */
  nowSeconds: number;
  acceptedVersions?: readonly string[];
}

export function verifyToken(
  token: string,
  options: VerifyTokenOptions,
): { ok: true; fields: TokenFields } | TokenRejection {
  const parsed = parseToken(token);
  if (!parsed.ok) return { ok: false, logCode: 1103, reason: `invalid token: ${parsed.reason}` };
  const { fields } = parsed;
  const versions = options.acceptedVersions ?? [DEVICE_TOKEN_VERSION];
  if (!versions.includes(fields.version)) {
    return { ok: false, logCode: 1111, reason: `unsupported token version "${fields.version}"` };
  }
  if (!(SIGN_METHODS as readonly string[]).includes(fields.method)) {
    return { ok: false, logCode: 1110, reason: `unsupported sign method "${fields.method}"` };
  }
  if (!options.acceptedResources.includes(fields.res)) {
    return {
      ok: false,
      logCode: 1114,
      reason: `token res "${fields.res}" does not match the client id and username`,
    };
  }
  if (fields.et < options.nowSeconds) return { ok: false, logCode: 1104, reason: 'token expired' };
  const matches = options.keys.some((key) => computeSignature(key, fields) === fields.sign);
  if (!matches) return { ok: false, logCode: 1106, reason: 'sign does not match' };
  return { ok: true, fields };
}
