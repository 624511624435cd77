import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeRedPackageDir, NODE_RED_HOME_VARIABLE } from '../../src/demo/node-red-process';
import { helper } from '../nodes/support';
import { REPO_ROOT } from '../support/packed-install';
import { satisfies } from './version-range';

/**
 * The suites run on Node-RED 4.1 (Node.js 20) by default and on Node-RED 5 (Node.js 22 or 24) when
 * ONENET_NODE_RED names a Node-RED 5 install. These checks make sure that switch really reaches the
 * node tests, that the Node.js running them is one the chosen Node-RED supports (so a green run "on
 * Node-RED 5" cannot quietly be a run on Node-RED 4), and that our package.json declares support for
 * the pair under test.
 */

interface PackageJson {
  version: string;
  engines: { node: string };
  'node-red'?: { version?: string };
}

function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

describe('the Node-RED under test', () => {
  const nodeRed = readPackageJson(nodeRedPackageDir());
  const ours = readPackageJson(REPO_ROOT);

  it(`is the one ${NODE_RED_HOME_VARIABLE} selects, in the node test helper too`, () => {
    // The helper keeps the runtime it was initialised with in a private field; no public API tells.
    const runtime = (helper as unknown as { _RED: { version(): string } })._RED;
    assert.ok(
      runtime.version().startsWith(nodeRed.version),
      `helper runs ${runtime.version()}, expected ${nodeRed.version}`,
    );
  });

  it('runs on a Node.js version that this Node-RED supports', () => {
    assert.ok(
      satisfies(process.versions.node, nodeRed.engines.node),
      `Node-RED ${nodeRed.version} needs Node.js ${nodeRed.engines.node}, this is ${process.versions.node}`,
    );
  });

  it('is a Node-RED and Node.js that our package.json declares support for', () => {
    const declaredNodeRed = ours['node-red']?.version ?? '';
    assert.ok(satisfies(nodeRed.version, declaredNodeRed), `node-red.version "${declaredNodeRed}"`);
    assert.ok(satisfies(process.versions.node, ours.engines.node), `engines.node "${ours.engines.node}"`);
  });
});

describe('version ranges as package.json files state them', () => {
  it('reads minimums, upper bounds, caret ranges and alternatives', () => {
    assert.equal(satisfies('22.9.0', '>=22.9'), true);
    assert.equal(satisfies('22.23.3', '>=22.9'), true);
    assert.equal(satisfies('22.8.5', '>=22.9'), false);
    assert.equal(satisfies('20.20.2', '>=18.5'), true);
    assert.equal(satisfies('5.0.7', '>=4.1.0 <6'), true);
    assert.equal(satisfies('6.0.0', '>=4.1.0 <6'), false);
    assert.equal(satisfies('4.1.15', '^4.1.0 || ^5.0.0'), true);
    assert.equal(satisfies('5.0.7', '^4.1.0 || ^5.0.0'), true);
    assert.equal(satisfies('4.0.9', '^4.1.0 || ^5.0.0'), false);
    assert.equal(satisfies('6.0.0', '^4.1.0 || ^5.0.0'), false);
    assert.equal(satisfies('0.3.9', '^0.3.6'), true);
    assert.equal(satisfies('0.4.0', '^0.3.6'), false);
  });

  it('refuses forms it does not know rather than guessing', () => {
    assert.throws(() => satisfies('22.0.0', '~22.0'), /unexpected range part/);
    assert.throws(() => satisfies('22.0.0', '22.x'), /unexpected/);
  });
});
