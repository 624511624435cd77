import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Backfill } from '../../src/connection/backfill';
import { Journal, type NewValue } from '../../src/store';

/**
 * The backfill of a gateway's store: the gateway's own values and its sub-devices' share one journal,
 * and one history/post carries at most 10 devices (onenet-next.md §Q2 step 6, §Q3), the gateway's own
 * entry without identity and each sub-device's naming it; a sub-device not logged in waits, and the
 * values behind it go past it.
 */
describe('connection / backfill of a gateway store', function () {
  let dir: string;
  let journal: Journal;
  const GATEWAY = 'GwProd0001/gw-1';
  /** Recent times: the journal drops values past its age bound (a day here). */
  const BASE = Date.now() - 60_000;
  let loggedIn: Set<string>;
  let wakes = 0;

  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'onenet-backfill-'));
    journal = await Journal.open({ dir, maxBytes: 10 * 1024 * 1024, maxAgeMs: 86_400_000 });
    loggedIn = new Set();
    wakes = 0;
  });
  afterEach(async () => {
    await journal.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  function backfill(): Backfill {
    let id = 100;
    return new Backfill(() => journal, {
      nextId: () => String(id++),
      ownDevice: GATEWAY,
      canDeliver: (device) => loggedIn.has(device),
      topic: '$sys/GwProd0001/gw-1/thing/history/post',
      timeoutMs: 5000,
      wake: () => wakes++,
      changed: () => undefined,
      report: () => undefined,
    });
  }

  const value = (device: string, identifier: string, v: number, time: number): NewValue => ({
    device,
    kind: 'property',
    identifier,
    value: v,
    time,
  });

  async function nextOffer(subject: Backfill): Promise<unknown> {
    const before = wakes;
    subject.poke();
    for (let i = 0; i < 100 && wakes === before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const message = subject.offer();
    return message && JSON.parse(message.payload.toString());
  }

  it("sends the gateway's own values without identity and each sub-device's with its identity", async () => {
    loggedIn.add('SubProd001/field-1');
    await journal.append([
      value(GATEWAY, 'uptime', 1, BASE),
      value('SubProd001/field-1', 'level', 7, BASE + 1000),
      value('SubProd001/field-1', 'level', 8, BASE + 2000),
    ]);
    assert.deepEqual(await nextOffer(backfill()), {
      id: '100',
      version: '1.0',
      params: [
        { properties: { uptime: [{ value: 1, time: BASE }] } },
        {
          identity: { productID: 'SubProd001', deviceName: 'field-1' },
          properties: {
            level: [
              { value: 7, time: BASE + 1000 },
              { value: 8, time: BASE + 2000 },
            ],
          },
        },
      ],
    });
  });

  it('puts at most 10 devices in one message and keeps the rest, in order, for the next', async () => {
    const devices = Array.from({ length: 12 }, (_, i) => `SubProd001/field-${i}`);
    for (const device of devices) loggedIn.add(device);
    await journal.append(devices.map((device, i) => value(device, 'level', i, BASE + i)));
    const subject = backfill();
    const first = (await nextOffer(subject)) as { params: Array<{ identity: { deviceName: string } }> };
    assert.deepEqual(
      first.params.map((entry) => entry.identity.deviceName),
      devices.slice(0, 10).map((device) => device.split('/')[1]),
    );
    const second = subject.offer();
    assert.ok(second, 'the other two go in the next message');
    const params = (
      JSON.parse(second.payload.toString()) as { params: Array<{ identity: { deviceName: string } }> }
    ).params;
    assert.deepEqual(
      params.map((entry) => entry.identity.deviceName),
      ['field-10', 'field-11'],
    );
  });

  it('holds the values of a sub-device that is not logged in, sends the others, and sends them once it is', async () => {
    await journal.append([
      value('SubProd001/waiting', 'level', 1, BASE),
      value(GATEWAY, 'uptime', 2, BASE + 1000),
    ]);
    const subject = backfill();
    assert.deepEqual(await nextOffer(subject), {
      id: '100',
      version: '1.0',
      params: [{ properties: { uptime: [{ value: 2, time: BASE + 1000 }] } }],
    });
    assert.equal(subject.offer(), undefined, 'nothing else can go yet');
    loggedIn.add('SubProd001/waiting');
    assert.deepEqual(await nextOffer(subject), {
      id: '101',
      version: '1.0',
      params: [
        {
          identity: { productID: 'SubProd001', deviceName: 'waiting' },
          properties: { level: [{ value: 1, time: BASE }] },
        },
      ],
    });
  });
});
