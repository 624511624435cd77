import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseCliArgs } from '../../src/emulator/cli-args';
import { connectViolation } from '../../src/emulator/connect-rules';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDevicesFile, parseDevicesFile } from '../../src/emulator/devices-file';
import { UplinkRateLimiter } from '../../src/emulator/rate-limiter';
import { RingBuffer } from '../../src/emulator/ring-buffer';
import { filterMatches, filterRefusal } from '../../src/emulator/subscribe-acl';

describe('emulator building blocks', () => {
  describe('filterMatches', () => {
    const cases: Array<[string, string, boolean]> = [
      ['$sys/p/d/thing/#', '$sys/p/d/thing/property/post/reply', true],
      ['$sys/p/d/#', '$sys/p/d/thing/property/post/reply', true],
      ['$sys/p/d/thing/service/+/invoke', '$sys/p/d/thing/service/reboot/invoke', true],
      ['$sys/p/d/thing/service/+/invoke', '$sys/p/d/thing/service/reboot/invoke_reply', false],
      ['$sys/p/d/thing/property/+', '$sys/p/d/thing/property/post/reply', false],
      ['$sys/p/d/thing/property/post', '$sys/p/d/thing/property/post/reply', false],
      ['$sys/p/d/thing/property/post/reply/#', '$sys/p/d/thing/property/post/reply', true],
    ];
    for (const [filter, topic, expected] of cases) {
      it(`${filter} ${expected ? 'matches' : 'does not match'} ${topic}`, () => {
        assert.equal(filterMatches(filter, topic), expected);
      });
    }

    it('a topic matches itself, its "#" parent and its level-wise "+" forms', () => {
      const level = fc.stringMatching(/^[a-z_]{1,6}$/);
      fc.assert(
        fc.property(fc.array(level, { minLength: 1, maxLength: 5 }), fc.nat(), (levels, pick) => {
          const topic = `$sys/p/d/${levels.join('/')}`;
          const plus = [...levels];
          plus[pick % levels.length] = '+';
          return (
            filterMatches(topic, topic) &&
            filterMatches(`$sys/p/d/${levels.slice(0, -1).concat('#').join('/')}`, topic) &&
            filterMatches(`$sys/p/d/${plus.join('/')}`, topic)
          );
        }),
      );
    });
  });

  it('filterRefusal allows only own topics with wildcards from level 4 (§1.5)', () => {
    assert.equal(filterRefusal('p', 'd', '$sys/p/d/#'), undefined);
    assert.equal(filterRefusal('p', 'd', '$sys/p/d/thing/service/+/invoke'), undefined);
    assert.match(filterRefusal('p', 'd', '$sys/p/+/thing/#') ?? '', /4th topic level/);
    assert.match(filterRefusal('p', 'd', '$sys/p/e/thing/#') ?? '', /not this device/);
    assert.match(filterRefusal('p', 'd', '$sys/p/d') ?? '', /no topic/);
    assert.match(filterRefusal('p', 'd', `$sys/p/d/${'x'.repeat(600)}`) ?? '', /512 bytes/);
  });

  it('connectViolation: level 4, no will, clean session, keepalive 10..1800 (§1.3)', () => {
    const good = { protocolVersion: 4, clean: true, keepalive: 120 };
    assert.equal(connectViolation(good), undefined);
    assert.equal(connectViolation({ ...good, protocolVersion: 5 })?.answer, 'connack-1');
    assert.equal(connectViolation({ ...good, will: { topic: 'x' } })?.answer, 'close');
    assert.equal(connectViolation({ ...good, clean: false })?.answer, 'close');
    assert.equal(connectViolation({ ...good, keepalive: 10 }), undefined);
    assert.equal(connectViolation({ ...good, keepalive: 1800 }), undefined);
    assert.equal(connectViolation({ ...good, keepalive: 1801 })?.answer, 'close');
  });

  it('RingBuffer keeps the newest entries, oldest first', () => {
    const ring = new RingBuffer<number>(3);
    for (let i = 1; i <= 5; i++) ring.push(i);
    assert.deepEqual(ring.toArray(), [3, 4, 5]);
    assert.equal(ring.size, 3);
    assert.throws(() => new RingBuffer(0));
  });

  it('UplinkRateLimiter delays the excess to the start of the next second with room (§1.4)', () => {
    const limiter = new UplinkRateLimiter(2);
    const base = 1_000_000_000_300;
    assert.deepEqual(
      [0, 1, 2, 3, 4].map(() => limiter.delayFor(base)),
      [0, 0, 700, 700, 1700],
    );
    assert.equal(limiter.delayFor(base + 2700), 0, 'a quiet second starts afresh');
    assert.throws(() => new UplinkRateLimiter(0));
  });

  describe('devices file', () => {
    it('reads devices and products; deviceKey is accepted for key', () => {
      const content = parseDevicesFile(
        [
          { productId: 'P1', deviceName: 'a', key: 'AAAA' },
          { productId: 'P1', deviceName: 'b', deviceKey: 'BBBB', note: 'extra fields are ignored' },
          {
            productId: 'P1',
            accessKey: 'CCCC',
            thingModel: { properties: [{ identifier: 't', dataType: { type: 'int' } }] },
          },
        ],
        () => assert.fail('no model file in this test'),
      );
      assert.deepEqual(content.devices, [
        { productId: 'P1', deviceName: 'a', key: 'AAAA' },
        { productId: 'P1', deviceName: 'b', key: 'BBBB' },
      ]);
      assert.deepEqual(content.products, [
        {
          productId: 'P1',
          accessKey: 'CCCC',
          thingModel: { properties: [{ identifier: 't', dataType: { type: 'int' } }] },
        },
      ]);
    });

    it('reads a thing model given as a file path through the reader', () => {
      const content = parseDevicesFile([{ productId: 'P1', thingModel: 'm.json' }], (path) => {
        assert.equal(path, 'm.json');
        return { events: [] };
      });
      assert.deepEqual(content.products[0]?.thingModel, { events: [] });
    });

    it('loads a file and its thing model file; broken JSON is reported without quoting it', () => {
      const dir = mkdtempSync(join(tmpdir(), 'onenet-devices-'));
      try {
        writeFileSync(join(dir, 'model.json'), '{"properties":[]}');
        writeFileSync(join(dir, 'ok.json'), '[{"productId":"P1","thingModel":"model.json"}]');
        assert.deepEqual(loadDevicesFile(join(dir, 'ok.json')).products, [
          { productId: 'P1', thingModel: { properties: [] } },
        ]);
        writeFileSync(
          join(dir, 'bad.json'),
          '[{"productId":"P1","deviceName":"d","key":"SECRETKEY12345" x}]',
        );
        assert.throws(
          () => loadDevicesFile(join(dir, 'bad.json')),
          (error: Error) => /is not valid JSON/.test(error.message) && !error.message.includes('SECRETKEY'),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    const broken: Array<[unknown, RegExp]> = [
      [{}, /JSON array/],
      [[1], /entry 0 must be an object/],
      [[{ deviceName: 'a', key: 'A' }], /entry 0: "productId"/],
      [[{ productId: 'P', deviceName: 'a' }], /entry 0: "key"/],
      [[{ productId: 'P', deviceName: '', key: 'A' }], /"deviceName"/],
      [[{ productId: 'P', accessKey: 5 }], /"accessKey"/],
      [[{ productId: 'P', thingModel: { properties: 'x' } }], /entry 0\.thingModel\.properties/],
    ];
    for (const [json, reason] of broken) {
      it(`refuses ${JSON.stringify(json)}`, () => assert.throws(() => parseDevicesFile(json), reason));
    }
  });

  describe('CLI arguments', () => {
    it('reads the contract options with defaults', () => {
      assert.deepEqual(parseCliArgs(['--port', '0', '--devices', 'd.json']), {
        host: '127.0.0.1',
        port: 0,
        devicesFile: 'd.json',
      });
      assert.deepEqual(
        parseCliArgs([
          '--devices',
          'd.json',
          '--port',
          '1883',
          '--host',
          '0.0.0.0',
          '--tls-key',
          'k',
          '--tls-cert',
          'c',
          '--uplink-rate',
          '1',
        ]),
        {
          host: '0.0.0.0',
          port: 1883,
          devicesFile: 'd.json',
          tls: { keyFile: 'k', certFile: 'c', port: 0 },
          uplinkPerSecond: 1,
        },
      );
      assert.equal(parseCliArgs(['--help']), 'help');
    });

    const broken: Array<[string[], RegExp]> = [
      [['--devices', 'd.json'], /--port/],
      [['--port', '0'], /--devices/],
      [['--port', 'abc', '--devices', 'd'], /port number/],
      [['--port', '70000', '--devices', 'd'], /port number/],
      [['--port', '0', '--devices', 'd', '--verbose'], /unknown option --verbose/],
      [['--port', '0', '--devices'], /needs a value/],
      [['--port', '0', '--devices', 'd', '--tls-key', 'k'], /go together/],
      [['--port', '0', '--devices', 'd', '--uplink-rate', '0'], /positive/],
    ];
    for (const [argv, reason] of broken) {
      it(`refuses ${argv.join(' ')}`, () => assert.throws(() => parseCliArgs(argv), reason));
    }
  });
});
