/**
 * The few npm range forms package.json files here use ("^4.1.0 || ^5.0.0", ">=22.9", ">=4.1.0 <6"),
 * enough to check declared support against the versions a test actually runs on. Any other form
 * throws, so a new form is noticed rather than misread.
 */

type Version = [number, number, number];

function parseVersion(text: string): Version {
  const match = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+].*)?$/.exec(text.trim());
  if (!match) throw new Error(`unexpected version "${text}"`);
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function satisfiesComparator(version: Version, comparator: string): boolean {
  const match = /^(>=|<|\^)\s*(.+)$/.exec(comparator);
  if (!match) throw new Error(`unexpected range part "${comparator}"`);
  const bound = parseVersion(match[2]!);
  switch (match[1]) {
    case '>=':
      return compare(version, bound) >= 0;
    case '<':
      return compare(version, bound) < 0;
    default: {
      // ^1.2.3 allows changes that keep the first non-zero part; ^0.2.3 keeps 0.2.
      const upper: Version = bound[0] > 0 ? [bound[0] + 1, 0, 0] : [0, bound[1] + 1, 0];
      return compare(version, bound) >= 0 && compare(version, upper) < 0;
    }
  }
}

export function satisfies(version: string, range: string): boolean {
  const parsed = parseVersion(version);
  return range
    .split('||')
    .map((alternative) => alternative.trim().split(/\s+(?=[<>^])/))
    .some((comparators) => comparators.every((comparator) => satisfiesComparator(parsed, comparator.trim())));
}
