#!/usr/bin/env node
'use strict';
/**
 * Flow Library readiness: runs `node-red-dev validate` - the scorecard flows.nodered.org shows for a
 * package - on this package, prints one line per check and exits non-zero unless every check passes.
 *
 * Two checks compare against the public catalogue at catalogue.nodered.org: P08 (a package of the same
 * name in another scope) and N01 (node type names used by another package). node-red-dev aborts the
 * whole run when that host cannot be reached, so where it cannot, those two run against an empty
 * catalogue and are reported as NOT CHECKED, with the reason; every other check must still pass.
 *
 * Usage: node scripts/flow-library-check.js <directory where node-red-dev is installed> [package directory]
 *   e.g. npm install --prefix .node-red-dev --no-save node-red-dev@0.1.6
 *        node scripts/flow-library-check.js .node-red-dev
 */
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const { URL } = require('node:url');

const CATALOGUE_URL = 'https://catalogue.nodered.org/catalogue.json';
const CATALOGUE_CHECKS = ['P08', 'N01'];
// Every check node-red-dev 0.1.6 scores (P02 is disabled in node-red-dev itself).
const EXPECTED_CHECKS = ['P01', 'P03', 'P04', 'P05', 'P06', 'P07', 'P08', 'N01', 'N02', 'D01', 'D02', 'D03'];

async function main() {
  const toolDir = process.argv[2];
  if (!toolDir) throw new Error('usage: flow-library-check.js <directory where node-red-dev is installed>');
  const packageRoot = resolve(process.argv[3] ?? join(__dirname, '..'));
  const nodeRedDev = resolve(toolDir, 'node_modules', 'node-red-dev');
  const version = JSON.parse(readFileSync(join(nodeRedDev, 'package.json'), 'utf8')).version;
  console.log(`node-red-dev ${version} validate ${packageRoot}`);

  const catalogue = useEmptyCatalogueWhenUnreachable(nodeRedDev);
  const outputDir = mkdtempSync(join(tmpdir(), 'node-red-dev-'));
  const scorecardFile = join(outputDir, 'scorecard.json');
  try {
    const Validate = require(join(nodeRedDev, 'src', 'commands', 'validate.js'));
    await Validate.run(['--path', packageRoot, '--output', scorecardFile, '--embed', 'true']);
    return report(JSON.parse(readFileSync(scorecardFile, 'utf8')), catalogue.unreachableBecause());
  } finally {
    rmSync(outputDir, { recursive: true, force: true });
  }
}

/** node-red-dev's checks share one axios module: answer its catalogue request when the host is out of reach. */
function useEmptyCatalogueWhenUnreachable(nodeRedDev) {
  const axios = require(require.resolve('axios', { paths: [nodeRedDev] }));
  const get = axios.get.bind(axios);
  let reason;
  axios.get = async (url, config) => {
    if (url !== CATALOGUE_URL) return get(url, config);
    try {
      return await get(url, { timeout: 15_000, ...config });
    } catch (error) {
      reason = `${new URL(CATALOGUE_URL).host} is unreachable (${error.code || error.message})`;
      return { data: { modules: [] } };
    }
  };
  return { unreachableBecause: () => reason };
}

function report(scorecard, catalogueUnreachable) {
  let failed = 0;
  for (const check of EXPECTED_CHECKS) {
    const result = scorecard[check];
    let verdict;
    if (catalogueUnreachable && CATALOGUE_CHECKS.includes(check)) {
      verdict = `NOT CHECKED  ${catalogueUnreachable}`;
    } else if (!result) {
      verdict = 'FAIL         node-red-dev did not score it';
      failed++;
    } else if (result.test !== true) {
      verdict = `FAIL         ${JSON.stringify(result)}`;
      failed++;
    } else {
      verdict = 'PASS';
    }
    console.log(`  ${check}  ${verdict}`);
  }
  if (catalogueUnreachable) {
    console.log(
      `  (node-red-dev's ✅ for ${CATALOGUE_CHECKS.join(' and ')} above came from an empty catalogue)`,
    );
  }
  console.log(failed === 0 ? 'Flow Library checks: all passed' : `Flow Library checks: ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
