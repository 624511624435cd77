import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Reads the shipped example flows and merges them into one deployable flow for the demo.
 * Every example carries its own `onenet-device` config node (and the demo `onenet-product` it
 * belongs to), so each can be imported alone; the ones naming the same device are folded into one,
 * because OneNET allows a single login per device and one config node per device is what a user
 * would build by hand, and the product, the same in every file, is kept once.
 */

export interface FlowNode {
  id: string;
  type: string;
  [property: string]: unknown;
}

export interface DemoTarget {
  host: string;
  port: number;
  key: string;
}

export function readExampleFlows(examplesDir: string): FlowNode[][] {
  return readdirSync(examplesDir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as FlowNode[]);
}

/**
 * The ids of every node the examples ship, folded devices included: what `npm start` deployed and so
 * the only nodes it may change or replace later. Every other node in the flows is the user's.
 */
export function exampleNodeIds(examples: FlowNode[][]): Set<string> {
  return new Set(examples.flat().map((node) => node.id));
}

function deviceIdentity(node: FlowNode): string {
  return `${String(node.productId)}/${String(node.deviceName)}`;
}

/** Merges examples, one config node per device, pointed at the emulator with the demo key. */
export function mergeExamples(examples: FlowNode[][], target: DemoTarget): FlowNode[] {
  const keptDeviceByIdentity = new Map<string, string>();
  const renamedDevice = new Map<string, string>();
  const merged: FlowNode[] = [];
  for (const node of examples.flat()) {
    if (node.type !== 'onenet-device') continue;
    const kept = keptDeviceByIdentity.get(deviceIdentity(node));
    if (kept) {
      renamedDevice.set(node.id, kept);
      continue;
    }
    keptDeviceByIdentity.set(deviceIdentity(node), node.id);
    merged.push(pointAtEmulator(node, target));
  }
  // Other config nodes every example carries alike (the demo product) are kept once.
  const placed = new Set<string>();
  for (const node of examples.flat()) {
    if (node.type === 'onenet-device' || placed.has(node.id)) continue;
    placed.add(node.id);
    const device = typeof node.device === 'string' ? renamedDevice.get(node.device) : undefined;
    merged.push(device ? { ...node, device } : node);
  }
  return merged;
}

export function pointAtEmulator(node: FlowNode, target: DemoTarget): FlowNode {
  return {
    ...node,
    host: target.host,
    port: target.port,
    tls: false,
    tlsConfig: '',
    credentials: { key: target.key },
  };
}
