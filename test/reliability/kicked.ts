import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import { DEFAULTS } from '../../src/connection/options';
import type { OneNetEmulator } from '../../src/emulator';
import { deviceResource, signToken } from '../../src/protocol';
import { report } from './figures';
import { secretLedger } from './ledger';
import {
  STATUS,
  captureAndUnload,
  catchAll,
  collect,
  credentialsOf,
  delay,
  deviceConfig,
  flowNode,
  lastStatusText,
  load,
  makeDevices,
  node,
  startEmulator,
  statusHistory,
  waitFor,
  waitOnline,
} from './support';

// One or two short sessions are taken for a flapping link (normal back-off); the third in a row is a
// kick pattern, so the fight ends by about 10 s at the latest.
const WATCH_MS = 20_000;
/** Kicks after this many ms would mean the two clients are still fighting. */
const SETTLED_AFTER_MS = 12_000;

/**
 * Issue 7, scenario 3, in Node-RED: another client (a plain MQTT.js client that reconnects every
 * second, as a forgotten test tool or a second gateway would) logs in as our device. OneNET keeps
 * only the newest login, so each login kicks the other. Ours must say so and back off, so that the
 * two settle instead of kicking each other forever.
 */
export function kicked(): void {
  describe('a second client logs in as the same device', function () {
    this.timeout(40_000);
    const [device] = makeDevices('kick', 1);
    let emulator: OneNetEmulator;
    let intruder: MqttClient | undefined;

    before(async () => {
      emulator = await startEmulator([device!]);
    });
    after(async () => {
      await intruder?.endAsync(true);
      await captureAndUnload();
      await emulator.close();
    });

    it('reports "kicked: another client uses this device" and backs off instead of looping', async () => {
      await load(
        [
          deviceConfig(emulator, device!),
          flowNode('post', 'onenet-property-post', { device: device!.configId }, [['ok']]),
          flowNode('ok', 'helper'),
          ...catchAll(),
        ],
        credentialsOf([device!]),
      );
      await waitOnline(emulator, [device!]);
      // Our device has been online a while when the other client appears, as in the field.
      await delay(DEFAULTS.kickWindowMs + 200);
      const intruderToken = signToken({
        key: device!.key,
        res: deviceResource(device!.ref.productId, device!.ref.deviceName),
        et: Math.floor(Date.now() / 1000) + 3600,
      });
      secretLedger.tokens.add(intruderToken);
      const kicks: number[] = [];
      const ourLogins: number[] = [];
      let intruderLogins = 0;
      emulator.on('kicked', () => kicks.push(Date.now()));
      emulator.on('client-connected', (event) => {
        if (event.token === intruderToken) intruderLogins++;
        else ourLogins.push(Date.now());
      });

      const started = Date.now();
      intruder = mqtt.connect({
        host: emulator.host,
        port: emulator.port,
        protocolVersion: 4,
        clientId: device!.ref.deviceName,
        username: device!.ref.productId,
        password: intruderToken,
        keepalive: 60,
        reconnectPeriod: 1000,
      });
      intruder.on('error', () => undefined); // it is refused nothing; its socket just gets closed
      await waitFor(() => lastStatusText('post') === STATUS.kicked, 'the node to show "kicked"', WATCH_MS);
      const shownAfterMs = Date.now() - started;
      await delay(WATCH_MS - (Date.now() - started));
      assert.equal(lastStatusText('post'), STATUS.kicked, 'the node still says why it is offline');

      const caught = collect('catch-out');
      node('post').receive({ payload: { temperature: 1 } });
      await waitFor(() => caught.length === 1, 'the post to fail');
      const error = (caught[0]!.error as { message: string }).message;
      assert.match(error, /kicked: another client uses this device/);
      const nextAttempt = Number(/next attempt in (\d+) s/.exec(error)?.[1]);
      assert.ok(nextAttempt >= 1, `the error says when the next attempt is: ${error}`);

      const lateKicks = kicks.filter((at) => at - started > SETTLED_AFTER_MS).length;
      assert.ok(kicks.length >= 2, `the clients did kick each other (${kicks.length})`);
      assert.ok(kicks.length <= 8, `${kicks.length} kicks in ${WATCH_MS / 1000} s`);
      assert.equal(lateKicks, 0, `no kicks after ${SETTLED_AFTER_MS / 1000} s: ours backed off`);
      assert.ok(ourLogins.length <= 4, `${ourLogins.length} logins of ours`);
      assert.equal(intruder.connected, true, 'the other client keeps the device');
      assert.ok(statusHistory('post').every((s) => s.text !== STATUS.authFailed));

      report('kicked by a second login', {
        'watched s': WATCH_MS / 1000,
        'kicks in total': kicks.length,
        [`kicks after ${SETTLED_AFTER_MS / 1000} s`]: lateKicks,
        'our logins': ourLogins.length,
        'logins of the other client': intruderLogins,
        '"kicked" shown after ms': shownAfterMs,
        'next attempt in s': nextAttempt,
      });
    });
  });
}
