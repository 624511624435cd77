/** The `onenet-emulator` command line (docs/emulator.md). Pure, so it is tested without a process. */

export interface CliOptions {
  host: string;
  port: number;
  devicesFile: string;
  tls?: { keyFile: string; certFile: string; port: number };
  uplinkPerSecond?: number;
  uplinkLimitMode?: 'off' | 'delay' | 'disconnect' | 'ban';
  uplinkBurst?: number;
  banSeconds?: number;
  /** `--thing-model <productId>=<file>`, repeatable: console export files per product. */
  thingModels?: Array<{ productId: string; file: string }>;
  modelReplyCodes?: { unknownIdentifier: number; dataType: number; readOnly?: number };
}

export const USAGE = `Usage: onenet-emulator --port <n> --devices <file.json> [--host 127.0.0.1]
                      [--tls-key <key.pem> --tls-cert <cert.pem> [--tls-port <n>]]
                      [--uplink-per-second <n> [--uplink-limit-mode delay|disconnect|ban|off]
                       [--uplink-burst <n>] [--ban-seconds <s>]]
                      [--thing-model <productId>=<export.json>]... [--model-reply-codes 309,302[,313]]

  --port <n>          MQTT port; 0 picks a free one (the port is printed)
  --devices <file>    JSON array of {"productId", "deviceName", "key"} (key = base64 device key);
                      entries without deviceName describe products: {"productId", "accessKey"?, "thingModel"?};
                      "nodeType": "gateway" makes a device a gateway, "gateway": {"productId", "deviceName"}
                      binds a device to one as its sub-device
  --host <address>    address to listen on (default 127.0.0.1)
  --tls-key, --tls-cert  PEM files for an MQTT-over-TLS listener on --tls-port (default: a free port)
  --uplink-per-second <n>  enforce OneNET's per-device uplink limit of n publishes per wall-clock second
                      (--uplink-rate is the same option)
  --uplink-limit-mode <m>  what a publish beyond it gets: delay (default; it waits for the next second),
                      disconnect (the connection is closed), ban (closed, and logins refused for a while)
  --uplink-burst <n>  extra publishes allowed on top of one second's n (default 0)
  --ban-seconds <s>   how long ban refuses the device's logins (default 300)
  --thing-model <productId>=<file>  the product's thing model as the OneNET console exports it
                      (产品详情 → 查看/导出物模型); posts and requests are checked against it (repeatable)
  --model-reply-codes <a>,<b>[,<c>]  codes for what a thing model refuses: unknown identifier,
                      data type, set of a read-only property (default 309,302,313)
Stop with Ctrl-C.`;

const FLAGS = [
  '--port',
  '--devices',
  '--host',
  '--tls-key',
  '--tls-cert',
  '--tls-port',
  '--uplink-rate',
  '--uplink-per-second',
  '--uplink-limit-mode',
  '--uplink-burst',
  '--ban-seconds',
  '--thing-model',
  '--model-reply-codes',
];
const LIMIT_MODES = ['off', 'delay', 'disconnect', 'ban'] as const;

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
  const thingModels: Array<{ productId: string; file: string }> = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--help' || flag === '-h') return 'help';
    if (!FLAGS.includes(flag)) throw new UsageError(`unknown option ${flag}`);
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    if (flag === '--thing-model') thingModels.push(thingModelArg(value));
    else values.set(flag, value);
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
  readUplinkLimit(values, options);
  if (thingModels.length > 0) options.thingModels = thingModels;
  const codes = values.get('--model-reply-codes');
  if (codes !== undefined) {
    if (!/^\d+,\d+(,\d+)?$/.test(codes))
      throw new UsageError('--model-reply-codes needs two or three codes, e.g. 309,302,313');
    const [unknownIdentifier, dataType, readOnly] = codes.split(',').map(Number) as [number, number, number?];
    options.modelReplyCodes =
      readOnly === undefined ? { unknownIdentifier, dataType } : { unknownIdentifier, dataType, readOnly };
  }
  return options;
}

function thingModelArg(value: string): { productId: string; file: string } {
  const match = /^([A-Za-z0-9]+)=(.+)$/.exec(value);
  if (!match) throw new UsageError('--thing-model needs <productId>=<export.json>');
  return { productId: match[1]!, file: match[2]! };
}

function wholeNumber(flag: string, text: string, min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min)
    throw new UsageError(`${flag} needs a ${min > 0 ? 'positive ' : ''}whole number`);
  return Number(text);
}

function readUplinkLimit(values: ReadonlyMap<string, string>, options: CliOptions): void {
  if (values.has('--uplink-rate') && values.has('--uplink-per-second'))
    throw new UsageError('--uplink-rate and --uplink-per-second are the same option; give one');
  const flag = values.has('--uplink-rate') ? '--uplink-rate' : '--uplink-per-second';
  const rate = values.get(flag);
  if (rate !== undefined) options.uplinkPerSecond = wholeNumber(flag, rate, 1);
  const mode = values.get('--uplink-limit-mode');
  const burst = values.get('--uplink-burst');
  const ban = values.get('--ban-seconds');
  if (rate === undefined && (mode !== undefined || burst !== undefined || ban !== undefined))
    throw new UsageError('--uplink-limit-mode, --uplink-burst and --ban-seconds need --uplink-per-second');
  if (mode !== undefined) {
    if (!(LIMIT_MODES as readonly string[]).includes(mode))
      throw new UsageError(`--uplink-limit-mode must be one of ${LIMIT_MODES.join(', ')}`);
    options.uplinkLimitMode = mode as CliOptions['uplinkLimitMode'];
  }
  if (burst !== undefined) options.uplinkBurst = wholeNumber('--uplink-burst', burst, 0);
  if (ban !== undefined) {
    if (mode !== 'ban') throw new UsageError('--ban-seconds goes with --uplink-limit-mode ban');
    options.banSeconds = wholeNumber('--ban-seconds', ban, 1);
  }
}
