/**
 * A command-line value as an error message may show it. Real values are short words, numbers and
 * dates; anything long or oddly shaped may be a key typed in the wrong place, so it is described
 * instead of quoted: the key must never reach the terminal or a log.
 */
export function shown(value: string): string {
  return /^[\w.:+-]{1,32}$/.test(value) ? `"${value}"` : `(a value of ${value.length} characters, not shown)`;
}
