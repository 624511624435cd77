import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What the editor should show, read from the message catalogues and help files of the installed
 * package, so the tests check that the editor shows what we ship rather than a copy of it.
 */

export const FLOW_NODE_TYPES = [
  'onenet-property-post',
  'onenet-event-post',
  'onenet-command-in',
  'onenet-command-reply',
] as const;

export const ICONS: Record<(typeof FLOW_NODE_TYPES)[number], string> = {
  'onenet-property-post': 'onenet-post.svg',
  'onenet-event-post': 'onenet-event.svg',
  'onenet-command-in': 'onenet-command.svg',
  'onenet-command-reply': 'onenet-reply.svg',
};

export type Lang = 'en-US' | 'zh-CN';

/** A message from nodes/locales/<lang>/<type>.json, by its key below the type, e.g. 'label.device'. */
export function message(packageDir: string, lang: Lang, type: string, key: string): string {
  const catalog = JSON.parse(
    readFileSync(join(packageDir, 'nodes', 'locales', lang, `${type}.json`), 'utf8'),
  ) as Record<string, unknown>;
  let value: unknown = catalog[type];
  for (const part of key.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
  if (typeof value !== 'string') throw new Error(`no message ${lang} ${type}.${key}`);
  return value;
}

/** The plain text of the first paragraph of a node's help, as the help sidebar renders it. */
export function helpIntro(packageDir: string, lang: Lang, type: string): string {
  const html = readFileSync(join(packageDir, 'nodes', 'locales', lang, `${type}.html`), 'utf8');
  const paragraph = /<p>([\s\S]*?)<\/p>/.exec(html);
  if (!paragraph) throw new Error(`no paragraph in the ${lang} help of ${type}`);
  return paragraph[1]!
    .replace(/<[^>]+>/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

export const CHINESE = /[\u4e00-\u9fff]/;
