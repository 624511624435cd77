import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readDemoConfig } from '../../src/demo/demo-config';
import { editorHost, localUrl, networkUrls } from '../../src/demo/editor-host';

/** What `npm start` reads from its environment and arguments. */

describe('demo: configuration', () => {
  it('defaults: loopback editor on 1880, emulator on 1883, .node-red-demo in the package', () => {
    const config = readDemoConfig({}, [], '/pkg');
    assert.deepEqual(config, {
      userDir: join('/pkg', '.node-red-demo'),
      editorHost: '127.0.0.1',
      editorPort: 1880,
      emulatorPort: 1883,
      commandIntervalMs: 10_000,
      reset: false,
    });
  });

  it('reads ONENET_DEMO_DIR, PORT, ONENET_EMULATOR_PORT, HOST and --reset', () => {
    const env = { ONENET_DEMO_DIR: '/tmp/d', PORT: '1881', ONENET_EMULATOR_PORT: '0', HOST: '0.0.0.0' };
    const config = readDemoConfig(env, ['--reset'], '/pkg');
    assert.equal(config.userDir, '/tmp/d');
    assert.equal(config.editorPort, 1881);
    assert.equal(config.emulatorPort, 0);
    assert.equal(config.editorHost, '0.0.0.0');
    assert.equal(config.reset, true);
  });

  it('refuses what would start Node-RED somewhere unexpected', () => {
    assert.throws(() => readDemoConfig({ PORT: '0' }, [], '/pkg'), /PORT=0/);
    assert.throws(() => readDemoConfig({ PORT: '18 80' }, [], '/pkg'), /PORT=18 80/);
    assert.throws(
      () => readDemoConfig({ ONENET_EMULATOR_PORT: '70000' }, [], '/pkg'),
      /ONENET_EMULATOR_PORT/,
    );
    assert.throws(() => readDemoConfig({}, ['--rest'], '/pkg'), /unknown argument --rest/);
    for (const host of ['1880', '1.2', 'a b', '-x'])
      assert.throws(() => editorHost({ HOST: host }), /neither an IP address nor a host name/, host);
  });

  it('finds the editor over loopback when it listens everywhere', () => {
    assert.equal(localUrl('0.0.0.0', 1880), 'http://127.0.0.1:1880');
    assert.equal(localUrl('::', 1880), 'http://[::1]:1880');
    assert.equal(localUrl('192.168.1.5', 1880), 'http://192.168.1.5:1880');
    assert.deepEqual(networkUrls('127.0.0.1', 1880), []);
    assert.deepEqual(networkUrls('192.168.1.5', 1880), ['http://192.168.1.5:1880']);
  });
});
