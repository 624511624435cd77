import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { NODES_DIR, interpolate, resolveKey, type Language } from './catalogs';

/**
 * Runs a node set's editor script the way the Node-RED editor does at load time, with a stub `RED`
 * that records registerType calls and translates with the real catalogues, and judges property
 * values the way the editor's validateNodeProperty does.
 */

/** A validator as Node-RED calls it: `this` is the node, (value, opt) the arguments. */
export type Validator = (this: unknown, value: unknown, opt?: unknown) => unknown;

export interface PropertyDefinition {
  value?: unknown;
  required?: boolean;
  type?: string;
  label?: string;
  validate?: Validator;
}

type NodeMethod = (this: unknown, ...args: unknown[]) => unknown;

export interface NodeDefinition {
  category?: unknown;
  color?: unknown;
  icon?: unknown;
  inputs?: unknown;
  outputs?: unknown;
  defaults?: Record<string, PropertyDefinition>;
  credentials?: Record<string, PropertyDefinition>;
  label?: unknown;
  paletteLabel?: unknown;
  inputLabels?: unknown;
  outputLabels?: unknown;
}

export interface Registration {
  type: string;
  definition: NodeDefinition;
}

export interface LoadedEditor {
  registrations: Registration[];
  /** Keys the script asked RED._ for that have no text in `language`. */
  missingKeys: string[];
}

export function readNodeHtml(set: string): string {
  return readFileSync(path.join(NODES_DIR, `${set}.html`), 'utf8');
}

/** The same pattern node-red-dev uses to find the editor scripts in a node's .html. */
export function javascriptBlocks(html: string): string[] {
  const pattern = /<script.+?type=['"]text\/javascript['"].*?>([\S\s]*?)<\/script>/gi;
  return [...html.matchAll(pattern)].map((match) => match[1] ?? '');
}

export function templateOf(html: string, type: string): string | undefined {
  const pattern = new RegExp(
    `<script type="text/html" data-template-name="${type}">([\\S\\s]*?)</script>`,
    'i',
  );
  return pattern.exec(html)?.[1];
}

export function loadEditor(set: string, language: Language): LoadedEditor {
  const registrations: Registration[] = [];
  const missingKeys: string[] = [];
  const RED = {
    _: (key: string, substitutions?: Record<string, unknown>): string => {
      const text = resolveKey(language, set, key);
      if (text === undefined) {
        missingKeys.push(key);
        return key;
      }
      return interpolate(text, substitutions);
    },
    nodes: {
      registerType: (type: string, definition: NodeDefinition): void => {
        registrations.push({ type, definition });
      },
    },
  };
  // Only RED exists: a script that touches the DOM or jQuery at load time fails here, as it would
  // break the palette when the editor loads it before any dialog is open.
  const context = vm.createContext({ RED });
  for (const code of javascriptBlocks(readNodeHtml(set))) {
    vm.runInContext(code, context, { filename: `${set}.html` });
  }
  return { registrations, missingKeys };
}

/** A node as the editor holds it: the defaults' values, plus the node's i18n function. */
export function nodeWith(
  definition: NodeDefinition,
  translate: (key: string) => string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const node: Record<string, unknown> = { _: translate };
  for (const [property, spec] of Object.entries(definition.defaults ?? {})) node[property] = spec.value;
  return Object.assign(node, overrides);
}

export function callNodeMethod(method: unknown, self: unknown, ...args: unknown[]): unknown {
  if (typeof method !== 'function') return method;
  return (method as NodeMethod).call(self, ...args);
}

/**
 * What the editor concludes about one property value (after Node-RED's validateNodeProperty):
 * true when valid, a string when the validator explains the problem, false when it is just invalid.
 */
export function editorVerdict(
  definitions: Record<string, PropertyDefinition>,
  property: string,
  value: unknown,
  node: unknown,
): true | false | string {
  const spec = definitions[property];
  if (spec === undefined) throw new Error(`no definition for ${property}`);
  if (spec.required === true && value === '') return false;
  if (spec.validate !== undefined) {
    if (spec.required === false && value === '') return true;
    const result = spec.validate.call(node, value, {});
    // Node-RED only passes a message through from a two-argument validator; otherwise it coerces.
    if (spec.validate.length === 2 && typeof result === 'string') return result;
    return Boolean(result);
  }
  if (spec.type !== undefined && (value === '' || value === undefined || value === '_ADD_')) {
    return spec.required === false;
  }
  return true;
}
