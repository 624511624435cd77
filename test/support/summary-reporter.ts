import Mocha from 'mocha';

/**
 * Mocha's spec reporter, plus one plain closing line — "N passed, N failed, N skipped" — that any
 * log reader understands without knowing mocha's own summary format.
 */
class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats ?? { passes: 0, failures: 0, pending: 0 };
      // After the spec reporter's epilogue, which it prints on the same event.
      process.nextTick(() => console.log(`\n${passes} passed, ${failures} failed, ${pending} skipped`));
    });
  }
}

export = SpecWithSummary;
