import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OneNetEmulator, type EmulatorDevice } from '../emulator';
import { mergeExamples, pointAtEmulator, readExampleFlows, type DemoTarget } from './example-flows';
import { deployFlows, getFlows, prepareUserDir, startNodeRed } from './node-red-process';
import { startPlatformDriver } from './platform-driver';

/**
 * `npm start`: the OneNET emulator, a real Node-RED with this package and the example flows, and a
 * simulated OneNET console sending commands to the demo device. No OneNET account needed.
 */

const PACKAGE_ROOT = resolve(__dirname, '..', '..');
const USER_DIR = join(PACKAGE_ROOT, '.node-red-demo');
const DEMO_DEVICE_FILE = join(USER_DIR, 'demo-device.json');
const PREFERRED_EMULATOR_PORT = Number(process.env.ONENET_EMULATOR_PORT ?? 1883);
const NODE_RED_PORT = Number(process.env.PORT ?? 1880);
const COMMAND_INTERVAL_MS = Number(process.env.ONENET_DEMO_INTERVAL_MS ?? 10_000);

/** The examples name this device; its key is made once per demo directory and kept there. */
function loadOrCreateDemoDevice(): EmulatorDevice {
  if (existsSync(DEMO_DEVICE_FILE))
    return JSON.parse(readFileSync(DEMO_DEVICE_FILE, 'utf8')) as EmulatorDevice;
  mkdirSync(USER_DIR, { recursive: true });
  const device = {
    productId: 'demoProduct',
    deviceName: 'demo-device-1',
    key: randomBytes(32).toString('base64'),
  };
  writeFileSync(DEMO_DEVICE_FILE, JSON.stringify(device, null, 2));
  return device;
}

async function startEmulator(device: EmulatorDevice): Promise<OneNetEmulator> {
  const options = {
    host: '127.0.0.1',
    devices: [device],
    log: (line: string) => console.log(`[emulator] ${line}`),
  };
  try {
    return await OneNetEmulator.start({ ...options, port: PREFERRED_EMULATOR_PORT });
  } catch {
    console.log(`[demo] port ${PREFERRED_EMULATOR_PORT} is busy; the emulator takes a free port instead`);
    return OneNetEmulator.start({ ...options, port: 0 });
  }
}

/** First start: deploy the examples. Later starts: keep the user's flows, re-point demo devices. */
async function deployDemoFlows(url: string, target: DemoTarget, reset: boolean): Promise<void> {
  const existing = await getFlows(url);
  if (existing.length === 0 || reset) {
    await deployFlows(url, mergeExamples(readExampleFlows(join(PACKAGE_ROOT, 'examples')), target));
    console.log('[demo] deployed the example flows');
    return;
  }
  const repointed = existing.map((node) =>
    node.type === 'onenet-device' && node.host === '127.0.0.1' ? pointAtEmulator(node, target) : node,
  );
  await deployFlows(url, repointed);
  console.log('[demo] kept your flows; demo devices point at the emulator');
}

async function main(): Promise<void> {
  const device = loadOrCreateDemoDevice();
  const emulator = await startEmulator(device);
  prepareUserDir(USER_DIR, PACKAGE_ROOT);
  const nodeRed = await startNodeRed(USER_DIR, NODE_RED_PORT, (line) => console.log(`[node-red] ${line}`));
  await deployDemoFlows(
    nodeRed.url,
    { host: emulator.host, port: emulator.port, key: device.key },
    process.argv.includes('--reset'),
  );
  const stopDriver = startPlatformDriver(emulator, device, COMMAND_INTERVAL_MS, (line) =>
    console.log(`[console] ${line}`),
  );

  console.log('');
  console.log(`  Node-RED with the OneNET nodes:  ${nodeRed.url}`);
  console.log(`  OneNET emulator (MQTT):          mqtt://${emulator.host}:${emulator.port}`);
  console.log(`  Demo device: product ${device.productId}, device ${device.deviceName}`);
  console.log(
    '  Open the editor, then the Debug sidebar, to watch posts and commands. Ctrl-C stops everything.',
  );
  console.log('');

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    stopDriver();
    await nodeRed.stop();
    await emulator.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  nodeRed.child.once('exit', (code) => {
    if (!stopping) {
      console.error(`[demo] Node-RED exited (code ${code})`);
      void emulator.close().then(() => process.exit(1));
    }
  });
}

main().catch((err: Error) => {
  console.error(`[demo] ${err.message}`);
  process.exit(1);
});
