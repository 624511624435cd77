import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateTestCertificate } from '../../src/emulator';
import { closeAll, connectDevice, connected, newDevice, request, tokenFor, topicOf, newKey } from './helpers';

// Compiled to .build/test/emulator; the bin script loads the build in nodes/ (npm test builds it first).
const BIN = resolve(__dirname, '..', '..', '..', 'bin', 'onenet-emulator.js');

interface Running {
  child: ChildProcess;
  output: () => string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first match of `pattern` in stdout, or rejects after `timeoutMs`. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function run(args: string[], env: NodeJS.ProcessEnv = process.env): Running {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const waiter of waiters.splice(0)) waiter();
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return {
    child,
    exited,
    output: () => stdout + stderr,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor: (pattern, timeoutMs = 5000) =>
      new Promise((resolveMatch, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${pattern} in output:\n${stdout}${stderr}`)),
          timeoutMs,
        );
        const check = (): void => {
          const match = stdout.match(pattern);
          if (match) {
            clearTimeout(timer);
            resolveMatch(match);
          } else {
            waiters.push(check);
          }
        };
        check();
      }),
  };
}

/** Every line the CLI prints on stdout starts with the local time of day, HH:MM:SS.mmm. */
const STAMPED_LINE = /^\d{2}:\d{2}:\d{2}\.\d{3} /;

/** A port held by another listener, as when `npm start` already runs on 1883. */
async function occupyPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  return { server, port: (server.address() as AddressInfo).port };
}

function hoursAndMinutes(timeZone: string, date: Date): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(date)
    .replace(/\s/g, '');
}

describe('onenet-emulator CLI', () => {
  let dir: string;
  const running: Running[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'onenet-emulator-cli-'));
  });
  afterEach(async () => {
    await closeAll();
    for (const process of running.splice(0)) {
      if (process.child.exitCode === null) process.child.kill('SIGKILL');
      await process.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  function start(args: string[], env?: NodeJS.ProcessEnv): Running {
    const process = run(args, env);
    running.push(process);
    return process;
  }

  it('listens, prints connects, refusals, posts and replies, and stops on SIGINT with exit code 0', async function () {
    this.timeout(15000);
    const device = newDevice('cli-dev');
    const file = join(dir, 'devices.json');
    writeFileSync(
      file,
      JSON.stringify([{ productId: device.productId, deviceName: device.deviceName, key: device.key }]),
    );
    const cli = start(['--port', '0', '--devices', file]);
    const [, host, portText] = await cli.waitFor(/listening on ([\d.]+):(\d+)/);
    assert.equal(host, '127.0.0.1');
    const port = Number(portText);
    assert.ok(port > 0);

    const wrongToken = tokenFor(device, { key: newKey() });
    const refused = await connectDevice(port, device, { token: wrongToken });
    assert.equal(refused.kind === 'refused' && refused.code, 4);
    await cli.waitFor(/refused cli-dev .*sign does not match/);

    const token = tokenFor(device);
    const client = await connected(port, device, { token });
    await cli.waitFor(/connect \S+\/cli-dev/);
    await client.subscribeAsync(topicOf(device, 'thing/property/post/reply'));
    await client.publishAsync(
      topicOf(device, 'thing/property/post'),
      request('42', { temperature: { value: 21.5 } }),
      { qos: 1 },
    );
    await cli.waitFor(/property-post from \S+\/cli-dev id 42 .*temperature/);
    await cli.waitFor(/reply 200 .*cli-dev.* id 42/);
    await client.endAsync();
    await cli.waitFor(/disconnect \S+\/cli-dev/);

    cli.child.kill('SIGINT');
    assert.equal(await cli.exited, 0);
    const lines = cli.stdout().trimEnd().split('\n');
    assert.ok(lines.length >= 8, cli.stdout());
    for (const line of lines) assert.match(line, STAMPED_LINE);
    const output = cli.output();
    assert.ok(!output.includes(device.key), 'the device key is never printed');
    assert.ok(!output.includes(token) && !output.includes(wrongToken), 'tokens are never printed');
  });

  it('loads products with a thing model file from the devices file', async function () {
    this.timeout(15000);
    const device = newDevice('typed');
    writeFileSync(
      join(dir, 'model.json'),
      JSON.stringify({ properties: [{ identifier: 'level', dataType: { type: 'int' } }] }),
    );
    const file = join(dir, 'devices.json');
    writeFileSync(
      file,
      JSON.stringify([
        { productId: device.productId, thingModel: 'model.json' },
        { productId: device.productId, deviceName: device.deviceName, key: device.key },
      ]),
    );
    const cli = start(['--port', '0', '--devices', file]);
    const port = Number((await cli.waitFor(/listening on [\d.]+:(\d+)/))[1]);
    const client = await connected(port, device);
    await client.subscribeAsync(topicOf(device, 'thing/property/post/reply'));
    await client.publishAsync(
      topicOf(device, 'thing/property/post'),
      request('1', { humidity: { value: 1 } }),
    );
    await cli.waitFor(/refused \(309 identifier not exist/);
  });

  it('exits with code 2 and the usage on a bad command line', async () => {
    const cli = start(['--port', '0']);
    assert.equal(await cli.exited, 2);
    assert.match(cli.output(), /--devices <file.json> is required/);
    assert.match(cli.output(), /Usage: onenet-emulator/);
  });

  it('exits with code 1 and names the fault when the devices file is wrong, without printing keys', async () => {
    const file = join(dir, 'devices.json');
    const key = newKey();
    writeFileSync(
      file,
      JSON.stringify([
        { productId: 'P1', deviceName: 'd1', key },
        { productId: 'P1', deviceName: 'd2' },
      ]),
    );
    const cli = start(['--port', '0', '--devices', file]);
    assert.equal(await cli.exited, 1);
    assert.match(cli.output(), /entry 1: "key" must be the device key/);
    assert.ok(!cli.output().includes(key));
  });

  it('says in one line that the port is in use, and exits 1 without a stack trace', async () => {
    const file = join(dir, 'devices.json');
    writeFileSync(file, '[]');
    const taken = await occupyPort();
    try {
      const cli = start(['--port', String(taken.port), '--devices', file]);
      assert.equal(await cli.exited, 1);
      assert.equal(
        cli.stderr(),
        `onenet-emulator: port ${taken.port} is already in use on 127.0.0.1; choose another with --port\n`,
      );
      assert.equal(cli.stdout(), '', 'no "closed" or other clean-up lines around the one that matters');
    } finally {
      await new Promise((resolveClose) => taken.server.close(resolveClose));
    }
  });

  it('names --tls-port when it is the TLS port that is in use', async function () {
    this.timeout(15000);
    const certificate = await generateTestCertificate();
    writeFileSync(join(dir, 'key.pem'), certificate.key);
    writeFileSync(join(dir, 'cert.pem'), certificate.cert);
    writeFileSync(join(dir, 'devices.json'), '[]');
    const taken = await occupyPort();
    try {
      const cli = start([
        ...['--port', '0', '--devices', join(dir, 'devices.json')],
        ...['--tls-key', join(dir, 'key.pem'), '--tls-cert', join(dir, 'cert.pem')],
        ...['--tls-port', String(taken.port)],
      ]);
      assert.equal(await cli.exited, 1);
      assert.equal(
        cli.stderr(),
        `onenet-emulator: port ${taken.port} is already in use on 127.0.0.1; choose another with --tls-port\n`,
      );
      assert.equal(cli.stdout(), '', 'the plain listener that did start is not reported as listening');
    } finally {
      await new Promise((resolveClose) => taken.server.close(resolveClose));
    }
  });

  it('refuses the same port for --port and --tls-port', async () => {
    const cli = start([
      ...['--port', '1883', '--devices', 'devices.json', '--tls-key', 'k.pem', '--tls-cert', 'c.pem'],
      ...['--tls-port', '1883'],
    ]);
    assert.equal(await cli.exited, 2);
    assert.match(cli.stderr(), /--port and --tls-port must differ/);
  });

  it("stamps its lines with this machine's local time, as Node-RED's log does", async () => {
    const file = join(dir, 'devices.json');
    writeFileSync(file, '[]');
    // +05:30: neither the hour nor the minute of UTC, so a UTC stamp cannot pass by chance.
    const timeZone = 'Asia/Kolkata';
    const before = new Date();
    const cli = start(['--port', '0', '--devices', file], { ...process.env, TZ: timeZone });
    const [line] = await cli.waitFor(/^.*listening on .*$/m);
    const after = new Date();
    assert.match(line, STAMPED_LINE);
    const expected = new Set([hoursAndMinutes(timeZone, before), hoursAndMinutes(timeZone, after)]);
    assert.ok(expected.has(line.slice(0, 5)), `${line} is stamped in ${[...expected].join(' or ')}`);
    cli.child.kill('SIGINT');
    assert.equal(await cli.exited, 0);
  });
});
