import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { REPO_ROOT } from '../support/packed-install';

/**
 * What `npm pack` would publish, as the Flow Library and every user receive it: the compiled nodes
 * with their editor files, catalogues, help, icons and examples; no sources, tests, source maps,
 * tarballs or private keys; and every file a shipped module require()s is shipped too.
 */

interface PackageJson {
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  'node-red': { nodes: Record<string, string> };
}

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const LANGUAGES = ['en-US', 'zh-CN'];

describe('package contents (npm pack --dry-run)', function () {
  this.timeout(60_000);
  let shipped: Set<string>;
  const packageJson = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
  const nodeFiles = Object.values(packageJson['node-red'].nodes).map((file) => posix.normalize(file));

  before(() => {
    // --ignore-scripts: the build has run already (pretest); `prepare` would only repeat it.
    const output = execFileSync(NPM, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [pack] = JSON.parse(output) as Array<{ files: Array<{ path: string }> }>;
    shipped = new Set(pack!.files.map((file) => file.path));
  });

  const missing = (paths: string[]) => paths.filter((path) => !shipped.has(path));

  it('ships every node set: compiled runtime, editor html, and catalogue and help in every language', () => {
    const expected = nodeFiles.flatMap((file) => {
      const dir = posix.dirname(file);
      const name = posix.basename(file, '.js');
      return [
        file,
        posix.join(dir, `${name}.html`),
        ...LANGUAGES.flatMap((lang) => [
          posix.join(dir, 'locales', lang, `${name}.json`),
          posix.join(dir, 'locales', lang, `${name}.html`),
        ]),
      ];
    });
    assert.deepEqual(missing(expected), []);
  });

  it('ships the icon every node names, and every example flow', () => {
    const icons = nodeFiles.flatMap((file) => {
      const html = readFileSync(join(REPO_ROOT, file.replace(/\.js$/, '.html')), 'utf8');
      return [...html.matchAll(/icon:\s*'([^']+\.svg)'/g)].map((match) =>
        posix.join(posix.dirname(file), 'icons', match[1]!),
      );
    });
    assert.ok(icons.length >= nodeFiles.length, `found icons: ${icons.join()}`);
    assert.deepEqual(missing(icons), []);
    const examples = [...shipped].filter((path) => /^examples\/.+\.json$/.test(path));
    assert.ok(examples.length > 0, 'examples are shipped');
    for (const example of examples) {
      assert.doesNotThrow(() => JSON.parse(readFileSync(join(REPO_ROOT, example), 'utf8')), example);
    }
  });

  it('ships every entry point package.json names (main, types, bin)', () => {
    const entryPoints = [packageJson.main, packageJson.types, ...Object.values(packageJson.bin ?? {})]
      .filter((path): path is string => typeof path === 'string')
      .map((path) => posix.normalize(path));
    assert.deepEqual(missing(entryPoints), []);
  });

  it('ships every module that a shipped module requires', () => {
    const unresolved: string[] = [];
    for (const file of [...shipped].filter((path) => path.endsWith('.js'))) {
      const source = readFileSync(join(REPO_ROOT, file), 'utf8');
      for (const match of source.matchAll(/require\(["'](\.{1,2}\/[^"']+)["']\)/g)) {
        const target = posix.join(posix.dirname(file), match[1]!);
        const candidates = [target, `${target}.js`, `${target}.json`, posix.join(target, 'index.js')];
        if (!candidates.some((candidate) => shipped.has(candidate)))
          unresolved.push(`${file} -> ${match[1]}`);
      }
    }
    assert.deepEqual(unresolved, []);
  });

  it('ships no sources, tests, source maps, build leftovers or local settings', () => {
    const unwanted = [...shipped].filter(
      (path) =>
        /^(src|test|\.build|bench|scripts|\.ci|test-artifacts|node_modules)\//.test(path) ||
        (/\.ts$/.test(path) && !/\.d\.ts$/.test(path)) ||
        /\.(map|tgz|log)$/.test(path) ||
        /(^|\/)(\.env[^/]*|\.npmrc|tsconfig[^/]*\.json|\.node-red-demo)$/.test(path) ||
        path.startsWith('nodes/demo/'),
    );
    assert.deepEqual(unwanted, []);
  });

  it('ships no private key and no source-map reference', () => {
    const offending = [...shipped].filter((path) => {
      const text = readFileSync(join(REPO_ROOT, path), 'utf8');
      return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) || /sourceMappingURL=/.test(text);
    });
    assert.deepEqual(offending, []);
  });
});
