import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  buildTopic,
  isCustomTopicKind,
  parseTopic,
  replyKindOf,
  topicDirection,
  TOPIC_KINDS,
  TOPICS,
  type TopicKind,
} from '../../src/protocol';

/** Kinds with a variable level (a service identifier or a custom command id) need one to build. */
function needsIdentifier(kind: TopicKind): boolean {
  return TOPICS[kind].suffix.includes('{');
}

describe('protocol/topics', () => {
  it('builds the documented topic strings (§3)', () => {
    const device = { productId: 'Ck2AF9QD2K', deviceName: 'test' };
    assert.equal(
      buildTopic({ ...device, kind: 'property-post' }),
      '$sys/Ck2AF9QD2K/test/thing/property/post',
    );
    assert.equal(
      buildTopic({ ...device, kind: 'property-post-reply' }),
      '$sys/Ck2AF9QD2K/test/thing/property/post/reply',
    );
    assert.equal(
      buildTopic({ ...device, kind: 'property-set-reply' }),
      '$sys/Ck2AF9QD2K/test/thing/property/set_reply',
    );
    assert.equal(
      buildTopic({ ...device, kind: 'service-invoke', identifier: 'reboot' }),
      '$sys/Ck2AF9QD2K/test/thing/service/reboot/invoke',
    );
    assert.equal(
      buildTopic({ ...device, kind: 'service-invoke-reply', identifier: 'reboot' }),
      '$sys/Ck2AF9QD2K/test/thing/service/reboot/invoke_reply',
    );
    assert.equal(buildTopic({ ...device, kind: 'ota-inform' }), '$sys/Ck2AF9QD2K/test/ota/inform');
  });

  it('builds and parses the custom-data topics of §3 rows 20–21, spelled "custome"', () => {
    const device = { productId: 'Ck2AF9QD2K', deviceName: 'test' };
    const cases: Array<[string, TopicKind, string | undefined, 'up' | 'down']> = [
      ['$sys/Ck2AF9QD2K/test/custome/up', 'custom-up', undefined, 'up'],
      ['$sys/Ck2AF9QD2K/test/custome/up_reply', 'custom-up-reply', undefined, 'down'],
      ['$sys/Ck2AF9QD2K/test/custome/down/123', 'custom-down', '123', 'down'],
      ['$sys/Ck2AF9QD2K/test/custome/down_reply/123', 'custom-down-reply', '123', 'up'],
    ];
    for (const [topic, kind, identifier, direction] of cases) {
      const address = { ...device, kind, ...(identifier === undefined ? {} : { identifier }) };
      assert.equal(buildTopic(address), topic);
      assert.deepEqual(parseTopic(topic), { ours: true, ...address }, topic);
      assert.equal(topicDirection(kind), direction, kind);
      assert.equal(isCustomTopicKind(kind), true, kind);
    }
    assert.equal(replyKindOf('custom-up'), 'custom-up-reply');
    assert.equal(replyKindOf('custom-down'), 'custom-down-reply');
    assert.equal(isCustomTopicKind('property-post'), false);
    assert.throws(() => buildTopic({ ...device, kind: 'custom-down' }), /needs a command id/);
    assert.throws(() => buildTopic({ ...device, kind: 'custom-down', identifier: '+' }), /command id/);
  });

  it('round-trips every topic kind: parse(build(x)) == x', () => {
    for (const kind of TOPIC_KINDS) {
      const address = {
        productId: 'P1',
        deviceName: 'dev-1',
        kind,
        ...(needsIdentifier(kind) ? { identifier: 'svc_1' } : {}),
      };
      assert.deepEqual(parseTopic(buildTopic(address)), { ours: true, ...address }, kind);
    }
  });

  it('round-trips random valid addresses', () => {
    const level = fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,20}$/);
    fc.assert(
      fc.property(
        level,
        level,
        fc.constantFrom(...TOPIC_KINDS),
        fc.stringMatching(/^[A-Za-z0-9_]{1,20}$/),
        (pid, dev, kind, id) => {
          const address = {
            productId: pid,
            deviceName: dev,
            kind,
            ...(needsIdentifier(kind) ? { identifier: id } : {}),
          };
          assert.deepEqual(parseTopic(buildTopic(address)), { ours: true, ...address });
        },
      ),
    );
  });

  it('pairs every request kind with a reply kind of the opposite direction', () => {
    for (const kind of TOPIC_KINDS) {
      const reply = replyKindOf(kind);
      if (reply === undefined) continue;
      assert.ok(reply in TOPICS, `${kind} -> ${reply}`);
      assert.notEqual(topicDirection(kind), topicDirection(reply), kind);
    }
    assert.equal(replyKindOf('property-set'), 'property-set-reply');
    assert.equal(replyKindOf('event-post'), 'event-post-reply');
    assert.equal(replyKindOf('property-post-reply'), undefined);
  });

  it('says "not ours" for foreign and unknown topics, with a reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['sensors/temp', /not a \$sys topic/],
      ['$sys/P1', /no product id/],
      ['$sys/P1/dev', /no product id/],
      ['$sys//dev/thing/property/post', /no product id/],
      ['$sys/+/dev/thing/property/post', /wildcard/],
      ['$sys/P1/dev/thing/property/posts', /unknown thing-model topic/],
      ['$sys/P1/dev/thing/service/a/b/invoke', /unknown/],
      ['$sys/P1/dev/thing/service//invoke', /unknown/],
      ['$sys/P1/dev/dp/post/json', /unknown/],
      ['$sys/P1/dev/custom/up', /unknown/],
      ['$sys/P1/dev/custome/down', /unknown/],
      ['$sys/P1/dev/custome/down/', /unknown/],
      ['$sys/P1/dev/custome/down/1/2', /unknown/],
      ['$sys/P1/dev/custome/down_reply', /unknown/],
      ['$sys/P1/dev/custome/up/reply', /unknown/],
    ];
    for (const [topic, reason] of cases) {
      const parsed = parseTopic(topic);
      assert.equal(parsed.ours, false, topic);
      if (!parsed.ours) assert.match(parsed.reason, reason, topic);
    }
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `$sys/${s}`),
          fc.anything(),
        ),
        (input) => {
          const parsed = parseTopic(input as string);
          assert.equal(typeof parsed.ours, 'boolean');
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses to build topics that would inject levels or wildcards', () => {
    assert.throws(
      () => buildTopic({ productId: 'P/1', deviceName: 'd', kind: 'property-post' }),
      /product id and device name/,
    );
    assert.throws(
      () => buildTopic({ productId: 'P1', deviceName: '#', kind: 'property-post' }),
      /product id and device name/,
    );
    assert.throws(
      () => buildTopic({ productId: 'P1', deviceName: 'd', kind: 'service-invoke' }),
      /service identifier/,
    );
    assert.throws(
      () =>
        buildTopic({
          productId: 'P1',
          deviceName: 'd',
          kind: 'service-invoke' as TopicKind,
          identifier: 'a/b',
        }),
      /service identifier/,
    );
  });
});
