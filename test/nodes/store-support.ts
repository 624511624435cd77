import { helper, type TestNode } from './support';

/**
 * Shared by the store-*.test.ts suites: the runtime's user directory (where the store lives), the
 * status and log texts of the store, and the log calls of a node that may be gone by now.
 */

/** The runtime settings' userDir for the next load (the helper types leave settings() out). */
export function useUserDir(dir: string): void {
  (helper as unknown as { settings(settings: object): void }).settings({ userDir: dir });
}

const NS = '@iot-flows/node-red-onenet/onenet-device:onenet-device.';

/** Status and log texts as the helper shows them: i18n keys, untranslated. */
export const STORE_TEXT = {
  storeFailed: `${NS}status.store-failed`,
  stored: `${NS}status.stored`,
  backfilling: `${NS}status.backfilling`,
  failedStore: `${NS}status.failed.store`,
  busy: `${NS}status.busy`,
  logUnusable: 'log.store-unusable',
  logUsable: 'log.store-usable',
} as const;

/**
 * The arguments of every call of `method` on `target`, oldest first. Unlike support.callHistory it
 * takes the node itself, so it can be read after the node was removed by a deploy.
 */
export function callsOf(target: TestNode, method: 'warn' | 'error' | 'log'): unknown[][] {
  const spy = (
    target as unknown as Record<string, { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> }>
  )[method];
  return spy
    .getCalls()
    .filter((call) => call.thisValue === target)
    .map((call) => call.args);
}

/** The texts of `target`'s `method` calls with the message `key` (the helper logs the i18n key). */
export function logged(target: TestNode, method: 'warn' | 'error' | 'log', key: string): string[] {
  return callsOf(target, method)
    .map((args) => String(args[0]))
    .filter((text) => text.endsWith(key));
}
