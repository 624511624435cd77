/** Medians, percentiles and the plain tables every benchmark prints. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Nearest-rank percentile of already sorted values (p in 0..100). */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summariseLatencies(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    p50: percentileOfSorted(sorted, 50),
    p90: percentileOfSorted(sorted, 90),
    p99: percentileOfSorted(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** ours / baseline, or NaN when the baseline is 0. */
export function ratio(ours: number, baseline: number): number {
  return baseline === 0 ? Number.NaN : ours / baseline;
}

export function round(value: number, digits = 0): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export type Cell = string | number;

/** A plain monospace table: numbers right-aligned, text left-aligned. */
export function formatTable(
  title: string,
  header: readonly string[],
  rows: readonly (readonly Cell[])[],
): string {
  const text = rows.map((row) => row.map(formatCell));
  const widths = header.map((name, column) =>
    Math.max(name.length, ...text.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[], numeric: readonly boolean[]): string =>
    cells
      .map((cell, column) =>
        numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  const out = [
    title,
    line(
      header,
      header.map(() => false),
    ),
    widths.map((w) => '-'.repeat(w)).join('  '),
  ];
  rows.forEach((row, i) =>
    out.push(
      line(
        text[i]!,
        row.map((cell) => typeof cell === 'number'),
      ),
    ),
  );
  return out.join('\n');
}

function formatCell(cell: Cell): string {
  if (typeof cell === 'string') return cell;
  if (!Number.isFinite(cell)) return '-';
  if (Number.isInteger(cell)) return cell.toLocaleString('en-US');
  const digits = Math.abs(cell) >= 100 ? 0 : Math.abs(cell) >= 10 ? 1 : 2;
  return cell.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** "≥ 0.9: met" style verdicts, in one place so every table words them the same. */
export function verdict(met: boolean): string {
  return met ? 'met' : 'NOT met';
}
