import assert from 'node:assert/strict';
import type { Packet } from 'mqtt-packet';
import type { ClientDisconnectedEvent } from '../../src/emulator';
import { closeAll, newDevice, nextEvent, startEmulator } from './helpers';
import { RawMqttClient, closeRawClients } from './raw-client';

/**
 * §1.3 (onenet-protocol.md, from [DOC-MQTTS] mqtts-design.md): "PUBACKs out of order, or for unknown
 * packet ids, mean disconnect. PUBREC/PUBREL/PUBCOMP, and client-sent CONNACK/SUBACK/UNSUBACK/PINGRESP,
 * mean disconnect." Sent from a raw socket, since MQTT.js never sends these unprompted.
 */
describe('emulator packets a device may not send (§1.3)', () => {
  afterEach(async () => {
    closeRawClients();
    await closeAll();
  });

  async function loggedIn(): Promise<{
    raw: RawMqttClient;
    lines: string[];
    disconnected: Promise<ClientDisconnectedEvent>;
  }> {
    const device = newDevice();
    const lines: string[] = [];
    const emulator = await startEmulator({ devices: [device], log: (line) => lines.push(line) });
    const disconnected = nextEvent<ClientDisconnectedEvent>(emulator, 'client-disconnected');
    // Attached before login: a rejection only counts once the test awaits it.
    disconnected.catch(() => undefined);
    const raw = await RawMqttClient.login(emulator.port, device);
    return { raw, lines, disconnected };
  }

  it('keeps a raw connection that sends PINGREQ (the control for the cases below)', async () => {
    const { raw } = await loggedIn();
    const pong = raw.nextPacket('pingresp');
    raw.send({ cmd: 'pingreq' });
    await pong;
    assert.equal(raw.closed, false);
  });

  const cases: Array<{ name: string; packet: Packet; reason: RegExp; notAnswered?: Packet['cmd'] }> = [
    {
      name: 'a PUBACK for a packet id the emulator never sent',
      packet: { cmd: 'puback', messageId: 7 },
      reason: /^PUBACK \(packet id 7\) for a packet id the emulator never sent/,
    },
    {
      name: 'a PUBREC',
      packet: { cmd: 'pubrec', messageId: 8 },
      reason: /^PUBREC \(packet id 8\): OneNET does not support QoS 2/,
      notAnswered: 'pubrel',
    },
    {
      name: 'a PUBREL',
      packet: { cmd: 'pubrel', messageId: 9 },
      reason: /^PUBREL \(packet id 9\): OneNET does not support QoS 2/,
      notAnswered: 'pubcomp',
    },
    {
      name: 'a PUBCOMP',
      packet: { cmd: 'pubcomp', messageId: 10 },
      reason: /^PUBCOMP \(packet id 10\): OneNET does not support QoS 2/,
    },
    {
      name: 'a CONNACK',
      packet: { cmd: 'connack', returnCode: 0, sessionPresent: false },
      reason: /^CONNACK, a packet only the server sends/,
    },
    {
      name: 'a SUBACK',
      packet: { cmd: 'suback', messageId: 11, granted: [0] },
      reason: /^SUBACK, a packet only the server sends/,
    },
    {
      name: 'an UNSUBACK',
      packet: { cmd: 'unsuback', messageId: 12, granted: [] },
      reason: /^UNSUBACK, a packet only the server sends/,
    },
    {
      name: 'a PINGRESP',
      packet: { cmd: 'pingresp' },
      reason: /^PINGRESP, a packet only the server sends/,
    },
  ];

  for (const testCase of cases) {
    it(`disconnects a device that sends ${testCase.name}, and logs why`, async () => {
      const { raw, lines, disconnected } = await loggedIn();
      raw.send(testCase.packet);
      await raw.closedWithin();
      const event = await disconnected;
      assert.match(event.reason, testCase.reason);
      const logged = lines.find((line) => line.startsWith('disconnect '));
      assert.ok(logged, lines.join('\n'));
      assert.match(logged.replace(/^disconnect \S+: /, ''), testCase.reason);
      if (testCase.notAnswered) {
        assert.ok(
          !raw.received.some((packet) => packet.cmd === testCase.notAnswered),
          `the emulator answered with ${testCase.notAnswered.toUpperCase()}`,
        );
      }
    });
  }
});
