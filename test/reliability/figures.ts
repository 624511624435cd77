/**
 * The numbers each scenario observed. They are printed as the scenario ends (one line, so a run's
 * output can be copied into RELIABILITY.md) and once more together when the suite ends.
 */

export type Figures = Record<string, number | string>;

const recorded = new Map<string, Figures>();

export function report(scenario: string, figures: Figures): void {
  recorded.set(scenario, figures);
  console.log(`      figures | ${scenario} | ${format(figures)}`);
}

export function printAll(): void {
  if (recorded.size === 0) return;
  console.log('\n  Reliability figures');
  for (const [scenario, figures] of recorded) console.log(`    ${scenario}: ${format(figures)}`);
}

function format(figures: Figures): string {
  return Object.entries(figures)
    .map(([name, value]) => `${name}=${value}`)
    .join(', ');
}
