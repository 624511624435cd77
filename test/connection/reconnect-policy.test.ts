import assert from 'node:assert/strict';
import { KICKS_BEFORE_SLOW_DOWN, ReconnectPolicy } from '../../src/connection/reconnect-policy';

const SETTINGS = {
  initialDelayMs: 1000,
  maxDelayMs: 10_000,
  authFailedDelayMs: 60_000,
  kickedDelayMs: 30_000,
  kickWindowMs: 2000,
};

/** A policy whose jitter draws are fixed, so nominal delays can be read back exactly. */
function policyWith(random: number): ReconnectPolicy {
  return new ReconnectPolicy(SETTINGS, () => random);
}

describe('connection / ReconnectPolicy', () => {
  it('doubles the delay per failed attempt and stops at maxDelayMs', () => {
    const policy = policyWith(1); // jitter at its top: the nominal delay itself
    const delays = Array.from({ length: 7 }, () => policy.nextDelay('failed'));
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('jitters each delay within 50..100 % of the nominal one', () => {
    assert.equal(policyWith(0).nextDelay('failed'), 500);
    assert.equal(policyWith(0.5).nextDelay('failed'), 750);
    const spread = new Set(
      Array.from({ length: 50 }, () => new ReconnectPolicy(SETTINGS).nextDelay('failed')),
    );
    assert.ok(
      spread.size > 10,
      'random draws give different delays, so devices do not reconnect in lock-step',
    );
    for (const value of spread) assert.ok(value >= 500 && value <= 1000, `delay ${value} out of range`);
  });

  it('starts again from the initial delay after a session that lasted', () => {
    const policy = policyWith(1);
    for (let i = 0; i < 5; i++) policy.nextDelay('failed');
    assert.equal(policy.nextDelay('dropped'), 1000);
    assert.equal(policy.nextDelay('failed'), 2000);
  });

  it('waits authFailedDelayMs after refused credentials, doubling up to 10x', () => {
    const policy = policyWith(1);
    const delays = Array.from({ length: 6 }, () => policy.nextDelay('auth-failed'));
    assert.deepEqual(delays, [60_000, 120_000, 240_000, 480_000, 600_000, 600_000]);
    policy.loggedIn();
    assert.equal(policy.nextDelay('auth-failed'), 60_000, 'a good login resets the auth backoff');
  });

  it('backs off normally on one or two short sessions and uses kickedDelayMs from the third in a row', () => {
    const policy = policyWith(1);
    assert.equal(KICKS_BEFORE_SLOW_DOWN, 3);
    assert.equal(policy.nextDelay('kicked'), 1000);
    assert.equal(policy.nextDelay('kicked'), 2000);
    assert.equal(policy.kickedByTwin, false, 'two drops right after login are a flapping link');
    assert.equal(policy.nextDelay('kicked'), 30_000);
    assert.equal(policy.kickedByTwin, true);
    assert.equal(policy.nextDelay('kicked'), 60_000);
    assert.equal(policy.consecutiveKicks, 4);
    for (let i = 0; i < 10; i++) policy.nextDelay('kicked');
    assert.equal(policy.nextDelay('kicked'), 1_200_000, 'capped at 40x kickedDelayMs: 20 min nominal');
    policy.nextDelay('dropped');
    assert.equal(policy.consecutiveKicks, 0, 'a session that lasted ends the kick streak');
  });

  it('with a twin that logs in 1 s after every kick, logs in at most 10 times in 10 minutes', () => {
    // Every one of our sessions but the first ends about 1 s after login; the worst case of the
    // jitter (its lowest draw) gives the most logins.
    const policy = policyWith(0);
    let t = 0;
    let logins = 1;
    t += 60_000; // the first session lasted a minute, then the twin appeared
    t += policy.nextDelay('dropped');
    while (t < 10 * 60_000) {
      logins++;
      t += 1000; // kicked again 1 s after this login
      t += policy.nextDelay('kicked');
    }
    assert.ok(logins <= 10, `${logins} logins`);
    let longest = 0;
    for (let i = 0; i < 20; i++) longest = policy.nextDelay('kicked');
    assert.ok(longest >= 10 * 60_000, `the wait grows to at least 10 minutes (${longest} ms)`);
  });

  it('reset() forgets failures, kicks and auth refusals', () => {
    const policy = policyWith(1);
    policy.nextDelay('failed');
    policy.nextDelay('failed');
    policy.nextDelay('kicked');
    policy.nextDelay('auth-failed');
    policy.reset();
    assert.equal(policy.nextDelay('failed'), 1000);
    assert.equal(policy.nextDelay('auth-failed'), 60_000);
    assert.equal(policy.consecutiveKicks, 0);
  });
});
