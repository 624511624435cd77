import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import type { OneNetEmulator } from '../../src/emulator';
import { deviceResource, devicePrefix, signToken } from '../../src/protocol';
import { makeDevices, startEmulator, waitFor } from './support';

/** The emulator's publishRaw test hook, which the platform-side fuzz scenario is built on. */
describe('emulator.publishRaw (test hook for bad platform data)', function () {
  const [device, other] = makeDevices('raw', 2);
  let emulator: OneNetEmulator;
  let client: mqtt.MqttClient | undefined;

  before(async () => {
    emulator = await startEmulator([device!, other!]);
  });
  after(async () => {
    await client?.endAsync(true);
    await emulator.close();
  });

  it('delivers the bytes unchanged, only on the device’s own downlink topics it subscribed to', async () => {
    const prefix = devicePrefix(device!.ref.productId, device!.ref.deviceName);
    const setTopic = `${prefix}thing/property/set`;
    assert.equal(emulator.publishRaw(device!.ref, setTopic, 'x'), false, 'not delivered while offline');
    client = await mqtt.connectAsync({
      host: emulator.host,
      port: emulator.port,
      protocolVersion: 4,
      clientId: device!.ref.deviceName,
      username: device!.ref.productId,
      password: signToken({
        key: device!.key,
        res: deviceResource(device!.ref.productId, device!.ref.deviceName),
        et: Math.floor(Date.now() / 1000) + 600,
      }),
      reconnectPeriod: 0,
    });
    await client.subscribeAsync(setTopic);
    const received: Buffer[] = [];
    client.on('message', (_topic, payload) => received.push(payload));
    const garbage = Buffer.from([0xff, 0x00, 0x7b, 0x22]);
    assert.equal(emulator.publishRaw(device!.ref, setTopic, garbage), true);
    assert.equal(
      emulator.publishRaw(device!.ref, `${prefix}thing/property/get`, '{}'),
      false,
      'not subscribed',
    );
    await waitFor(() => received.length === 1, 'the raw message');
    assert.deepEqual(received[0], garbage);

    assert.throws(
      () => emulator.publishRaw(device!.ref, `${prefix}thing/property/post`, '{}'),
      /not a platform-to-device topic/,
    );
    const otherSet = `${devicePrefix(other!.ref.productId, other!.ref.deviceName)}thing/property/set`;
    assert.throws(() => emulator.publishRaw(device!.ref, otherSet, '{}'), /not a platform-to-device topic/);
    assert.throws(() => emulator.publishRaw(device!.ref, '#', '{}'), /not a platform-to-device topic/);
  });
});
