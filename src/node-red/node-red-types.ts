/**
 * The small part of Node-RED's runtime API these nodes use, typed by hand because @types/node-red is
 * not a dependency. Only what the runtime really provides (Node-RED 4.x `RED` object and Node class)
 * is declared here; anything else stays out so the compiler catches accidental use.
 */

/** A message travelling through a flow. Properties other than these are the user's business. */
export interface NodeMessage {
  _msgid?: string;
  payload?: unknown;
  topic?: string;
  [property: string]: unknown;
}

/** The object a node's constructor receives: its flow-file properties. */
export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
}

export type StatusFill = 'red' | 'green' | 'yellow' | 'blue' | 'grey';
export type StatusShape = 'ring' | 'dot';

/** An empty object clears the status. */
export interface NodeStatus {
  fill?: StatusFill;
  shape?: StatusShape;
  text?: string;
}

export type SendFunction = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type DoneFunction = (err?: Error) => void;
export type InputHandler = (msg: NodeMessage, send: SendFunction, done: DoneFunction) => void;
export type CloseHandler = (removed: boolean, done: () => void) => void;

/** A runtime node instance (the `this` of a node constructor after RED.nodes.createNode). */
export interface Node {
  readonly id: string;
  readonly type: string;
  readonly z?: string;
  name?: string;
  /** Filled by the runtime from the credentials store for types registered with `credentials`. */
  credentials?: Record<string, string | undefined>;
  on(event: 'input', handler: InputHandler): void;
  on(event: 'close', handler: CloseHandler): void;
  status(status: NodeStatus): void;
  send: SendFunction;
  warn(message: unknown): void;
  error(message: unknown, msg?: NodeMessage): void;
  log(message: unknown): void;
  debug(message: unknown): void;
}

export interface CredentialDefinition {
  type: 'text' | 'password';
}

export interface NodeTypeOptions {
  credentials?: Record<string, CredentialDefinition>;
}

/**
 * A node constructor as Node-RED calls it: `new Constructor(def)` with `this` being a fresh Node.
 * The runtime does not use the return value.
 */
export type NodeConstructor<TDef extends NodeDef> = (this: Node, def: TDef) => void;

/** An express handler of the admin API, reduced to what our routes use. */
export type AdminHandler = (
  req: { body?: unknown },
  res: { status(code: number): { json(body: unknown): void }; json(body: unknown): void },
  next: () => void,
) => void;

export interface NodeAPI {
  nodes: {
    createNode(node: Node, def: NodeDef): void;
    // The runtime accepts any NodeDef subtype; the generic keeps each constructor's own def type.
    registerType<TDef extends NodeDef>(
      type: string,
      constructor: NodeConstructor<TDef>,
      options?: NodeTypeOptions,
    ): void;
    getNode(id: string): Node | null;
    /** Every node of the deployed flows, as its flow-file definition (config nodes included). */
    eachNode?(callback: (def: NodeDef) => void): void;
  };
  log: {
    warn(message: unknown): void;
    debug(message: unknown): void;
  };
  /** The runtime's event bus ('flows:started' after every deploy has started its flows). */
  events?: {
    on(event: string, listener: (...args: unknown[]) => void): unknown;
  };
  util: {
    /** A deep copy of a message, as core nodes make when one msg goes to several places. */
    cloneMessage<T>(msg: T): T;
  };
  /** The editor's admin HTTP API (an express app); absent in some test runtimes. */
  httpAdmin?: {
    post(path: string, ...handlers: AdminHandler[]): void;
  };
  auth?: {
    needsPermission(permission: string): AdminHandler;
  };
  /** i18n lookup: `namespace:key`, with `__name__` placeholders filled from `substitutions`. */
  _(key: string, substitutions?: Record<string, string | number>): string;
}
