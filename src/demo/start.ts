import { resolve } from 'node:path';
import { OneNetEmulator, type EmulatorDevice } from '../emulator';
import { readDemoConfig } from './demo-config';
import { demoGatewayDevices, loadOrCreateDemoDevice } from './demo-device';
import { deployDemoFlows } from './deploy-demo-flows';
import { isLoopback, networkUrls } from './editor-host';
import { prepareUserDir, startNodeRed, type NodeRedProcess } from './node-red-process';
import { startPlatformDriver } from './platform-driver';
import { ensurePortFree } from './port-check';

/**
 * `npm start`: the OneNET emulator, a real Node-RED with this package and the example flows, and a
 * simulated OneNET console sending commands to the demo device. No OneNET account needed.
 */

const PACKAGE_ROOT = resolve(__dirname, '..', '..');

async function startEmulator(device: EmulatorDevice, port: number): Promise<OneNetEmulator> {
  const options = {
    host: '127.0.0.1',
    devices: [device, ...demoGatewayDevices(device.key)],
    log: (line: string) => console.log(`[emulator] ${line}`),
  };
  try {
    return await OneNetEmulator.start({ ...options, port });
  } catch {
    console.log(`[demo] port ${port} is busy; the emulator takes a free port instead`);
    return OneNetEmulator.start({ ...options, port: 0 });
  }
}

function printBanner(
  url: string,
  host: string,
  port: number,
  emulator: OneNetEmulator,
  device: EmulatorDevice,
) {
  console.log('');
  console.log(`  Node-RED with the OneNET nodes:  ${url}`);
  for (const other of networkUrls(host, port)) console.log(`                  on the network:  ${other}`);
  console.log(`  OneNET emulator (MQTT):          mqtt://${emulator.host}:${emulator.port}`);
  console.log(`  Demo device: product ${device.productId}, device ${device.deviceName}`);
  console.log('  Demo gateway: product demoGateway, device demo-gateway-1, with three field devices');
  console.log(
    '  Open the editor, then the Debug sidebar, to watch posts and commands. Ctrl-C stops everything.',
  );
  if (!isLoopback(host))
    console.log(
      `  Warning: the editor listens on ${host} without a login: anyone who reaches this machine on ` +
        `port ${port} can edit and deploy flows.`,
    );
  console.log('');
}

async function main(): Promise<void> {
  const config = readDemoConfig(process.env, process.argv.slice(2), PACKAGE_ROOT);
  const { device, created } = loadOrCreateDemoDevice(config.userDir);
  const emulator = await startEmulator(device, config.emulatorPort);
  let nodeRed: NodeRedProcess | undefined;
  let stopDriver = () => {};
  let stopping = false;
  const starting = new AbortController();
  // One way out, whatever the reason: a Node-RED left running would hold the port for the next start.
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    starting.abort();
    stopDriver();
    await nodeRed?.stop();
    await emulator.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    await ensurePortFree(config.editorHost, config.editorPort, 'PORT=1881 npm start picks another');
    prepareUserDir(config.userDir, PACKAGE_ROOT);
    nodeRed = await startNodeRed(
      config.userDir,
      config.editorPort,
      (line) => console.log(`[node-red] ${line}`),
      {
        host: config.editorHost,
        signal: starting.signal,
      },
    );
    nodeRed.child.once('exit', (code) => {
      if (stopping) return;
      console.error(`[demo] Node-RED exited (code ${code})`);
      void stop(1);
    });
    const report = await deployDemoFlows({
      url: nodeRed.url,
      packageRoot: PACKAGE_ROOT,
      device,
      keyIsNew: created,
      target: { host: emulator.host, port: emulator.port, key: device.key },
      reset: config.reset,
    });
    for (const line of report) console.log(`[demo] ${line}`);
  } catch (err) {
    console.error(`[demo] ${(err as Error).message}`);
    return stop(1);
  }
  stopDriver = startPlatformDriver(emulator, device, config.commandIntervalMs, (line) =>
    console.log(`[console] ${line}`),
  );
  printBanner(nodeRed.url, config.editorHost, config.editorPort, emulator, device);
}

main().catch((err: Error) => {
  console.error(`[demo] ${err.message}`);
  process.exit(1);
});
