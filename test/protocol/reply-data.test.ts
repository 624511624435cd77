import assert from 'node:assert/strict';
import { replyDataError } from '../../src/protocol/reply-data';

describe('replyDataError', () => {
  it('accepts {identifier: value} for property get and service replies', () => {
    assert.equal(replyDataError('property-get', { temperature: 21.5, mode: 'auto' }), undefined);
    assert.equal(replyDataError('service-invoke', { accepted: true, detail: { at: 1 } }), undefined);
  });

  it('accepts a service reply without output and a property set reply without data', () => {
    assert.equal(replyDataError('service-invoke', undefined), undefined);
    assert.equal(replyDataError('property-set', undefined), undefined);
  });

  it('refuses data on a property set reply', () => {
    assert.match(String(replyDataError('property-set', { a: 1 })), /carries no data/);
  });

  it('refuses a property get reply without data or with a non-object', () => {
    assert.match(String(replyDataError('property-get', undefined)), /needs data/);
    assert.match(
      String(replyDataError('property-get', ['temperature'])),
      /must be an object of \{identifier: value\}, not array/,
    );
    assert.match(String(replyDataError('property-get', 21)), /not number/);
  });

  it('names the bad identifier or value', () => {
    assert.match(String(replyDataError('property-get', { 'a b': 1 })), /identifier "a b"/);
    assert.match(String(replyDataError('service-invoke', { ok: undefined })), /data\.ok is undefined/);
    assert.match(
      String(replyDataError('service-invoke', { n: Number.POSITIVE_INFINITY })),
      /data\.n is Infinity/,
    );
  });
});
