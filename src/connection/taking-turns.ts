/**
 * Runs at most `limit` pieces of work at a time; the rest wait for their turn, first come first
 * served. A gateway binds and logs in its sub-devices this way (sub-devices.ts): with a thousand of
 * them, the first are logged in, and posting, after a few messages instead of after all of them.
 */
export class TakingTurns {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  run(work: () => Promise<void>): Promise<void> {
    return this.turn()
      .then(work)
      .finally(() => this.next());
  }

  private turn(): Promise<void> {
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** The finished work's turn goes to the next one waiting, or is given back. */
  private next(): void {
    const waiting = this.waiting.shift();
    if (waiting) waiting();
    else this.running--;
  }
}
