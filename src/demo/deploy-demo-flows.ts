import { join } from 'node:path';
import type { EmulatorDevice } from '../emulator';
import {
  exampleNodeIds,
  mergeExamples,
  readExampleFlows,
  type DemoTarget,
  type FlowNode,
} from './example-flows';
import { deployFlows, getFlows } from './node-red-process';
import { demoGatewayDevices } from './demo-device';
import { planRepoint } from './repoint';
import { planReset } from './reset';

/**
 * Brings the demo's flows into shape through Node-RED's admin API, touching only the nodes the
 * examples shipped: the first start deploys the examples, later starts re-point the demo devices at
 * this run's emulator, and --reset replaces the examples. Returns what it did, for the terminal.
 */

export interface DeployRequest {
  url: string;
  packageRoot: string;
  device: EmulatorDevice;
  /** The demo key was made on this run. */
  keyIsNew: boolean;
  target: DemoTarget;
  reset: boolean;
}

export async function deployDemoFlows(request: DeployRequest): Promise<string[]> {
  const shipped = readExampleFlows(join(request.packageRoot, 'examples'));
  const examples = mergeExamples(shipped, request.target);
  const existing: FlowNode[] = await getFlows(request.url);

  if (existing.length === 0) {
    await deployFlows(request.url, examples);
    return ['deployed the example flows'];
  }
  if (request.reset) {
    const plan = planReset(existing, examples, exampleNodeIds(shipped));
    // `nodes`: the user's nodes are sent unchanged, so they keep running (and keep their credentials).
    await deployFlows(request.url, plan.flows, 'nodes');
    return plan.report;
  }
  const plan = planRepoint(
    existing,
    exampleNodeIds(shipped),
    [request.device, ...demoGatewayDevices(request.device.key)],
    request.target,
    request.keyIsNew,
  );
  if (plan.changed) await deployFlows(request.url, plan.flows, 'nodes');
  return plan.report;
}
