/** The `onenet-emulator` command line (docs/emulator.md). Pure, so it is tested without a process. */

export interface CliOptions {
  host: string;
  port: number;
  devicesFile: string;
  tls?: { keyFile: string; certFile: string; port: number };
  uplinkPerSecond?: number;
}

export const USAGE = `Usage: onenet-emulator --port <n> --devices <file.json> [--host 127.0.0.1]
                      [--tls-key <key.pem> --tls-cert <cert.pem> [--tls-port <n>]]
                      [--uplink-rate <messages per second per device>]

  --port <n>          MQTT port; 0 picks a free one (the port is printed)
  --devices <file>    JSON array of {"productId", "deviceName", "key"} (key = base64 device key);
                      entries without deviceName describe products: {"productId", "accessKey"?, "thingModel"?}
  --host <address>    address to listen on (default 127.0.0.1)
  --tls-key, --tls-cert  PEM files for an MQTT-over-TLS listener on --tls-port (default: a free port)
  --uplink-rate <n>   enforce OneNET's per-device uplink limit: publishes beyond n per second wait for the next second
Stop with Ctrl-C.`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function portNumber(flag: string, text: string | undefined): number {
  const port = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || port > 65535)
    throw new UsageError(`${flag} needs a port number 0..65535`);
  return port;
}

export function parseCliArgs(argv: readonly string[]): CliOptions | 'help' {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--help' || flag === '-h') return 'help';
    if (
      !['--port', '--devices', '--host', '--tls-key', '--tls-cert', '--tls-port', '--uplink-rate'].includes(
        flag,
      )
    ) {
      throw new UsageError(`unknown option ${flag}`);
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    values.set(flag, value);
    i++;
  }
  const devicesFile = values.get('--devices');
  if (!devicesFile) throw new UsageError('--devices <file.json> is required');
  if (!values.has('--port')) throw new UsageError('--port <n> is required (0 picks a free port)');
  const options: CliOptions = {
    host: values.get('--host') ?? '127.0.0.1',
    port: portNumber('--port', values.get('--port')),
    devicesFile,
  };
  const keyFile = values.get('--tls-key');
  const certFile = values.get('--tls-cert');
  if ((keyFile === undefined) !== (certFile === undefined))
    throw new UsageError('--tls-key and --tls-cert go together');
  if (keyFile !== undefined && certFile !== undefined) {
    options.tls = {
      keyFile,
      certFile,
      port: values.has('--tls-port') ? portNumber('--tls-port', values.get('--tls-port')) : 0,
    };
    // Two listeners cannot share a port; saying so here also lets a busy port name its one option.
    if (options.tls.port !== 0 && options.tls.port === options.port)
      throw new UsageError('--port and --tls-port must differ');
  } else if (values.has('--tls-port')) {
    throw new UsageError('--tls-port needs --tls-key and --tls-cert');
  }
  const rate = values.get('--uplink-rate');
  if (rate !== undefined) {
    if (!/^\d+$/.test(rate) || Number(rate) < 1)
      throw new UsageError('--uplink-rate needs a positive whole number');
    options.uplinkPerSecond = Number(rate);
  }
  return options;
}
