import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/packed-install';
import type { LoadReport } from './load-package';

/**
 * Every Node.js line that `engines` names must load the node files and the emulator (DESIGN.md §2).
 * CI runs this on the lowest version of each line. The check runs in a fresh process on the Node.js
 * under test, without NODE_OPTIONS, so nothing this test runner loaded or was started with can hide
 * a module that fails to load.
 */

const CHILD = join(__dirname, 'load-package.js');
/** Turns off require() of ES modules, which is off by default on Node.js 22.9-22.11. */
const NO_REQUIRE_ESM = '--no-experimental-require-module';

function loadInChild(nodeFlags: string[]): Promise<LoadReport> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...nodeFlags, CHILD, REPO_ROOT],
      { env, timeout: 30_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as LoadReport);
      },
    );
  });
}

function declaredNodeTypes(): string[] {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    'node-red': { nodes: Record<string, string> };
  };
  return Object.keys(manifest['node-red'].nodes).sort();
}

function assertLoadedAndRan(report: LoadReport): void {
  assert.equal(report.node, process.version, 'the child ran on the Node.js under test');
  const types = declaredNodeTypes();
  assert.equal(types.length, 6);
  assert.deepEqual(
    report.nodeFiles,
    Object.fromEntries(types.map((type) => [type, 'function'])),
    'each node file exports the function Node-RED calls with RED',
  );
  assert.equal(report.connected, 'loadCheck01/load-check');
}

describe(`the built package on Node.js ${process.versions.node}`, function () {
  this.timeout(40_000);

  it('loads every node file and the emulator, which accepts a device', async () => {
    assertLoadedAndRan(await loadInChild([]));
  });

  it('needs no require() of an ES module, which Node.js 22.9-22.11 cannot do without a flag', async function () {
    // The flag exists on every line engines names today; a later Node.js may drop it.
    if (!process.allowedNodeEnvironmentFlags.has(NO_REQUIRE_ESM)) this.skip();
    assertLoadedAndRan(await loadInChild([NO_REQUIRE_ESM]));
  });
});
