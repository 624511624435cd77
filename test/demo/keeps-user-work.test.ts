import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OneNetEmulator } from '../../src/emulator';
import { exampleNodeIds, mergeExamples, readExampleFlows, type FlowNode } from '../../src/demo/example-flows';
import { deployFlows, getFlows } from '../../src/demo/node-red-process';
import { freePort, REPO_ROOT, waitFor } from '../support/packed-install';
import { startDemo, type DemoProcess } from './demo-process';
import { readCredentialsFile, readFlowsFile } from './flows-on-disk';

/**
 * `npm start` three times on one user directory, as a user would: a real demo process (its emulator,
 * a real Node-RED), the flows and credentials files read from disk. Between the runs the user adds a
 * tab of their own with a device on 127.0.0.1 - the case an earlier demo re-pointed at its emulator -
 * and edits the examples. The second start must change only the demo's device; --reset must put the
 * examples back and leave the user's tab, nodes and key as they were.
 */

const SHIPPED = readExampleFlows(join(REPO_ROOT, 'examples'));
const EXAMPLE_IDS = exampleNodeIds(SHIPPED);
const DEMO_SECRET = 'onenet-demo'; // the credentialSecret of the demo's settings.js
const READY = /Ctrl-C stops everything/;
// Node-RED starts three times; a busy 2-core machine may take several seconds each time.
const START_MS = 40_000;
const STOP_MS = 15_000;

const userDevice = {
  productId: 'myProduct',
  deviceName: 'my-device-1',
  key: randomBytes(32).toString('base64'),
};

/** The user's own work: a tab, a device on 127.0.0.1 (another emulator), a node using it. */
function userNodes(port: number): FlowNode[] {
  return [
    { id: 'my-tab', type: 'tab', label: 'My plant', disabled: false, info: '' },
    {
      id: 'my-device',
      type: 'onenet-device',
      name: 'my own device',
      productId: userDevice.productId,
      deviceName: userDevice.deviceName,
      host: '127.0.0.1',
      port: String(port),
      tls: false,
      tlsConfig: '',
      signMethod: 'sha256',
      tokenTtl: '2592000',
      keepalive: '60',
      offlinePolicy: 'fail',
      credentials: { key: userDevice.key },
    },
    {
      id: 'my-commands',
      type: 'onenet-command-in',
      z: 'my-tab',
      name: 'my commands',
      device: 'my-device',
      kind: 'property-set',
      service: '',
      autoReply: true,
      x: 160,
      y: 80,
      wires: [[]],
    },
  ];
}

function withoutCredentials(node: FlowNode): FlowNode {
  const copy = { ...node };
  delete copy.credentials;
  return copy;
}

function byId(flows: FlowNode[], id: string): FlowNode | undefined {
  return flows.find((node) => node.id === id);
}

async function otherFreePort(than: number): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port !== than) return port;
  }
}

describe('npm start keeps the user’s work (real demo process, real disk)', function () {
  this.timeout(120_000);
  const userDir = join(mkdtempSync(join(tmpdir(), 'onenet-demo-')), 'user');
  let userEmulator: OneNetEmulator;
  let userLogins = 0;
  let demo: DemoProcess | undefined;
  let savedUserNodes: FlowNode[] = [];

  async function run(args: string[] = []): Promise<{ demo: DemoProcess; emulatorPort: number }> {
    const emulatorPort = await otherFreePort(userEmulator.port);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ONENET_DEMO_DIR: userDir,
      PORT: String(await freePort()),
      ONENET_EMULATOR_PORT: String(emulatorPort),
      ONENET_DEMO_INTERVAL_MS: String(3_600_000), // no console commands: they would only add noise
    };
    delete env.HOST;
    demo = startDemo(env, args);
    const banner = await demo.waitFor(/OneNET emulator \(MQTT\): +mqtt:\/\/127\.0\.0\.1:(\d+)/, START_MS);
    await demo.waitFor(READY, START_MS);
    assert.equal(Number(banner[1]), emulatorPort, 'the emulator took the port it was given');
    return { demo, emulatorPort };
  }

  async function stop(): Promise<void> {
    assert.equal(await demo!.stop(STOP_MS), 0, demo!.output());
    demo = undefined;
  }

  function userNodesOnDisk(): FlowNode[] {
    return readFlowsFile(userDir).filter((node) => !EXAMPLE_IDS.has(node.id));
  }

  before(async () => {
    userEmulator = await OneNetEmulator.start({
      devices: [userDevice],
      log: (line) => {
        if (line.startsWith(`connect ${userDevice.productId}/${userDevice.deviceName}`)) userLogins++;
      },
    });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && demo) console.log(demo.output());
  });

  after(async () => {
    demo?.kill();
    await userEmulator?.close();
    rmSync(join(userDir, '..'), { recursive: true, force: true });
  });

  it('first start: deploys the examples into a fresh directory, quietly', async () => {
    const { demo, emulatorPort } = await run();
    const output = demo.output();
    assert.match(output, /\[demo\] deployed the example flows/);
    assert.doesNotMatch(output, /Projects disabled/);
    const deployed = await getFlows(urlOf(output));
    assert.deepEqual(
      new Set(deployed.map((node) => node.id)),
      new Set(mergeExamples(SHIPPED, target(emulatorPort)).map((n) => n.id)),
    );

    // The user builds a tab of their own in the editor and deploys it.
    await deployFlows(urlOf(output), [...deployed, ...userNodes(userEmulator.port)]);
    await waitFor(
      'the user’s device to log in to its own emulator',
      () => (userLogins > 0 ? true : undefined),
      20_000,
    );
    await stop();

    savedUserNodes = userNodesOnDisk();
    assert.deepEqual(
      savedUserNodes,
      userNodes(userEmulator.port).map(withoutCredentials),
      'the user’s nodes as deployed',
    );
    assert.equal(readCredentialsFile(userDir, DEMO_SECRET)['my-device']?.key, userDevice.key);
  });

  it('second start: re-points only the demo device and says so', async () => {
    const loginsBefore = userLogins;
    const { demo, emulatorPort } = await run();
    const output = demo.output();
    assert.match(
      output,
      new RegExp(
        `\\[demo\\] kept your flows; re-pointed 5 demo devices \\(demo device, demo gateway, field device 1, field device 2, field device 3\\) at the emulator on port ${emulatorPort}\\n`,
      ),
    );
    // The demo device really logs in to this run's emulator, and the user's device to its own.
    await demo.waitFor(
      /\[emulator\] connect demoProduct\/demo-device-1/,
      20_000,
      output.indexOf('re-pointed'),
    );
    await waitFor(
      'the user’s device to log in again',
      () => (userLogins > loginsBefore ? true : undefined),
      20_000,
    );

    // The user now edits the examples: drops one tab, renames a node, adds a note to an example tab.
    const url = urlOf(output);
    const flows = (await getFlows(url))
      .filter((node) => node.id !== 'ex02-tab' && node.z !== 'ex02-tab')
      .map((node) => (node.id === 'ex01-done' ? { ...node, name: 'renamed by the user' } : node));
    flows.push({
      id: 'my-note',
      type: 'comment',
      z: 'ex01-tab',
      name: 'my note',
      info: '',
      x: 400,
      y: 260,
      wires: [],
    });
    await deployFlows(url, flows);
    await stop();

    const onDisk = readFlowsFile(userDir);
    assert.deepEqual(
      userNodesOnDisk().filter((node) => node.id !== 'my-note'),
      savedUserNodes,
      'the user’s nodes, unchanged',
    );
    assert.equal(
      byId(onDisk, 'my-device')?.port,
      String(userEmulator.port),
      'the user’s device keeps its port',
    );
    assert.equal(
      byId(onDisk, 'onenet-demo-device')?.port,
      emulatorPort,
      'the demo device follows the emulator',
    );
    assert.equal(
      readCredentialsFile(userDir, DEMO_SECRET)['my-device']?.key,
      userDevice.key,
      'the user’s key',
    );
    savedUserNodes = userNodesOnDisk();
  });

  it('--reset: puts the examples back and keeps the user’s tab, nodes and key', async () => {
    const { demo, emulatorPort } = await run(['--reset']);
    const output = demo.output();
    assert.match(
      output,
      /\[demo\] replaced the example flows with the shipped ones \(7 tabs, \d+ other nodes\)/,
    );
    assert.match(output, /\[demo\] kept your own 1 tab and 3 other nodes \(1 of them on example tabs\)/);
    await stop();

    const onDisk = readFlowsFile(userDir);
    assert.deepEqual(userNodesOnDisk(), savedUserNodes, 'the user’s nodes, unchanged');
    const examples = mergeExamples(SHIPPED, target(emulatorPort)).map(withoutCredentials);
    for (const node of examples) assert.deepEqual(byId(onDisk, node.id), node, `example node ${node.id}`);
    assert.equal(onDisk.length, examples.length + savedUserNodes.length, 'nothing else in the flows');

    const credentials = readCredentialsFile(userDir, DEMO_SECRET);
    assert.equal(credentials['my-device']?.key, userDevice.key, 'the user’s key');
    const demoDevice = JSON.parse(readFileSync(join(userDir, 'demo-device.json'), 'utf8')) as { key: string };
    assert.equal(credentials['onenet-demo-device']?.key, demoDevice.key, 'the demo key');
  });
});

function target(port: number) {
  return { host: '127.0.0.1', port, key: '' };
}

function urlOf(output: string): string {
  const match = /Node-RED with the OneNET nodes: +(http:\/\/\S+)/.exec(output);
  assert.ok(match, output);
  return match[1];
}
