/**
 * A child process for the crash test: appends values to a journal as fast as it can, a few at a
 * time, and prints the seqs of each append once it resolved (reported durable). The parent kills it
 * with SIGKILL at a moment of its choosing.
 */
import { Journal } from '../../src/store';

async function main(): Promise<void> {
  const dir = process.argv[2]!;
  const journal = await Journal.open({
    dir,
    maxBytes: 1024 * 1024 * 1024,
    maxAgeMs: 365 * 86_400_000,
    segmentBytes: 64 * 1024,
  });
  process.stdout.write('ready\n');
  let n = 0;
  for (;;) {
    const batch = Array.from({ length: 1 + (n % 7) }, () => ({
      device: 'P/d',
      kind: 'property' as const,
      identifier: `p${n % 5}`,
      value: { n: n++, pad: 'x'.repeat(n % 50) },
      time: Date.now(),
    }));
    const stored = await Promise.all([journal.append(batch), journal.append(batch.slice(0, 1))]);
    process.stdout.write(
      `durable ${stored
        .flat()
        .map((value) => value.seq)
        .join(' ')}\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(String(err) + '\n');
  process.exit(1);
});
