import assert from 'node:assert/strict';
import fc from 'fast-check';
import type {
  ClientDisconnectedEvent,
  ClientRefusedEvent,
  EmulatorDevice,
  RateViolationRecord,
} from '../../src/emulator';
import { parseCliArgs } from '../../src/emulator/cli-args';
import { UplinkRateLimiter } from '../../src/emulator/rate-limiter';
import { closeAll, delay, newDevice, nextEvent, request, startEmulator, topicOf } from './helpers';
import { RawMqttClient, closeRawClients } from './raw-client';

/** Resolves once `condition()` holds, polling; rejects after `timeoutMs` saying what it waited for. */
async function waitUntil(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await delay(10);
  }
}

function pubacks(client: RawMqttClient): Array<{ messageId: number; at: number }> {
  const acks: Array<{ messageId: number; at: number }> = [];
  client.received.forEach((packet, i) => {
    if (packet.cmd === 'puback') acks.push({ messageId: packet.messageId!, at: client.receivedAt[i]! });
  });
  return acks;
}

/** QoS 1 property posts with packet ids first.., all written at once. */
function publishBurst(client: RawMqttClient, device: EmulatorDevice, count: number, first = 1): void {
  for (let i = first; i < first + count; i++) {
    client.send({
      cmd: 'publish',
      topic: topicOf(device, 'thing/property/post'),
      payload: Buffer.from(request(String(i), { n: { value: i } })),
      qos: 1,
      messageId: i,
      retain: false,
      dup: false,
    });
  }
}

describe('emulator uplink rate-limit modes (§1.4, onenet-next.md §Q5)', () => {
  afterEach(async () => {
    closeRawClients();
    await closeAll();
  });

  it('delay: the excess is PUBACKed in later seconds, in order, and each held publish is a violation', async function () {
    this.timeout(10_000);
    const device = newDevice();
    const emulator = await startEmulator({
      devices: [device],
      uplinkRateLimit: { perSecond: 1, mode: 'delay' },
    });
    const client = await RawMqttClient.login(emulator.port, device);
    publishBurst(client, device, 3);
    await waitUntil('3 PUBACKs', () => pubacks(client).length === 3, 6000);
    const acks = pubacks(client);
    assert.deepEqual(
      acks.map((a) => a.messageId),
      [1, 2, 3],
    );
    // The 1st is handled in its second, the 2nd at the start of the next, the 3rd a second later.
    assert.ok(acks[2]!.at - acks[0]!.at >= 900, `3rd PUBACK ${acks[2]!.at - acks[0]!.at} ms after the 1st`);
    assert.ok(!client.closed);
    const violations = emulator.rateViolations(device);
    assert.equal(violations.length, 2);
    assert.ok(violations.every((v) => v.action === 'delayed' && v.mode === 'delay' && v.delayMs! > 0));
    assert.equal(emulator.stats.rateViolations, 2);
    assert.deepEqual(
      emulator.uplinks(device).map((r) => r.id),
      ['1', '2', '3'],
    );
  });

  it("delay is the default mode, and 'off' switches the limit off", async () => {
    const device = newDevice();
    const emulator = await startEmulator({
      devices: [device],
      uplinkRateLimit: { perSecond: 1, mode: 'off' },
    });
    const client = await RawMqttClient.login(emulator.port, device);
    publishBurst(client, device, 5);
    await waitUntil('5 PUBACKs', () => pubacks(client).length === 5);
    assert.deepEqual(emulator.rateViolations(), []);
    const held = await startEmulator({ devices: [device], uplinkRateLimit: { perSecond: 1 } });
    const second = await RawMqttClient.login(held.port, device);
    const violation = nextEvent<RateViolationRecord>(held, 'rate-limited');
    publishBurst(second, device, 2);
    assert.equal((await violation).action, 'delayed');
  });

  it('disconnect: the publish beyond the allowance closes the connection, unanswered and unstored', async () => {
    const device = newDevice();
    const emulator = await startEmulator({
      devices: [device],
      uplinkRateLimit: { perSecond: 1, mode: 'disconnect' },
    });
    const client = await RawMqttClient.login(emulator.port, device);
    const disconnected = nextEvent<ClientDisconnectedEvent>(emulator, 'client-disconnected', 5000);
    // Three at once: whatever second boundary falls among them, two share a second.
    publishBurst(client, device, 3);
    await client.closedWithin(5000);
    assert.match((await disconnected).reason, /uplink rate limit exceeded: more than 1 per second/);
    const accepted = pubacks(client).length;
    assert.ok(accepted >= 1 && accepted <= 2, `${accepted} PUBACKs`);
    assert.equal(emulator.uplinks(device).length, accepted, 'the refused publish is not stored');
    const violations = emulator.rateViolations(device);
    assert.equal(violations.length, 1, JSON.stringify(violations));
    assert.equal(violations[0]!.action, 'disconnected');
    // Not a ban: the device may log in again at once.
    await RawMqttClient.login(emulator.port, device);
  });

  it('ban: closed, logins refused with CONNACK 4 until banMs passed, then allowed', async function () {
    this.timeout(10_000);
    const device = newDevice();
    const log: string[] = [];
    const emulator = await startEmulator({
      devices: [device],
      uplinkRateLimit: { perSecond: 1, mode: 'ban', banMs: 1500 },
      log: (line) => log.push(line),
    });
    const client = await RawMqttClient.login(emulator.port, device);
    publishBurst(client, device, 3);
    await client.closedWithin(5000);
    const until = emulator.bannedUntil(device);
    assert.ok(until !== undefined && until > Date.now() - 100, String(until));
    const [violation] = emulator.rateViolations(device);
    assert.equal(violation?.action, 'banned');
    assert.equal(violation?.bannedUntil, until);

    const refused = nextEvent<ClientRefusedEvent>(emulator, 'client-refused');
    await assert.rejects(RawMqttClient.login(emulator.port, device), /"returnCode":4/);
    assert.match((await refused).reason, /banned for exceeding the uplink rate limit/);
    assert.ok(log.some((line) => /banned for exceeding the uplink rate limit .* → CONNACK 4/.test(line)));

    await delay(Math.max(0, until! - Date.now()) + 50); // waits for the ban to end, proves nothing by itself
    await RawMqttClient.login(emulator.port, device);
    assert.equal(emulator.bannedUntil(device), undefined);
  });

  it('a client pacing at perSecond with a burst of at most `burst` never trips disconnect', async function () {
    this.timeout(10_000);
    const device = newDevice();
    const emulator = await startEmulator({
      devices: [device],
      uplinkRateLimit: { perSecond: 1, burst: 2, mode: 'disconnect' },
    });
    const client = await RawMqttClient.login(emulator.port, device);
    const started = Date.now();
    publishBurst(client, device, 2, 1); // the full burst at once
    for (let k = 1; k <= 3; k++) {
      await delay(started + k * 1000 - Date.now()); // then 1 per second, never early
      publishBurst(client, device, 1, 2 + k);
    }
    await waitUntil('5 PUBACKs', () => pubacks(client).length === 5);
    assert.ok(!client.closed);
    assert.deepEqual(emulator.rateViolations(device), []);
  });

  it('refuses nonsense options at start', async () => {
    await assert.rejects(
      startEmulator({ uplinkRateLimit: { perSecond: 1, mode: 'drop' as 'ban' } }),
      /mode must be one of/,
    );
    await assert.rejects(startEmulator({ uplinkRateLimit: { perSecond: 1, burst: -1 } }), /burst/);
    await assert.rejects(startEmulator({ uplinkRateLimit: { perSecond: 1, banMs: 0 } }), /banMs/);
    await assert.rejects(startEmulator({ uplinkRateLimit: { perSecond: 0.5 } }), /perSecond/);
  });

  describe('the allowance (UplinkRateLimiter)', () => {
    const base = 1_000_000_000_300; // 300 ms into a second

    it('with a burst: perSecond + burst at once, then perSecond per wall-clock second', () => {
      const limiter = new UplinkRateLimiter(1, 2);
      assert.deepEqual(
        [0, 0, 0, 0].map((d) => limiter.tryTake(base + d)),
        [true, true, true, false],
      );
      assert.equal(limiter.tryTake(base + 700), true, 'the next second brings one');
      assert.equal(limiter.tryTake(base + 800), false);
      assert.equal(limiter.tryTake(base + 10_000), true, 'a quiet spell refills up to perSecond + burst');
      assert.equal(limiter.tryTake(base + 10_000), true);
      assert.equal(limiter.tryTake(base + 10_000), true);
      assert.equal(limiter.tryTake(base + 10_000), false);
    });

    it('delay mode with a burst holds only what exceeds it', () => {
      const limiter = new UplinkRateLimiter(1, 1);
      assert.deepEqual(
        [0, 1, 2, 3].map(() => limiter.delayFor(base)),
        [0, 0, 700, 1700],
      );
    });

    it('never refuses a token-bucket client of rate ≤ perSecond and capacity ≤ burst + 1', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 0, max: 3 }),
          fc.array(fc.integer({ min: 0, max: 2500 }), { minLength: 1, maxLength: 60 }),
          fc.integer({ min: 0, max: 999 }),
          (perSecond, burst, gaps, offset) => {
            const limiter = new UplinkRateLimiter(perSecond, burst);
            // The client's bucket: capacity burst + 1, refilled continuously at perSecond per second.
            const capacity = burst + 1;
            let tokens = capacity;
            let now = base + offset;
            let last = now;
            for (const gap of gaps) {
              now += gap;
              tokens = Math.min(capacity, tokens + ((now - last) * perSecond) / 1000);
              last = now;
              if (tokens < 1) {
                now += Math.ceil(((1 - tokens) * 1000) / perSecond); // wait for the next token
                tokens = 1;
                last = now;
              }
              tokens -= 1;
              if (!limiter.tryTake(now)) return false;
            }
            return true;
          },
        ),
        { numRuns: 2000 },
      );
    });
  });

  describe('CLI options', () => {
    const base = ['--port', '0', '--devices', 'd.json'];
    it('reads the limit, its mode, burst and ban', () => {
      assert.deepEqual(
        parseCliArgs([
          ...base,
          '--uplink-per-second',
          '2',
          '--uplink-limit-mode',
          'ban',
          '--uplink-burst',
          '1',
          '--ban-seconds',
          '30',
        ]),
        {
          host: '127.0.0.1',
          port: 0,
          devicesFile: 'd.json',
          uplinkPerSecond: 2,
          uplinkLimitMode: 'ban',
          uplinkBurst: 1,
          banSeconds: 30,
        },
      );
      assert.equal(
        (parseCliArgs([...base, '--uplink-rate', '3']) as { uplinkPerSecond: number }).uplinkPerSecond,
        3,
      );
    });
    const broken: Array<[string[], RegExp]> = [
      [['--uplink-limit-mode', 'disconnect'], /need --uplink-per-second/],
      [
        ['--uplink-per-second', '1', '--uplink-limit-mode', 'drop'],
        /must be one of off, delay, disconnect, ban/,
      ],
      [['--uplink-per-second', '1', '--ban-seconds', '5'], /goes with --uplink-limit-mode ban/],
      [['--uplink-per-second', '1', '--uplink-limit-mode', 'ban', '--ban-seconds', '0'], /positive/],
      [['--uplink-per-second', '1', '--uplink-burst', '-1'], /needs a value|whole number/],
      [['--uplink-per-second', '1', '--uplink-rate', '1'], /same option/],
    ];
    for (const [argv, reason] of broken) {
      it(`refuses ${argv.join(' ')}`, () => assert.throws(() => parseCliArgs([...base, ...argv]), reason));
    }
  });
});
