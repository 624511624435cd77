import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import mqtt from 'mqtt';

/**
 * Run by load.test.ts in a fresh Node.js process: loads the built package from the directory given
 * as the first argument the way its users do - the node files as Node-RED require()s them, the
 * library entry ("main") for the emulator - then starts the emulator and connects one device to it
 * with MQTT.js. Prints one JSON line (LoadReport) on success; any failure exits non-zero.
 */

export interface LoadReport {
  node: string;
  /** typeof what each node file in package.json "node-red".nodes exports, by node type. */
  nodeFiles: Record<string, string>;
  /** The device the emulator reported as connected, product id/device name. */
  connected: string;
}

type PackageLibrary = typeof import('../../src');

async function main(packageRoot: string): Promise<LoadReport> {
  // A require() of the package's own, as Node-RED and CommonJS users do (not an import()).
  const load = createRequire(join(packageRoot, 'package.json'));
  const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
    'node-red': { nodes: Record<string, string> };
  };
  const nodeFiles: Record<string, string> = {};
  for (const [type, file] of Object.entries(manifest['node-red'].nodes)) {
    nodeFiles[type] = typeof load(join(packageRoot, file));
  }

  const library = load(packageRoot) as PackageLibrary;
  const device = {
    productId: 'loadCheck01',
    deviceName: 'load-check',
    key: randomBytes(32).toString('base64'),
  };
  const emulator = await library.OneNetEmulator.start({ devices: [device] });
  try {
    const seen = new Promise<string>((resolve) =>
      emulator.once('client-connected', (event) => resolve(`${event.productId}/${event.deviceName}`)),
    );
    const client = await mqtt.connectAsync({
      host: '127.0.0.1',
      port: emulator.port,
      protocolVersion: 4,
      clientId: device.deviceName,
      username: device.productId,
      password: library.signToken({
        key: device.key,
        res: library.deviceResource(device.productId, device.deviceName),
        et: Math.floor(Date.now() / 1000) + 600,
        method: 'sha256',
      }),
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    const connected = await seen;
    await client.endAsync();
    return { node: process.version, nodeFiles, connected };
  } finally {
    await emulator.close();
  }
}

main(process.argv[2]!).then(
  (report) => process.stdout.write(`${JSON.stringify(report)}\n`),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
