import assert from 'node:assert/strict';
import { etAfter, formatEt, MAX_ET, parseExpires, parseTtl } from '../../src/token-cli/expiry';

/** The date forms `--expires` takes, against instants worked out by hand. */

function et(text: string): number | string {
  const parsed = parseExpires(text);
  return parsed.ok ? parsed.value : parsed.reason;
}

describe('onenet-token expiry', () => {
  it('reads a bare date as midnight UTC', () => {
    assert.equal(et('2030-01-01'), 1893456000);
    assert.equal(et('2028-02-29'), 1835395200);
  });

  it('reads a date-time in the zone it names', () => {
    // 2999-01-01 00:00 +08:00 is the et of the LuatOS vectors (onenet-protocol.md §2.5).
    assert.equal(et('2999-01-01T00:00:00+08:00'), 32472115200);
    assert.equal(et('2999-01-01T00:00+0800'), 32472115200);
    assert.equal(et('2998-12-31 16:00:00Z'), 32472115200);
    assert.equal(et('2018-09-18T07:25:23z'), 1537255523);
    assert.equal(et('2030-01-01T00:00-05:30'), 1893456000 + 5.5 * 3600);
  });

  it('reads digits as unix seconds', () => {
    assert.equal(et('1537255523'), 1537255523);
  });

  it('refuses days, times and zones that do not exist, and milliseconds', () => {
    assert.match(String(et('2029-02-29')), /no such day/);
    assert.match(String(et('2030-04-31')), /no such day/);
    assert.match(String(et('2030-01-01T24:00Z')), /no such day, time or zone/);
    assert.match(String(et('2030-01-01T12:60Z')), /no such day, time or zone/);
    assert.match(String(et('2030-01-01T12:00+24:00')), /no such day, time or zone/);
    assert.match(String(et('2030-01-01T12:00')), /add the time zone/);
    assert.match(String(et('0')), /not after 1970-01-01/);
    assert.match(String(et(String(MAX_ET + 1))), /not milliseconds/);
    assert.match(String(et('30/01/2030')), /use YYYY-MM-DD/);
  });

  it('takes a positive --ttl and refuses one past year 9999', () => {
    assert.deepEqual(parseTtl('60'), { ok: true, value: 60 });
    assert.equal(parseTtl('0').ok, false);
    assert.equal(parseTtl('-5').ok, false);
    assert.equal(parseTtl('1.5').ok, false);
    assert.deepEqual(etAfter(1000, 60), { ok: true, value: 1060 });
    assert.equal(etAfter(MAX_ET, 1).ok, false);
  });

  it('prints et as an instant in UTC', () => {
    assert.equal(formatEt(32472115200), '2998-12-31T16:00:00Z');
  });
});
