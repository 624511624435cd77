import assert from 'node:assert/strict';
import { describeReplyCode, REPLY_CODES } from '../../src/protocol';

describe('protocol/reply-codes', () => {
  it('explains every listed code in English and Chinese', () => {
    for (const [code, info] of Object.entries(REPLY_CODES)) {
      assert.ok(info.en.length > 0 && /[a-z]/i.test(info.en), `en ${code}`);
      assert.ok(/[\u4e00-\u9fff]/.test(info.zh), `zh ${code}`);
    }
    assert.equal(describeReplyCode(309), 'identifier not exist');
    assert.equal(describeReplyCode(309, 'zh'), '标识符不存在');
  });
  it('covers the device-log codes of §3.2', () => {
    for (const code of [
      200, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310, 311, 312, 313, 1022, 1023, 1027, 1028,
    ]) {
      assert.ok(REPLY_CODES[code], String(code));
    }
  });
  it('names unknown codes instead of failing', () => {
    assert.equal(describeReplyCode(777), 'unknown reply code 777');
    assert.equal(describeReplyCode(777, 'zh'), '未知返回码 777');
  });
});
