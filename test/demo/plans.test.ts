import assert from 'node:assert/strict';
import { join } from 'node:path';
import { exampleNodeIds, mergeExamples, readExampleFlows, type FlowNode } from '../../src/demo/example-flows';
import { demoGatewayDevices } from '../../src/demo/demo-device';
import { planRepoint } from '../../src/demo/repoint';
import { planReset } from '../../src/demo/reset';
import { REPO_ROOT } from '../support/packed-install';

/** What a later `npm start` and `--reset` decide to deploy, on the shipped examples plus user nodes. */

const SHIPPED = readExampleFlows(join(REPO_ROOT, 'examples'));
const IDS = exampleNodeIds(SHIPPED);
/** The demo device and the gateway and field devices of example 07. */
const IDENTITY = [{ productId: 'demoProduct', deviceName: 'demo-device-1' }, ...demoGatewayDevices('k')];
const DEMO_DEVICE_IDS = new Set([
  'onenet-demo-device',
  'onenet-demo-gateway',
  'onenet-demo-field-1',
  'onenet-demo-field-2',
  'onenet-demo-field-3',
]);
const DEMO_DEVICES_TEXT =
  '5 demo devices (demo device, demo gateway, field device 1, field device 2, field device 3)';
const LAST_RUN = { host: '127.0.0.1', port: 1883, key: 'k' };
const THIS_RUN = { host: '127.0.0.1', port: 40001, key: 'k' };

/** Flows as GET /flows returns them: no credentials. */
function deployedExamples(): FlowNode[] {
  return mergeExamples(SHIPPED, LAST_RUN).map((node) => {
    const copy = { ...node };
    delete copy.credentials;
    return copy;
  });
}

const usersDevice: FlowNode = {
  id: 'u-dev',
  type: 'onenet-device',
  name: 'mine',
  productId: 'p',
  deviceName: 'd',
  host: '127.0.0.1',
  port: '1884',
  tls: false,
  tlsConfig: '',
};
const usersTab: FlowNode = { id: 'u-tab', type: 'tab', label: 'mine' };
const usersNode: FlowNode = { id: 'u-in', type: 'onenet-command-in', z: 'u-tab', device: 'u-dev', wires: [] };

describe('demo: planning a later start', () => {
  it('re-points the demo device only, never a user device on 127.0.0.1', () => {
    const existing = [...deployedExamples(), usersTab, usersDevice, usersNode];
    const plan = planRepoint(existing, IDS, IDENTITY, THIS_RUN, false);
    assert.equal(plan.changed, true);
    assert.deepEqual(plan.report, [
      `kept your flows; re-pointed ${DEMO_DEVICES_TEXT} at the emulator on port 40001`,
    ]);
    plan.flows.forEach((node, i) => {
      if (DEMO_DEVICE_IDS.has(node.id)) {
        assert.equal(node.port, 40001);
        assert.deepEqual(node.credentials, { key: 'k' });
      } else assert.equal(node, existing[i], node.id); // the very same object: not even copied
    });
  });

  it('changes nothing when the demo device already points at this emulator', () => {
    const existing = [...deployedExamples(), usersDevice];
    const plan = planRepoint(existing, IDS, IDENTITY, LAST_RUN, false);
    assert.equal(plan.changed, false);
    assert.deepEqual(plan.flows, existing);
    assert.deepEqual(plan.report, [
      `kept your flows; ${DEMO_DEVICES_TEXT} already point at the emulator on port 1883`,
      'changed nothing',
    ]);
  });

  it('sends a new demo key even when host and port match', () => {
    const plan = planRepoint(deployedExamples(), IDS, IDENTITY, LAST_RUN, true);
    assert.equal(plan.changed, true);
    assert.match(plan.report[0], /re-pointed 5 demo devices .* with a new demo key$/);
  });

  it('leaves the demo device alone once the user made it name another device', () => {
    const existing = deployedExamples().map((node) =>
      node.id === 'onenet-demo-device' ? { ...node, productId: 'real', host: '' } : node,
    );
    const plan = planRepoint(existing, IDS, IDENTITY, LAST_RUN, false);
    assert.equal(plan.changed, false);
    assert.deepEqual(plan.flows, existing);
    assert.ok(
      plan.report.some((line) => /left demo device alone: it names real\/demo-device-1 now/.test(line)),
      plan.report.join('\n'),
    );
  });

  it('says how to get the examples back when they are gone', () => {
    const plan = planRepoint([usersTab, usersDevice], IDS, IDENTITY, THIS_RUN, false);
    assert.equal(plan.changed, false);
    assert.match(plan.report[0], /no demo device; `npm start -- --reset` brings the examples back/);
  });
});

describe('demo: planning --reset', () => {
  it('replaces the examples by id and keeps every other node, in order, after them', () => {
    const edited = deployedExamples()
      .filter((node) => node.id !== 'ex02-tab' && node.z !== 'ex02-tab')
      .map((node) => (node.id === 'ex01-done' ? { ...node, name: 'edited' } : node));
    const note: FlowNode = { id: 'u-note', type: 'comment', z: 'ex01-tab' };
    const examples = mergeExamples(SHIPPED, THIS_RUN);
    const plan = planReset([...edited, usersTab, usersDevice, note, usersNode], examples, IDS);
    assert.deepEqual(plan.flows, [...examples, usersTab, usersDevice, note, usersNode]);
    assert.deepEqual(plan.report, [
      `replaced the example flows with the shipped ones (7 tabs, ${examples.length - 7} other nodes)`,
      'kept your own 1 tab and 3 other nodes (1 of them on example tabs)',
    ]);
  });
});
