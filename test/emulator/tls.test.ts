import assert from 'node:assert/strict';
import { generateTestCertificate } from '../../src/emulator';
import { closeAll, connectDevice, newDevice, startEmulator } from './helpers';

describe('emulator TLS listener', () => {
  let certificate: { key: string; cert: string };

  before(async function () {
    this.timeout(15000);
    certificate = await generateTestCertificate();
  });
  afterEach(closeAll);

  it('generates a PEM key and certificate at test time', () => {
    assert.match(certificate.key, /-----BEGIN (RSA )?PRIVATE KEY-----/);
    assert.match(certificate.cert, /-----BEGIN CERTIFICATE-----/);
  });

  it('accepts mqtts with the same rules, next to the plain listener', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device], tls: certificate });
    assert.ok(emulator.tlsPort && emulator.tlsPort !== emulator.port);
    const secure = await connectDevice(emulator.tlsPort, device, {
      protocol: 'mqtts',
      ca: certificate.cert,
      servername: 'localhost',
    });
    assert.equal(secure.kind, 'connected');
    const refused = await connectDevice(emulator.tlsPort, device, {
      protocol: 'mqtts',
      ca: certificate.cert,
      servername: 'localhost',
      token: 'version=2018-10-31&res=x&et=1&method=sha1&sign=AAAA',
    });
    assert.equal(refused.kind === 'refused' && refused.code, 4);
    assert.equal((await connectDevice(emulator.port, newDeviceOn(emulator, 'plain'))).kind, 'connected');
  });

  it('is refused by a client that does not trust the certificate', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device], tls: certificate });
    const outcome = await connectDevice(emulator.tlsPort!, device, {
      protocol: 'mqtts',
      rejectUnauthorized: true,
    });
    assert.notEqual(outcome.kind, 'connected');
    assert.equal(emulator.stats.connects, 0);
  });

  it('stops and restarts on the same TLS port', async () => {
    const device = newDevice();
    const emulator = await startEmulator({ devices: [device], tls: certificate });
    const tlsPort = emulator.tlsPort;
    await emulator.stopListening();
    await emulator.startListening();
    assert.equal(emulator.tlsPort, tlsPort);
    assert.equal(
      (
        await connectDevice(tlsPort!, device, {
          protocol: 'mqtts',
          ca: certificate.cert,
          servername: 'localhost',
        })
      ).kind,
      'connected',
    );
  });
});

function newDeviceOn(
  emulator: { addDevice(device: ReturnType<typeof newDevice>): void },
  name: string,
): ReturnType<typeof newDevice> {
  const device = newDevice(name);
  emulator.addDevice(device);
  return device;
}
