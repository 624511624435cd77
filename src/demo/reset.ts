import type { FlowNode } from './example-flows';

/**
 * `npm start -- --reset` puts the shipped examples back as they were: every node the examples
 * ship (by id) is replaced or restored, every other node is the user's and stays. Node-RED keeps the
 * credentials of every node that is still deployed, so the user's device keys survive too.
 */

export interface ResetPlan {
  flows: FlowNode[];
  report: string[];
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * @param examples the merged, emulator-pointed examples to deploy
 * @param exampleIds every id the examples ship, including device nodes folded away by the merge
 */
export function planReset(
  existing: FlowNode[],
  examples: FlowNode[],
  exampleIds: ReadonlySet<string>,
): ResetPlan {
  const kept = existing.filter((node) => !exampleIds.has(node.id));
  const exampleTabs = examples.filter((node) => node.type === 'tab').length;
  const keptTabs = kept.filter((node) => node.type === 'tab').length;
  const exampleTabIds = new Set(examples.filter((node) => node.type === 'tab').map((node) => node.id));
  // Nodes the user added to an example tab stay too: the tab comes back with the same id.
  const onExampleTabs = kept.filter((node) => typeof node.z === 'string' && exampleTabIds.has(node.z)).length;
  const report = [
    `replaced the example flows with the shipped ones (${plural(exampleTabs, 'tab')}, ` +
      `${plural(examples.length - exampleTabs, 'other node')})`,
    `kept your own ${plural(keptTabs, 'tab')} and ${plural(kept.length - keptTabs, 'other node')}` +
      (onExampleTabs > 0 ? ` (${onExampleTabs} of them on example tabs)` : ''),
  ];
  // Examples first: the order the first start deployed them in, so the tabs keep their places.
  return { flows: [...examples, ...kept], report };
}
