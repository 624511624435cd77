import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The node sets Node-RED loads and their message catalogues, read the way the editor reads them:
 * `<set>.html` beside each `<set>.js` listed in package.json, catalogues under nodes/locales/<lang>/.
 * Paths are relative to the repository root, which is mocha's working directory.
 */

export const ROOT = process.cwd();
export const NODES_DIR = path.join(ROOT, 'nodes');
export const ICONS_DIR = path.join(ROOT, 'icons');
export const MODULE_NAME = '@iot-flows/node-red-onenet';
export const LANGUAGES = ['en-US', 'zh-CN'] as const;
export type Language = (typeof LANGUAGES)[number];

interface PackageJson {
  name: string;
  'node-red': { nodes: Record<string, string> };
}

export function readPackageJson(): PackageJson {
  return JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson;
}

/** Node set names, which are also the node type each set registers. */
export function nodeSets(): string[] {
  return Object.keys(readPackageJson()['node-red'].nodes);
}

export type Catalog = Record<string, unknown>;

export function readCatalog(language: Language, set: string): Catalog {
  const file = path.join(NODES_DIR, 'locales', language, `${set}.json`);
  return JSON.parse(readFileSync(file, 'utf8')) as Catalog;
}

/** Node-RED's own "node-red" namespace (core nodes' messages), for keys such as node-red:common.label.name. */
function readCoreCatalog(language: Language): Catalog {
  const coreNodes = path.dirname(require.resolve('@node-red/nodes/package.json'));
  return JSON.parse(
    readFileSync(path.join(coreNodes, 'locales', language, 'messages.json'), 'utf8'),
  ) as Catalog;
}

/** Every leaf of a catalogue as dotted key → text. */
export function flatten(catalog: Catalog, prefix = ''): Map<string, unknown> {
  const leaves = new Map<string, unknown>();
  for (const [key, value] of Object.entries(catalog)) {
    const dotted = prefix === '' ? key : `${prefix}.${key}`;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [leafKey, leafValue] of flatten(value as Catalog, dotted)) leaves.set(leafKey, leafValue);
    } else {
      leaves.set(dotted, value);
    }
  }
  return leaves;
}

const catalogCache = new Map<string, Map<string, unknown>>();

function leavesOf(language: Language, namespace: string): Map<string, unknown> | undefined {
  const cacheKey = `${language}|${namespace}`;
  let leaves = catalogCache.get(cacheKey);
  if (leaves === undefined) {
    if (namespace === 'node-red') {
      leaves = flatten(readCoreCatalog(language));
    } else if (namespace.startsWith(`${MODULE_NAME}/`)) {
      leaves = flatten(readCatalog(language, namespace.slice(MODULE_NAME.length + 1)));
    } else {
      return undefined;
    }
    catalogCache.set(cacheKey, leaves);
  }
  return leaves;
}

/**
 * Looks a key up as the editor would for a node of `ownSet`: "ns:key" in that namespace, a bare key in
 * the set's own namespace. Returns undefined when there is no text for it.
 */
export function resolveKey(language: Language, ownSet: string, key: string): string | undefined {
  const colon = key.indexOf(':');
  const namespace = colon === -1 ? `${MODULE_NAME}/${ownSet}` : key.slice(0, colon);
  const bareKey = colon === -1 ? key : key.slice(colon + 1);
  const text = leavesOf(language, namespace)?.get(bareKey);
  return typeof text === 'string' ? text : undefined;
}

/** i18next's `__name__` interpolation, as Node-RED configures it. */
export function interpolate(text: string, substitutions?: Record<string, unknown>): string {
  return text.replace(/__([A-Za-z0-9_]+)__/g, (whole, name: string) =>
    substitutions && name in substitutions ? String(substitutions[name]) : whole,
  );
}

export function placeholdersOf(text: string): string[] {
  return [...text.matchAll(/__([A-Za-z0-9_]+)__/g)].map((match) => match[1] ?? '').sort();
}
