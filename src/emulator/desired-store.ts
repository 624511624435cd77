import type { DesiredDeleteParams, DesiredEntry } from '../protocol';

/**
 * The desired values (期望值) the platform keeps per device, with their versions
 * (onenet-next.md §Q4.1, onenet-protocol.md §3.1 items 4–5): the first set of a property gives
 * version 1, every further set one more; a delete forgets the value, so the next set starts at 1
 * again. A delete that names a version clears the value only while that version is the latest; one
 * without a version clears it whatever it is.
 *
 * setDesired() (emulator.ts) is the platform side: values the product's thing model refuses are
 * refused before anything is stored (with the model's code, like setProperty); an online device gets
 * them at once as an ordinary property set ("当设备在线时和「设置属性」功能一致"), an offline one by its
 * desired get after login. The values stay stored after that push until the device deletes them:
 * whether the real platform clears them on a successful set_reply is not documented (§Q4.2
 * UNCONFIRMED), and a device that asks after its next login must cope with finding them.
 */
export class DesiredStore {
  private readonly byDevice = new Map<string, Map<string, DesiredEntry>>();

  /** Stores the values; returns the version each now has. */
  set(deviceKey: string, values: Record<string, unknown>): Record<string, number> {
    let entries = this.byDevice.get(deviceKey);
    if (!entries) {
      entries = new Map();
      this.byDevice.set(deviceKey, entries);
    }
    const versions: Record<string, number> = {};
    for (const [identifier, value] of Object.entries(values)) {
      const version = (entries.get(identifier)?.version ?? 0) + 1;
      entries.set(identifier, { value, version });
      versions[identifier] = version;
    }
    return versions;
  }

  /** The get reply's data: the asked identifiers that have a desired value, the others omitted. */
  get(deviceKey: string, identifiers: readonly string[]): Record<string, DesiredEntry> {
    const entries = this.byDevice.get(deviceKey);
    const data: Record<string, DesiredEntry> = {};
    if (!entries) return data;
    for (const identifier of identifiers) {
      const entry = entries.get(identifier);
      if (entry) data[identifier] = { value: entry.value, version: entry.version };
    }
    return data;
  }

  /** Applies a delete; returns the identifiers it cleared and those it kept (a newer version). */
  delete(deviceKey: string, params: DesiredDeleteParams): { cleared: string[]; kept: string[] } {
    const entries = this.byDevice.get(deviceKey);
    const result = { cleared: [] as string[], kept: [] as string[] };
    for (const [identifier, { version }] of Object.entries(params)) {
      const entry = entries?.get(identifier);
      if (!entry) continue;
      if (version !== undefined && version !== entry.version) {
        result.kept.push(identifier);
        continue;
      }
      entries!.delete(identifier);
      result.cleared.push(identifier);
    }
    if (entries?.size === 0) this.byDevice.delete(deviceKey);
    return result;
  }

  /** Every desired value of the device, copied. */
  valuesOf(deviceKey: string): Record<string, DesiredEntry> {
    const entries = this.byDevice.get(deviceKey);
    return entries ? Object.fromEntries([...entries].map(([id, entry]) => [id, { ...entry }])) : {};
  }
}
