import { deviceNameError, productIdError, SIGN_METHODS, type SignMethod } from '../protocol';
import { parseExpires, parseTtl } from './expiry';
import { shown } from './shown';

/** The `onenet-token` command line (usage.ts). Pure: the key's source is named here, read elsewhere. */

/** The node's default token lifetime, so a hand-made token lives as long as one the nodes sign. */
export const DEFAULT_TTL_SECONDS = 2_592_000;

export type KeySource =
  | { from: 'argument'; key: string }
  /** `--key -`. */
  | { from: 'stdin' }
  /** No --key: ONENET_KEY, else stdin when it is not a terminal. */
  | { from: 'environment-or-stdin' };

export type ResourceLevel = 'device' | 'product';

/** `et` itself (--expires), or a lifetime from the moment of signing (--ttl). */
export type Expiry = { at: number } | { ttlSeconds: number };

export interface TokenArgs {
  productId: string;
  /** Absent only with --res product, where the token does not name the device. */
  deviceName?: string;
  key: KeySource;
  method: SignMethod;
  level: ResourceLevel;
  expiry: Expiry;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const VALUE_OPTIONS = ['--product', '--device', '--key', '--method', '--expires', '--ttl', '--res'];

function collect(argv: readonly string[]): Map<string, string> | 'help' {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    if (!VALUE_OPTIONS.includes(arg)) {
      // A stray word may be a key missing its --key: name options only, never quote a value.
      throw new UsageError(
        /^--?[a-z][a-z-]*$/i.test(arg) ? `unknown option ${arg}` : 'unexpected argument (not shown)',
      );
    }
    const value = argv[i + 1];
    // "-" alone is a value (--key - reads stdin); anything else starting with "--" is the next option.
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${arg} needs a value`);
    if (values.has(arg)) throw new UsageError(`${arg} is given twice`);
    values.set(arg, value);
    i++;
  }
  return values;
}

function method(text: string | undefined): SignMethod {
  if (text === undefined) return 'sha256';
  if (!(SIGN_METHODS as readonly string[]).includes(text)) {
    throw new UsageError(`unknown method ${shown(text)}: use sha256, sha1 or md5`);
  }
  return text as SignMethod;
}

function level(text: string | undefined): ResourceLevel {
  if (text === undefined || text === 'device' || text === 'product') return text ?? 'device';
  throw new UsageError(`--res must be device or product, not ${shown(text)}`);
}

function expiry(values: Map<string, string>): Expiry {
  const expires = values.get('--expires');
  const ttl = values.get('--ttl');
  if (expires !== undefined && ttl !== undefined) throw new UsageError('give --expires or --ttl, not both');
  if (expires !== undefined) {
    const parsed = parseExpires(expires);
    if (!parsed.ok) throw new UsageError(`--expires: ${parsed.reason}`);
    return { at: parsed.value };
  }
  if (ttl === undefined) return { ttlSeconds: DEFAULT_TTL_SECONDS };
  const parsed = parseTtl(ttl);
  if (!parsed.ok) throw new UsageError(parsed.reason);
  return { ttlSeconds: parsed.value };
}

export function parseTokenArgs(argv: readonly string[]): TokenArgs | 'help' {
  const values = collect(argv);
  if (values === 'help') return 'help';
  const productId = values.get('--product');
  if (productId === undefined) throw new UsageError('--product <id> is required');
  const productProblem = productIdError(productId);
  if (productProblem) throw new UsageError(`--product: ${productProblem}`);
  const resourceLevel = level(values.get('--res'));
  const deviceName = values.get('--device');
  if (deviceName === undefined && resourceLevel === 'device') {
    throw new UsageError('--device <name> is required (or --res product for a product-level token)');
  }
  if (deviceName !== undefined) {
    const deviceProblem = deviceNameError(deviceName);
    if (deviceProblem) throw new UsageError(`--device: ${deviceProblem}`);
  }
  const keyText = values.get('--key');
  const key: KeySource =
    keyText === undefined
      ? { from: 'environment-or-stdin' }
      : keyText === '-'
        ? { from: 'stdin' }
        : { from: 'argument', key: keyText };
  const args: TokenArgs = {
    productId,
    key,
    method: method(values.get('--method')),
    level: resourceLevel,
    expiry: expiry(values),
  };
  if (deviceName !== undefined) args.deviceName = deviceName;
  return args;
}
