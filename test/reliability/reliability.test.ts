import { badInput } from './bad-input';
import { brokerRestarts } from './broker-restarts';
import { printAll } from './figures';
import { kicked } from './kicked';
import { redeploys } from './redeploys';
import { secrets } from './secrets';
import { shortTokens } from './short-tokens';
import { wrongKey } from './wrong-key';

/**
 * Issue 7: a gateway on a flaky link for months. One suite, in this order, because the last scenario
 * checks everything the others left behind for secrets. Each scenario prints its figures; all of
 * them are printed again at the end (RELIABILITY.md lists them).
 */
describe('reliability under faults, load and bad input (issue 7)', function () {
  after(printAll);
  brokerRestarts();
  shortTokens();
  kicked();
  wrongKey();
  redeploys();
  badInput();
  secrets();
});
