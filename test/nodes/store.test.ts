import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DEVICE,
  catchAll,
  collect,
  deviceConfig,
  flowNode,
  helper,
  load,
  node,
  useEmulator,
  waitConnected,
  waitFor,
  KEY,
  STATUS,
  callHistory,
  lastStatus,
  statusHistory,
  unloadAndCheckPool,
} from './support';
import { OneNetEmulator } from '../../src/emulator';

/**
 * offlinePolicy 'store' through real nodes (issue 16, DESIGN.md §4): posts made while the device
 * cannot reach OneNET go to the durable store under the user directory and come out at once with
 * msg.onenet.stored; once connected they reach the platform as history/post with their own times.
 */
/** The runtime settings' userDir for the next load (the helper types leave settings() out). */
function useUserDir(dir: string): void {
  (helper as unknown as { settings(settings: object): void }).settings({ userDir: dir });
}

describe('onenet-device offlinePolicy store', function () {
  this.timeout(30_000);
  const suite = useEmulator();
  let userDir: string;

  beforeEach(async () => {
    userDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'onenet-store-test-'));
    useUserDir(userDir);
  });
  afterEach(async () => {
    await fsp.rm(userDir, { recursive: true, force: true });
  });

  function flow(): Parameters<typeof load>[0] {
    return [
      deviceConfig(suite.emulator, { offlinePolicy: 'store', uplinkRate: '' }),
      flowNode('post', 'onenet-property-post', { device: 'cfg', waitReply: true, timeout: '5000' }, [
        ['out'],
      ]),
      flowNode('out', 'helper'),
      ...catchAll(),
    ];
  }

  it('stores posts made while offline and delivers them after connecting, with their own times', async () => {
    await suite.emulator.stopListening();
    const base = Date.now() - 60_000;
    try {
      await load(flow());
      const out = collect('out');
      const caught = collect('catch-out');
      for (let i = 0; i < 5; i++)
        node('post').receive({ payload: { temperature: i }, time: base + i * 1000 });
      await waitFor(() => out.length + caught.length === 5, 'five posts settled', 10_000);
      assert.equal(caught.length, 0, JSON.stringify(caught[0]?.error));
      for (const msg of out) {
        const onenet = msg.onenet as Record<string, unknown>;
        assert.equal(onenet.stored, true);
        assert.equal(onenet.code, undefined, 'no code yet');
      }
      const files = await fsp.readdir(path.join(userDir, 'onenet-store'));
      assert.deepEqual(files, [DEVICE.productId]);
    } finally {
      await suite.emulator.startListening();
    }
    await waitConnected(suite.emulator);
    await waitFor(
      () => suite.emulator.propertyHistory(DEVICE, 'temperature').length === 5,
      'the five stored values at the emulator',
      20_000,
    );
    const history = suite.emulator.propertyHistory(DEVICE, 'temperature');
    assert.deepEqual(
      history.map((record) => [record.value, record.time, record.via]),
      [0, 1, 2, 3, 4].map((i) => [i, base + i * 1000, 'history-post']),
    );
  });

  it('stores events the same way and delivers them with their times', async () => {
    await suite.emulator.stopListening();
    const base = Date.now() - 20_000;
    try {
      await load([
        deviceConfig(suite.emulator, { offlinePolicy: 'store' }),
        flowNode('event', 'onenet-event-post', { device: 'cfg', event: 'alarm', waitReply: true }, [['out']]),
        flowNode('out', 'helper'),
        ...catchAll(),
      ]);
      const out = collect('out');
      const caught = collect('catch-out');
      node('event').receive({ payload: { level: 1 }, time: base });
      node('event').receive({ payload: { level: 2 }, time: base + 5 });
      await waitFor(() => out.length + caught.length === 2, 'both events settled', 10_000);
      assert.equal(caught.length, 0, JSON.stringify(caught[0]?.error));
      assert.ok(out.every((msg) => (msg.onenet as Record<string, unknown>).stored === true));
    } finally {
      await suite.emulator.startListening();
    }
    await waitFor(
      () => suite.emulator.eventLog(DEVICE).filter((event) => event.identifier === 'alarm').length === 2,
      'both events at the emulator',
      20_000,
    );
    assert.deepEqual(
      suite.emulator
        .eventLog(DEVICE)
        .filter((event) => event.identifier === 'alarm')
        .map((event) => [event.value, event.time]),
      [
        [{ level: 1 }, base],
        [{ level: 2 }, base + 5],
      ],
    );
  });

  it('keeps the store across a restart of the flows and delivers it afterwards', async () => {
    await suite.emulator.stopListening();
    const base = Date.now() - 30_000;
    try {
      await load(flow());
      const out = collect('out');
      for (let i = 0; i < 3; i++) node('post').receive({ payload: { humidity: i }, time: base + i });
      await waitFor(() => out.length === 3, 'three posts stored', 10_000);
      await helper.unload();
    } finally {
      await suite.emulator.startListening();
    }
    assert.equal(suite.emulator.propertyHistory(DEVICE, 'humidity').length, 0, 'nothing delivered yet');
    await load(flow());
    await waitFor(
      () => suite.emulator.propertyHistory(DEVICE, 'humidity').length === 3,
      'the stored values delivered after the restart',
      20_000,
    );
    assert.deepEqual(
      suite.emulator.propertyHistory(DEVICE, 'humidity').map((record) => record.time),
      [base, base + 1, base + 2],
    );
  });

  it('sends a live post during a backfill ahead of the stored values (held back by one slot at most)', async () => {
    await suite.emulator.stopListening();
    const base = Date.now() - 600_000;
    const earlier = suite.emulator.uplinks(DEVICE).length;
    const ours = (): string[] =>
      suite.emulator
        .uplinks(DEVICE)
        .slice(earlier)
        .map((record) => record.kind);
    try {
      await load(flow());
      const out = collect('out');
      // 400 values of one property: four history posts at one a second.
      for (let i = 0; i < 400; i++) node('post').receive({ payload: { pressure: i }, time: base + i });
      await waitFor(() => out.length === 400, 'all stored', 15_000);
    } finally {
      await suite.emulator.startListening();
    }
    await waitConnected(suite.emulator);
    await waitFor(() => ours().includes('history-post'), 'the backfill started', 15_000);
    const out = collect('out');
    node('post').receive({ payload: { live: 1 } });
    await waitFor(() => out.length === 1, 'the live post answered', 10_000);
    const onenet = out[0]!.onenet as Record<string, unknown>;
    assert.equal(onenet.stored, undefined, 'sent live, not stored');
    assert.ok(Number(onenet.latencyMs) <= 2000, `live post waited ${String(onenet.latencyMs)} ms`);
    await waitFor(
      () => suite.emulator.propertyHistory(DEVICE, 'pressure').length === 400,
      'the backfill done',
      20_000,
    );
    const kinds = ours();
    assert.ok(
      kinds.indexOf('property-post') < kinds.lastIndexOf('history-post'),
      `the live post went before the last history post: ${kinds.join(',')}`,
    );
  });

  it('fails a post clearly (Catch) when the store directory cannot be written', async () => {
    // The user directory is a file: nothing can be created under it, whoever runs the test.
    const file = path.join(userDir, 'not-a-directory');
    await fsp.writeFile(file, 'x');
    useUserDir(file);
    await suite.emulator.stopListening();
    try {
      await load(flow());
      const out = collect('out');
      const caught = collect('catch-out');
      node('post').receive({ payload: { temperature: 1 } });
      await waitFor(() => caught.length === 1, 'the post caught', 10_000);
      assert.equal(out.length, 0);
      const onenet = caught[0]!.onenet as Record<string, unknown>;
      assert.equal(onenet.reason, 'store');
      assert.match(String(onenet.message), /not stored: cannot write the store/);
      await waitFor(
        () => statusHistory('post').some((status) => String(status.text).endsWith('status.failed.store')),
        'the node says the store failed',
      );
    } finally {
      await suite.emulator.startListening();
    }
  });
});

describe('offlinePolicy store: a value OneNET refuses for good', function () {
  this.timeout(30_000);
  let emulator: OneNetEmulator;
  let userDir: string;
  const MODEL = JSON.stringify({
    version: '1.0',
    properties: [{ identifier: 'temp', accessMode: 'r', dataType: { type: 'float', specs: {} } }],
    events: [],
    services: [],
  });

  beforeEach(async () => {
    emulator = await OneNetEmulator.start({
      devices: [{ productId: DEVICE.productId, deviceName: DEVICE.deviceName, key: KEY }],
      products: [{ productId: DEVICE.productId, thingModel: MODEL }],
    });
    userDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'onenet-store-test-'));
    useUserDir(userDir);
  });
  afterEach(async () => {
    await unloadAndCheckPool();
    await emulator.close();
    await fsp.rm(userDir, { recursive: true, force: true });
  });

  it('removes values refused with 309, warns once per identifier, and delivers the others', async () => {
    await emulator.stopListening();
    const base = Date.now() - 10_000;
    try {
      await load([
        deviceConfig(emulator, { offlinePolicy: 'store' }),
        flowNode('post', 'onenet-property-post', { device: 'cfg', waitReply: true }, [['out']]),
        flowNode('out', 'helper'),
        ...catchAll(),
      ]);
      const out = collect('out');
      for (let i = 0; i < 3; i++) node('post').receive({ payload: { temp: i, bogus: i }, time: base + i });
      await waitFor(() => out.length === 3, 'three posts stored', 10_000);
    } finally {
      await emulator.startListening();
    }
    await waitFor(() => emulator.propertyHistory(DEVICE, 'temp').length === 3, 'temp delivered', 20_000);
    await waitFor(() => lastStatus('post')?.text === STATUS.connected, 'the store empty', 20_000);
    assert.deepEqual(
      emulator.propertyHistory(DEVICE, 'temp').map((record) => [record.value, record.time]),
      [0, 1, 2].map((i) => [i, base + i]),
    );
    assert.equal(emulator.propertyHistory(DEVICE, 'bogus').length, 0);
    // One warning for bogus|309, however many of its values and messages were refused.
    const warnings = callHistory('cfg', 'warn').filter((args) =>
      String(args[0]).endsWith('log.store-refused'),
    );
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
  });
});
