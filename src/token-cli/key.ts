import { UsageError, type KeySource } from './args';

/**
 * Where the key comes from. A key given as an argument lands in the shell history, so it can also
 * come from ONENET_KEY or stdin. Every message here describes the key; none quotes it.
 */

export const KEY_ENV = 'ONENET_KEY';

/** The documented sample key is 44 characters; this much on stdin is some other file, not a key. */
const MAX_STDIN_BYTES = 4096;

export interface KeyInput {
  env: Readonly<Record<string, string | undefined>>;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

/**
 * Standard base64 with its padding, as the OneNET console shows keys. Stricter than Buffer.from,
 * which skips stray characters and accepts a key cut short in copying: either would sign a token
 * the platform refuses with nothing to say why.
 */
function isBase64(text: string): boolean {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(text);
}

function checked(key: string, where: string): string {
  if (key.length === 0) throw new UsageError(`${where} is empty`);
  if (!isBase64(key)) {
    const hint = /^[A-Za-z0-9+/]+={0,2}$/.test(key)
      ? `its ${key.length} characters are not a whole number of base64 groups; was it cut short?`
      : 'copy it again from the OneNET console';
    throw new UsageError(`${where} is not base64: ${hint}`);
  }
  return key;
}

async function readAll(stdin: KeyInput['stdin']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_STDIN_BYTES) throw new UsageError('stdin holds more than a key');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const NO_KEY = `no key: set ${KEY_ENV}, pipe it on stdin (--key -) or give --key <base64>`;

/** A file or `echo` ends the key with a newline (CRLF on Windows); surrounding space is never key. */
async function stdinText(stdin: KeyInput['stdin']): Promise<string> {
  return (await readAll(stdin)).trim();
}

export async function readKey(source: KeySource, input: KeyInput): Promise<string> {
  if (source.from === 'argument') return checked(source.key, 'the --key value');
  if (source.from === 'stdin') {
    // Reading a terminal would show the key as it is typed; a pipe or a file does not.
    if (input.stdin.isTTY) {
      throw new UsageError(`--key - reads stdin, but stdin is a terminal: pipe the key in or set ${KEY_ENV}`);
    }
    return checked(await stdinText(input.stdin), 'the key on stdin');
  }
  const fromEnv = input.env[KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return checked(fromEnv.trim(), KEY_ENV);
  if (input.stdin.isTTY) throw new UsageError(NO_KEY);
  // Nobody asked for stdin here, so an empty one (a script, CI, </dev/null) means no key was given.
  const piped = await stdinText(input.stdin);
  if (piped === '') throw new UsageError(`${NO_KEY} (stdin was empty)`);
  return checked(piped, 'the key on stdin');
}
