import assert from 'node:assert/strict';
import {
  deviceNameError,
  identifierError,
  isValidMessageId,
  productIdError,
  valueError,
} from '../../src/protocol';

describe('protocol/validation', () => {
  it('accepts OneNET product ids old and new, refuses others', () => {
    for (const ok of ['Ck2AF9QD2K', 'hnPoEN71v5', '123123']) assert.equal(productIdError(ok), undefined, ok);
    for (const bad of ['', 'a b', 'p/1', 'x'.repeat(33), 42]) assert.ok(productIdError(bad), String(bad));
  });
  it('accepts device names that fit a topic level and a token res', () => {
    for (const ok of ['test', 'dev-1', 'dev_1.2', 'a:b@c']) assert.equal(deviceNameError(ok), undefined, ok);
    for (const bad of ['', 'a/b', 'a+b', 'a#', 'a b', 'a&b', 'a=b', '设备'])
      assert.ok(deviceNameError(bad), bad);
  });
  it('accepts thing-model identifiers, refuses what would break a topic', () => {
    for (const ok of [
      'temp',
      'Power_1',
      '_x',
      'x'.repeat(50),
      '$OneNET_LBS',
      '$OneNET_LBS_WIFI',
      '$SyncGetFile',
    ])
      assert.equal(identifierError(ok), undefined, ok);
    for (const bad of ['', 'a-b', 'a/b', 'a b', 'x'.repeat(51), 7, '$', '$$x', 'a$b', `$${'x'.repeat(51)}`])
      assert.ok(identifierError(bad), String(bad));
  });
  it('checks message ids: numeric strings of at most 13 digits', () => {
    assert.ok(isValidMessageId('1'));
    assert.ok(isValidMessageId('1234567890123'));
    for (const bad of ['', '12345678901234', '1.5', '-1', ' 1', 12])
      assert.equal(isValidMessageId(bad), false, String(bad));
  });
  it('allows only JSON-safe data and says where the problem is', () => {
    assert.equal(valueError({ a: [1, 'x', true, { b: 2.5 }] }, 'payload'), undefined);
    assert.equal(
      valueError({ a: [1, { b: NaN }] }, 'payload'),
      'payload.a[1].b is NaN, which is not a finite number',
    );
    assert.match(valueError(Symbol('s'), 'v') ?? '', /symbol/);
    assert.match(valueError(10n, 'v') ?? '', /bigint/);
    assert.match(valueError(new Map(), 'v') ?? '', /Map, not plain data/);
    assert.equal(valueError(Object.create(null), 'v'), undefined);
  });
});
