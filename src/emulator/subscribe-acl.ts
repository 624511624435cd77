/**
 * Topic filter rules for a device's SUBSCRIBE (shared/onenet-protocol.md §1.3, §1.5):
 * only its own `$sys/{pid}/{device}/...` topics, wildcards only from the 4th level, at most
 * 8 levels and 512 bytes, characters `[A-Za-z0-9/+#_-]` after the device prefix.
 */

const MAX_FILTER_BYTES = 512;
const MAX_FILTER_LEVELS = 8;
const SUFFIX_CHARACTERS = /^[A-Za-z0-9/+#_-]+$/;

/** Why `filter` is refused for this device (SUBACK 0x80), or undefined when it may be granted. */
export function filterRefusal(productId: string, deviceName: string, filter: string): string | undefined {
  if (Buffer.byteLength(filter) > MAX_FILTER_BYTES) return `filter is longer than ${MAX_FILTER_BYTES} bytes`;
  const levels = filter.split('/');
  if (levels.length > MAX_FILTER_LEVELS) return `filter has more than ${MAX_FILTER_LEVELS} levels`;
  if (levels[0] !== '$sys') return 'only $sys/{pid}/{device}/... topics may be subscribed';
  if (levels[1] !== productId || levels[2] !== deviceName) {
    return levels.slice(1, 3).some((level) => level === '+' || level === '#')
      ? 'wildcards are allowed only from the 4th topic level'
      : "not this device's topic";
  }
  const suffix = levels.slice(3).join('/');
  if (levels.length < 4 || suffix.length === 0) return 'filter names no topic below the device';
  if (!SUFFIX_CHARACTERS.test(suffix)) return 'filter has characters other than letters, digits, / + # _ -';
  return undefined;
}

/** MQTT filter matching for a concrete topic (no `$` special-casing: filters here are own `$sys` ones). */
export function filterMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true;
  const filterLevels = filter.split('/');
  const topicLevels = topic.split('/');
  for (let i = 0; i < filterLevels.length; i++) {
    const level = filterLevels[i];
    if (level === '#') return true;
    if (i >= topicLevels.length) return false;
    if (level !== '+' && level !== topicLevels[i]) return false;
  }
  return filterLevels.length === topicLevels.length;
}
