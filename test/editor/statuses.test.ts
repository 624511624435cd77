import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  LANGUAGES,
  NODES_DIR,
  ROOT,
  flatten,
  nodeSets,
  readCatalog,
  resolveKey,
  type Language,
} from './catalogs';

/**
 * The statuses a user reads about (the README's status table, the Status section of each node's help)
 * and the statuses the runtime shows (the `status.*` and `status.failed.*` texts of our catalogues plus the core
 * connecting / connected / disconnected) must be the same set, in both languages.
 */

const README: Record<Language, string> = { 'en-US': 'README.md', 'zh-CN': 'README.zh-CN.md' };
const STATUS_HEADING: Record<Language, RegExp> = { 'en-US': /^### Status$/m, 'zh-CN': /^### 节点状态$/m };
const HELP_STATUS_HEADING: Record<Language, string> = {
  'en-US': '<h3>Status</h3>',
  'zh-CN': '<h3>状态</h3>',
};
const CORE_STATES = ['connecting', 'connected', 'disconnected'];
const COLOUR: Record<Language, RegExp> = {
  'en-US': /^(yellow|green|red|grey)( \/ (yellow|green|red|grey))? (ring|dot)$/,
  'zh-CN': /^(黄色|绿色|红色|灰色)( \/ (黄色|绿色|红色|灰色))?(圆环|圆点)$/,
};
const COLOUR_IN_TEXT: Record<Language, RegExp> = {
  'en-US': /\b(yellow|green|red|grey) (ring|dot)\b/,
  'zh-CN': /(黄色|绿色|红色|灰色)(圆环|圆点)/,
};
/**
 * Catalogue statuses no node shows today. Each must stay unused in the runtime sources: once a node
 * paints it, the README and help have to document it.
 */
const NOT_SHOWN: Record<string, RegExp> = { sent: /'sent'/ };

interface CatalogueStatus {
  key: string;
  text: string;
  /** Matches a documented text: placeholders stand for any value; a reason may follow after a colon. */
  pattern: RegExp;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function catalogueStatuses(language: Language): CatalogueStatus[] {
  const statuses: CatalogueStatus[] = [];
  for (const set of nodeSets()) {
    for (const [key, text] of flatten(readCatalog(language, set))) {
      if (!/^[^.]+\.status\.(failed\.)?[^.]+$/.test(key) || typeof text !== 'string') continue;
      statuses.push({ key: key.split('.').pop() ?? key, text, pattern: patternOf(text) });
    }
  }
  for (const state of CORE_STATES) {
    const text = resolveKey(language, 'onenet-device', `node-red:common.status.${state}`);
    assert.ok(text, state);
    statuses.push({ key: state, text, pattern: patternOf(text) });
  }
  return statuses;
}

function patternOf(text: string): RegExp {
  const body = escapeRegExp(text).replace(/__\w+__/g, '.+');
  return new RegExp(`^${body}(?:[:：] ?.+)?$`);
}

/** A documented status text with its stand-ins ("N", "…") made into a sample value. */
function sample(documented: string): string {
  return documented
    .replace(/`/g, '')
    .replace(/\bN\b|…/g, '7')
    .trim();
}

function readmeRows(language: Language): Array<{ indicator: string; text: string }> {
  const readme = readFileSync(path.join(ROOT, README[language]), 'utf8');
  const start = readme.search(STATUS_HEADING[language]);
  assert.ok(start >= 0, `${README[language]} has a status section`);
  const section = readme.slice(start).split(/\n#{2,3} /)[0] ?? '';
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2) // header and separator
    .map((line) => line.split('|').map((cell) => cell.trim()));
  assert.ok(rows.length > 5, `${README[language]}: the status table has rows`);
  return rows.map((cells) => ({ indicator: cells[1] ?? '', text: cells[2] ?? '' }));
}

function helpStatusItems(language: Language, set: string): string[] {
  const help = readFileSync(path.join(NODES_DIR, 'locales', language, `${set}.html`), 'utf8');
  const start = help.indexOf(HELP_STATUS_HEADING[language]);
  if (start === -1) return [];
  const section = help.slice(start, help.indexOf('<h3>', start + 1));
  return [...section.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((match) => match[1] ?? '');
}

describe('documented statuses agree with the catalogues', () => {
  for (const language of LANGUAGES) {
    describe(language, () => {
      const statuses = catalogueStatuses(language);
      const matching = (documented: string) => statuses.filter((s) => s.pattern.test(sample(documented)));

      it(`lists in ${README[language]} only statuses the catalogues hold, each with its colour and shape`, () => {
        for (const row of readmeRows(language)) {
          assert.notDeepEqual(matching(row.text), [], `README status "${row.text}" is in no catalogue`);
          assert.match(row.indicator, COLOUR[language], `"${row.text}": indicator "${row.indicator}"`);
        }
      });

      it(`lists in ${README[language]} every status a node shows`, () => {
        const rows = readmeRows(language);
        for (const status of statuses) {
          if (NOT_SHOWN[status.key]) continue;
          assert.ok(
            rows.some((row) => status.pattern.test(sample(row.text))),
            `status "${status.text}" (${status.key}) is missing from the README table`,
          );
        }
      });

      it('names in the help only statuses the catalogues hold, each with its colour and shape', () => {
        for (const set of nodeSets()) {
          for (const item of helpStatusItems(language, set)) {
            const named = [...item.matchAll(/<i>([\s\S]*?)<\/i>/g)].map((match) => match[1] ?? '');
            if (named.length === 0) continue;
            for (const text of named) {
              assert.notDeepEqual(matching(text), [], `${set} help: "${text}" is in no catalogue`);
            }
            const beforeFirst = item.slice(0, item.indexOf('<i>'));
            assert.match(
              beforeFirst,
              COLOUR_IN_TEXT[language],
              `${set} help: "${item}" states colour and shape`,
            );
          }
        }
      });
    });
  }

  it('keeps the catalogue statuses that no node shows out of the runtime sources', () => {
    const sources = [
      ...readdirSync(path.join(ROOT, 'src', 'node-red')).map((file) => path.join('src', 'node-red', file)),
      ...readdirSync(path.join(ROOT, 'src'))
        .filter((file) => /^onenet-.*\.ts$/.test(file))
        .map((file) => path.join('src', file)),
    ].filter((file) => file.endsWith('.ts') && !file.endsWith('i18n.ts'));
    for (const [key, use] of Object.entries(NOT_SHOWN)) {
      for (const file of sources) {
        const source = readFileSync(path.join(ROOT, file), 'utf8');
        assert.doesNotMatch(source, use, `${file} shows status "${key}": document it in the README and help`);
      }
    }
  });
});
