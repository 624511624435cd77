import { readFileSync } from 'node:fs';
import { parseCliArgs, USAGE, UsageError, type CliOptions } from './cli-args';
import { loadDevicesFile, loadThingModelFile } from './devices-file';
import { OneNetEmulator } from './emulator';
import { clockTime } from './log-format';
import type { EmulatorOptions } from './types';

/**
 * `onenet-emulator`: runs the emulator in the foreground, printing one line per thing it does
 * (connects, refusals with their reason, posts, replies), until Ctrl-C.
 */

function stamped(line: string): string {
  return `${clockTime(new Date())} ${line}\n`;
}

function print(line: string): void {
  process.stdout.write(stamped(line));
}

function fail(message: string): number {
  process.stderr.write(`onenet-emulator: ${message}\n`);
  return 1;
}

/**
 * One line for the listen failures a person can fix from the command line; undefined for the rest.
 * The options are told apart by port, which works because --port and --tls-port must differ.
 */
export function listenFailure(error: unknown, parsed: CliOptions): string | undefined {
  const { code, port } = error as NodeJS.ErrnoException & { port?: number };
  const flag = parsed.tls && port === parsed.tls.port ? '--tls-port' : '--port';
  switch (code) {
    case 'EADDRINUSE':
      return `port ${port} is already in use on ${parsed.host}; choose another with ${flag}`;
    case 'EACCES':
      return `port ${port} on ${parsed.host} needs privileges this user lacks; choose another with ${flag}`;
    case 'EADDRNOTAVAIL':
      return `${parsed.host} is not an address of this machine; choose another with --host`;
    default:
      return undefined;
  }
}

/**
 * Starts the emulator, holding its log lines until it listens: when the port is taken, the one
 * line that says so is clearer without the "closed" of the emulator's clean-up before it.
 */
async function startQuietly(options: EmulatorOptions, parsed: CliOptions): Promise<OneNetEmulator | string> {
  const held: string[] = [];
  let live = false;
  options.log = (line) => (live ? print(line) : held.push(stamped(line)));
  try {
    const emulator = await OneNetEmulator.start(options);
    process.stdout.write(held.join(''));
    live = true;
    return emulator;
  } catch (error) {
    const known = listenFailure(error, parsed);
    if (known === undefined) {
      process.stdout.write(held.join(''));
      throw error;
    }
    return known;
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseCliArgs>;
  try {
    parsed = parseCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`onenet-emulator: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const options: EmulatorOptions = { host: parsed.host, port: parsed.port };
  try {
    const { devices, products } = loadDevicesFile(parsed.devicesFile);
    options.devices = devices;
    options.products = products;
    for (const { productId, file } of parsed.thingModels ?? []) {
      const thingModel = loadThingModelFile(file);
      const product = products.find((candidate) => candidate.productId === productId);
      if (product) product.thingModel = thingModel;
      else products.push({ productId, thingModel });
    }
    if (parsed.modelReplyCodes) options.modelReplyCodes = parsed.modelReplyCodes;
    if (parsed.tls) {
      options.tls = {
        key: readFileSync(parsed.tls.keyFile),
        cert: readFileSync(parsed.tls.certFile),
        port: parsed.tls.port,
      };
    }
    if (parsed.uplinkPerSecond !== undefined) {
      options.uplinkRateLimit = { perSecond: parsed.uplinkPerSecond };
      if (parsed.uplinkLimitMode) options.uplinkRateLimit.mode = parsed.uplinkLimitMode;
      if (parsed.uplinkBurst !== undefined) options.uplinkRateLimit.burst = parsed.uplinkBurst;
      if (parsed.banSeconds !== undefined) options.uplinkRateLimit.banMs = parsed.banSeconds * 1000;
    }
  } catch (error) {
    return fail((error as Error).message);
  }
  const started = await startQuietly(options, parsed);
  if (typeof started === 'string') return fail(started);
  const emulator = started;
  const count = options.devices?.length ?? 0;
  print(`${count} device${count === 1 ? '' : 's'} registered; press Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      print('stopping');
      void emulator.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
