/**
 * The parts of the browser's globals that the tests read inside the page (page.evaluate). The test
 * build has no DOM library, so each file that evaluates in the page declares what it touches from here.
 */

export interface EditorNode {
  id: string;
  type: string;
  z?: string;
  name?: string;
  valid?: boolean;
  users?: unknown[];
  [property: string]: unknown;
}

export interface EditorRed {
  nodes: {
    eachNode(visit: (node: EditorNode) => void): void;
    eachConfig(visit: (node: EditorNode) => void): void;
    eachWorkspace(visit: (tab: { id: string; label: string }) => void): void;
  };
  workspaces: { active(): string | undefined };
  actions: { invoke(name: string, ...args: unknown[]): void };
  settings: { version: string };
  sidebar: { help: { show(type: string): void } };
}

/** The little of the editor's jQuery the tests use: an input's popover, which Node-RED keeps in its data. */
export interface JQueryLike {
  (selector: string): {
    data(key: 'tooltip'): { element?: { filter(selector: string): { text(): string } } } | undefined;
  };
}

/** A node as the tests see it from outside the page. */
export interface NodeSummary {
  id: string;
  type: string;
  z?: string;
  valid: boolean;
}
