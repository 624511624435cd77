/**
 * Types for the JavaScript packages the node tests use that ship no declarations: the part of
 * node-red-node-test-helper the tests call, and the core Node-RED modules they load directly.
 */

declare module 'node-red-node-test-helper' {
  export type FlowNode = { id: string; type: string; [property: string]: unknown };
  export type Credentials = Record<string, Record<string, string>>;
  /** A node set's module function, as Node-RED calls it with its RED API. */
  export type NodeModule = (RED: never) => void;

  /** A runtime node as the tests see it: the helper's spies emit `call:<method>` events on it. */
  export interface TestNode {
    id: string;
    type: string;
    receive(msg: Record<string, unknown>): void;
    on(event: string, listener: (...args: never[]) => void): void;
    credentials?: Record<string, string>;
  }

  export interface NodeTestHelper {
    init(runtimePath: string, userSettings?: Record<string, unknown>): void;
    load(nodes: NodeModule[], flow: FlowNode[], credentials?: Credentials): Promise<void>;
    unload(): Promise<void>;
    setFlows(flow: FlowNode[], type: 'full' | 'flows' | 'nodes', credentials?: Credentials): Promise<void>;
    getNode(id: string): TestNode | null;
    /** supertest on the admin API of the loaded flows. */
    request(): {
      post(path: string): { send(body: unknown): PromiseLike<{ status: number; body: unknown }> };
    };
    /** The spy on the runtime log: every log line, with its level and text. */
    log(): { getCalls(): Array<{ args: unknown[] }> };
    /** The runtime's nodes module (internal); the admin API's GET /flows returns what its getFlows() returns. */
    _redNodes: {
      getFlows(): { flows: FlowNode[] };
      getCredentialDefinition(type: string): Record<string, { type: string }> | undefined;
    };
  }

  const helper: NodeTestHelper;
  export default helper;
}

/** Node-RED's runtime flows API: what the editor's GET /flows and GET /credentials/:type/:id return. */
declare module '@node-red/runtime/lib/api/flows' {
  export function init(runtime: unknown): void;
  export function getFlows(
    opts: Record<string, unknown>,
  ): Promise<{ flows: Array<{ id: string; type: string }> }>;
  export function getNodeCredentials(opts: { type: string; id: string }): Promise<Record<string, unknown>>;
}

declare module '@node-red/nodes/core/common/20-inject.js' {
  const register: (RED: never) => void;
  export default register;
}
declare module '@node-red/nodes/core/common/21-debug.js' {
  const register: (RED: never) => void;
  export default register;
}
declare module '@node-red/nodes/core/common/90-comment.js' {
  const register: (RED: never) => void;
  export default register;
}
declare module '@node-red/nodes/core/function/10-function.js' {
  const register: (RED: never) => void;
  export default register;
}
declare module '@node-red/nodes/core/network/05-tls.js' {
  const register: (RED: never) => void;
  export default register;
}
