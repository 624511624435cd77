import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/packed-install';

/**
 * Screenshots the browser tests keep for people to look at (not committed: test-artifacts/ is
 * ignored by git). One folder per Node-RED major version, since both generations run the suite.
 */

function artifactDir(nodeRedVersion: string): string {
  return join(REPO_ROOT, 'test-artifacts', 'browser', `node-red-${nodeRedVersion.split('.')[0]}`);
}

/** Generations whose folder this process has emptied already. */
const emptied = new Set<string>();

/**
 * Empties this generation's folder, so what is there afterwards all comes from one run. Once per
 * process: every test file starts its own editor session, and a later file must not delete the
 * screenshots of the files before it.
 */
export function resetArtifacts(nodeRedVersion: string): void {
  const dir = artifactDir(nodeRedVersion);
  if (emptied.has(dir)) return;
  emptied.add(dir);
  rmSync(dir, { recursive: true, force: true });
}

export function artifactPath(nodeRedVersion: string, name: string): string {
  const dir = artifactDir(nodeRedVersion);
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name.replace(/[^\w.-]+/g, '-')}.png`);
}
