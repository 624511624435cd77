import { pointAtEmulator, type DemoTarget, type FlowNode } from './example-flows';

/**
 * A later `npm start` keeps the user's flows and only points the demo's own device config nodes at
 * this run's emulator (its port may differ from the last run's). "The demo's own" means the node id
 * the examples shipped: a device the user made, even one on 127.0.0.1, is never touched.
 */

export interface DemoIdentity {
  productId: string;
  deviceName: string;
}

export interface RepointPlan {
  /** The flows to deploy; equal to the input when `changed` is false. */
  flows: FlowNode[];
  changed: boolean;
  /** One line per thing done or deliberately not done, for the terminal. */
  report: string[];
}

function label(node: FlowNode): string {
  return typeof node.name === 'string' && node.name !== '' ? node.name : node.id;
}

function list(nodes: FlowNode[]): string {
  return nodes.map(label).join(', ');
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function pointsAt(node: FlowNode, target: DemoTarget): boolean {
  return (
    node.host === target.host &&
    String(node.port) === String(target.port) &&
    node.tls === false &&
    (node.tlsConfig ?? '') === ''
  );
}

/**
 * @param keyIsNew the demo key was made on this run, so the one stored with the flows is stale and
 *   the demo devices need the new one even when host and port already match.
 */
export function planRepoint(
  existing: FlowNode[],
  exampleIds: ReadonlySet<string>,
  /** The demo devices: the demo device, and the gateway and field devices of example 07. */
  identities: DemoIdentity | readonly DemoIdentity[],
  target: DemoTarget,
  keyIsNew: boolean,
): RepointPlan {
  const demo = Array.isArray(identities) ? identities : [identities as DemoIdentity];
  const isDemo = (node: FlowNode): boolean =>
    demo.some((identity) => node.productId === identity.productId && node.deviceName === identity.deviceName);
  const repointed: FlowNode[] = [];
  const alreadyThere: FlowNode[] = [];
  const leftAlone: string[] = [];
  const flows = existing.map((node) => {
    if (node.type !== 'onenet-device' || !exampleIds.has(node.id)) return node;
    // The user may have turned the demo device into one of their own: then it is theirs.
    if (!isDemo(node)) {
      leftAlone.push(
        `left ${label(node)} alone: it names ${String(node.productId)}/${String(node.deviceName)} now, not the demo device`,
      );
      return node;
    }
    if (pointsAt(node, target) && !keyIsNew) {
      alreadyThere.push(node);
      return node;
    }
    repointed.push(node);
    return pointAtEmulator(node, target);
  });

  const where = `the emulator on port ${target.port}`;
  const details: string[] = [];
  if (repointed.length > 0)
    details.push(
      `re-pointed ${plural(repointed.length, 'demo device')} (${list(repointed)}) at ${where}` +
        (keyIsNew ? ', with a new demo key' : ''),
    );
  if (alreadyThere.length > 0)
    details.push(
      `${plural(alreadyThere.length, 'demo device')} (${list(alreadyThere)}) already ` +
        `${alreadyThere.length === 1 ? 'points' : 'point'} at ${where}`,
    );
  details.push(...leftAlone);
  if (details.length === 0)
    details.push('your flows have no demo device; `npm start -- --reset` brings the examples back');
  const report = [`kept your flows; ${details[0]}`, ...details.slice(1)];
  if (repointed.length === 0) report.push('changed nothing');
  return { flows, changed: repointed.length > 0, report };
}
