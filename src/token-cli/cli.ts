import { deviceResource, DEVICE_TOKEN_VERSION, productResource, signToken } from '../protocol';
import { parseTokenArgs, UsageError, type TokenArgs } from './args';
import { etAfter } from './expiry';
import { KEY_ENV, readKey, type KeyInput } from './key';
import { summaryLines } from './summary';
import { USAGE } from './usage';

/**
 * `onenet-token`: signs a OneNET MQTT login token (onenet-protocol.md §2.2). The token alone goes to
 * stdout so `$(onenet-token ...)` captures it; everything meant for the person goes to stderr.
 */

export interface TokenCliIo extends KeyInput {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  nowSeconds: () => number;
}

const NAME = 'onenet-token';

function resourceOf(args: TokenArgs): string {
  return args.level === 'product'
    ? productResource(args.productId)
    : deviceResource(args.productId, args.deviceName!);
}

/**
 * Belt and braces: messages quote only short plain values (shown.ts), but should a key be one of
 * them, it is cut out. Short strings are left alone: "-" or "ab" would mangle the message.
 */
function withoutKeys(message: string, argv: readonly string[], env: KeyInput['env']): string {
  const at = argv.indexOf('--key');
  const keys = [env[KEY_ENV], at >= 0 ? argv[at + 1] : undefined];
  let text = message;
  for (const key of keys) if (key !== undefined && key.length >= 8) text = text.split(key).join('(the key)');
  return text;
}

async function run(argv: readonly string[], io: TokenCliIo): Promise<number> {
  const args = parseTokenArgs(argv);
  if (args === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const key = await readKey(args.key, io);
  const nowSeconds = io.nowSeconds();
  let et: number;
  if ('at' in args.expiry) {
    et = args.expiry.at;
  } else {
    const computed = etAfter(nowSeconds, args.expiry.ttlSeconds);
    if (!computed.ok) throw new UsageError(computed.reason);
    et = computed.value;
  }
  const fields = { version: DEVICE_TOKEN_VERSION, res: resourceOf(args), et, method: args.method };
  io.stdout.write(`${signToken({ key, ...fields })}\n`);
  const summary = summaryLines({
    fields,
    productId: args.productId,
    deviceName: args.deviceName,
    nowSeconds,
  });
  io.stderr.write(`${summary.join('\n')}\n`);
  return 0;
}

/** Exit code 0 on success, 2 on a usage or key error (one line on stderr); other errors propagate. */
export async function main(argv: readonly string[], io: TokenCliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const message = withoutKeys(error.message, argv, io.env);
    io.stderr.write(`${NAME}: ${message} (see ${NAME} --help)\n`);
    return 2;
  }
}
