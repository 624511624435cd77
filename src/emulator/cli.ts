import { readFileSync } from 'node:fs';
import { parseCliArgs, USAGE, UsageError } from './cli-args';
import { loadDevicesFile } from './devices-file';
import { OneNetEmulator } from './emulator';
import type { EmulatorOptions } from './types';

/**
 * `onenet-emulator`: runs the emulator in the foreground, printing one line per thing it does
 * (connects, refusals with their reason, posts, replies), until Ctrl-C.
 */

function timestamp(): string {
  return new Date().toISOString().slice(11, 23);
}

function print(line: string): void {
  process.stdout.write(`${timestamp()} ${line}\n`);
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
  const options: EmulatorOptions = { host: parsed.host, port: parsed.port, log: print };
  try {
    const { devices, products } = loadDevicesFile(parsed.devicesFile);
    options.devices = devices;
    options.products = products;
    if (parsed.tls) {
      options.tls = {
        key: readFileSync(parsed.tls.keyFile),
        cert: readFileSync(parsed.tls.certFile),
        port: parsed.tls.port,
      };
    }
    if (parsed.uplinkPerSecond !== undefined) options.uplinkRateLimit = { perSecond: parsed.uplinkPerSecond };
  } catch (error) {
    process.stderr.write(`onenet-emulator: ${(error as Error).message}\n`);
    return 1;
  }
  const emulator = await OneNetEmulator.start(options);
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
