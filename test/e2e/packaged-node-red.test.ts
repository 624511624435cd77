import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OneNetEmulator } from '../../src/emulator';
import { mergeExamples, readExampleFlows } from '../../src/demo/example-flows';
import { deployFlows, getFlows, startNodeRed, type NodeRedProcess } from '../../src/demo/node-red-process';
import { DEMO_ACTIONS } from '../../src/demo/platform-driver';
import { freePort, installPackedPackage, waitFor, type PackedInstall } from '../support/packed-install';

/**
 * End to end, as a user would run it: `npm pack` this package, `npm install` the tarball into a fresh
 * Node-RED user directory, start a real `node-red` process, deploy the shipped examples through the
 * admin HTTP API against the emulator, and check what the emulator saw.
 */

const device = {
  productId: 'demoProduct',
  deviceName: 'demo-device-1',
  key: randomBytes(32).toString('base64'),
};

describe('end to end: packed package in a real Node-RED', function () {
  this.timeout(180_000);
  let install: PackedInstall;
  let emulator: OneNetEmulator;
  let nodeRed: NodeRedProcess | undefined;
  const nodeRedLog: string[] = [];

  before(async () => {
    install = installPackedPackage(
      `module.exports = { uiHost: '127.0.0.1', telemetry: { enabled: false }, credentialSecret: 'e2e' };\n`,
    );
    emulator = await OneNetEmulator.start({ devices: [device] });
    nodeRed = await startNodeRed(install.userDir, await freePort(), (line) => nodeRedLog.push(line));
  });

  after(async () => {
    await nodeRed?.stop();
    await emulator?.close();
    rmSync(install.workDir, { recursive: true, force: true });
  });

  it('ships only what a user needs', () => {
    const installed = install.packageDir;
    const top = readdirSync(installed).sort();
    for (const expected of ['examples', 'nodes', 'package.json', 'README.md', 'README.zh-CN.md', 'LICENSE']) {
      assert.ok(top.includes(expected), `missing ${expected}`);
    }
    for (const unexpected of ['src', 'test', '.ci', 'tsconfig.json', 'bench'])
      assert.ok(!top.includes(unexpected), `ships ${unexpected}`);
    const nodes = readdirSync(join(installed, 'nodes'));
    for (const type of [
      'onenet-device',
      'onenet-property-post',
      'onenet-event-post',
      'onenet-command-in',
      'onenet-command-reply',
    ]) {
      assert.ok(nodes.includes(`${type}.js`) && nodes.includes(`${type}.html`), type);
    }
  });

  it('loads all six node types into Node-RED without errors', async () => {
    const response = await fetch(`${nodeRed!.url}/nodes`, { headers: { Accept: 'application/json' } });
    const sets = (await response.json()) as Array<{
      module: string;
      types: string[];
      enabled: boolean;
      err?: string;
    }>;
    const ours = sets.filter((set) => set.module === '@iot-flows/node-red-onenet');
    assert.deepEqual(
      ours.map((set) => set.err ?? null),
      [null, null, null, null, null, null],
      JSON.stringify(ours),
    );
    assert.deepEqual(ours.flatMap((set) => set.types).sort(), [
      'onenet-command-in',
      'onenet-command-reply',
      'onenet-device',
      'onenet-event-post',
      'onenet-product',
      'onenet-property-post',
    ]);
  });

  it('runs the shipped examples against the emulator: posts arrive, commands are answered', async () => {
    const examplesDir = join(install.packageDir, 'examples');
    const flows = mergeExamples(readExampleFlows(examplesDir), {
      host: emulator.host,
      port: emulator.port,
      key: device.key,
    });
    await deployFlows(nodeRed!.url, flows);

    await waitFor(
      'the device to log in',
      () => (emulator.connections().length > 0 ? true : undefined),
      20_000,
    );
    assert.equal(emulator.connections().length, 1, 'one shared connection for every example');
    const post = await waitFor(
      'a property post',
      () => emulator.uplinks(device).find((u) => u.kind === 'property-post'),
      20_000,
    );
    assert.match(post.id ?? '', /^\d{1,13}$/);
    const event = await waitFor(
      'an event post',
      () => emulator.uplinks(device).find((u) => u.kind === 'event-post'),
      20_000,
    );
    assert.ok(event);

    for (const action of DEMO_ACTIONS) {
      const reply = await action.run(emulator, device);
      assert.equal(reply.code, 200, `${action.describe}: ${JSON.stringify(reply)}`);
    }
  });

  it('keeps the key out of the exported flows and the log', async () => {
    const exported = JSON.stringify(await getFlows(nodeRed!.url));
    assert.ok(exported.includes('onenet-device'));
    assert.ok(!exported.includes(device.key), 'key in exported flows');
    assert.ok(!nodeRedLog.join('\n').includes(device.key), 'key in the Node-RED log');
    assert.ok(!/sign=/.test(nodeRedLog.join('\n')), 'token in the Node-RED log');
  });
});
