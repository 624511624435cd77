import { DEVICE_TOKEN_VERSION } from './limits';
import {
  computeSignature,
  deviceResource,
  encodeTokenValue,
  formatToken,
  verifyToken,
  type SignMethod,
  type TokenFields,
  type TokenRejection,
} from './token';

/**
 * The `sasToken` of `sub/topo/add` and `sub/topo/delete` (shared/onenet-next.md §Q2 2.3 step 3): the
 * sub-device's own device token, `res=products/{sub-pid}/devices/{sub-dev}`, signed with the
 * sub-device's key or its product's access key ("所需要的认证信息与通用接口登录时要求一致"), with the
 * algorithm of the CONNECT password (token.ts).
 *
 * The encoding of `res` is UNCONFIRMED: OneNET's example shows it plain (`res=products/p/devices/d`),
 * the official C SDK sends it percent-encoded (`res=products%2Fp%2Fdevices%2Fd`), as the CONNECT
 * password is. Signing defaults to the encoded form, the one known to work on CONNECT; verifying
 * accepts either unless told otherwise.
 */

export type ResEncoding = 'encoded' | 'plain';

export interface SubDeviceTokenInput {
  productID: string;
  deviceName: string;
  /** The sub-device's key, or its product's access key (base64). */
  key: string;
  /** Expiry in unix seconds. */
  et: number;
  /** Default sha256, as the CONNECT password. */
  method?: SignMethod;
  /** Default 'encoded', as the CONNECT password. */
  resEncoding?: ResEncoding;
}

export function signSubDeviceToken(input: SubDeviceTokenInput): string {
  const fields = {
    version: DEVICE_TOKEN_VERSION,
    res: deviceResource(input.productID, input.deviceName),
    et: input.et,
    method: input.method ?? 'sha256',
  };
  const sign = computeSignature(input.key, fields);
  if (sign === undefined) throw new Error(`unsupported sign method "${fields.method}"`);
  if ((input.resEncoding ?? 'encoded') === 'encoded') return formatToken({ ...fields, sign });
  return (
    `version=${encodeTokenValue(fields.version)}&res=${fields.res}` +
    `&et=${fields.et}&method=${encodeTokenValue(fields.method)}&sign=${encodeTokenValue(sign)}`
  );
}

/** How a token writes its `res`: with `%2F` or plain `/`; undefined when it has no `res`. */
export function tokenResEncoding(token: string): ResEncoding | undefined {
  if (typeof token !== 'string') return undefined;
  const part = token.split('&').find((pair) => pair.startsWith('res='));
  if (part === undefined) return undefined;
  return part.includes('/') ? 'plain' : 'encoded';
}

export interface VerifySubDeviceTokenOptions {
  productID: string;
  deviceName: string;
  /** The keys that may have signed it: the sub-device's, and its product's when it has one. */
  keys: readonly string[];
  nowSeconds: number;
  /** Which `res` encodings to accept. Default both (UNCONFIRMED which the platform takes). */
  acceptResEncodings?: readonly ResEncoding[];
}

/**
 * Checks a sasToken as the CONNECT check checks a password, for the sub-device's resource only.
 * Reasons never quote the token or a key.
 */
export function verifySubDeviceToken(
  token: unknown,
  options: VerifySubDeviceTokenOptions,
): { ok: true; fields: TokenFields } | TokenRejection {
  if (typeof token !== 'string' || token === '')
    return { ok: false, logCode: 1103, reason: 'invalid token: the sasToken is empty' };
  const encoding = tokenResEncoding(token);
  const accepted = options.acceptResEncodings ?? ['encoded', 'plain'];
  if (encoding !== undefined && !accepted.includes(encoding)) {
    return {
      ok: false,
      logCode: 1103,
      reason: `invalid token: res is written ${encoding}; accepted: ${accepted.join(', ')}`,
    };
  }
  const verdict = verifyToken(token, {
    acceptedResources: [deviceResource(options.productID, options.deviceName)],
    keys: options.keys,
    nowSeconds: options.nowSeconds,
  });
  if (verdict.ok) return verdict;
  // The parser's reasons may quote a piece of a malformed token; keep only the general shape then.
  if (verdict.logCode === 1103 && verdict.reason.includes('"'))
    return {
      ok: false,
      logCode: 1103,
      reason: 'invalid token: expected version=…&res=…&et=…&method=…&sign=…',
    };
  return verdict;
}
