import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_SETTINGS, writeDemoSettings } from '../../src/demo/demo-settings';

/** The settings.js `npm start` keeps in the demo's user directory. */

const EARLIER = `module.exports = {
  flowFile: 'flows.json',
  // Credentials are encrypted with this fixed secret: fine for a local demo, never for production.
  credentialSecret: 'onenet-demo',
  uiHost: '127.0.0.1',
  telemetry: { enabled: false },
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { tours: false, palette: {}, projects: { enabled: false } },
};
`;

describe('demo: settings file', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'onenet-settings-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = () => join(dir, 'settings.js');

  it('writes one without the projects flag that makes Node-RED warn', async () => {
    assert.equal(writeDemoSettings(dir), 'written');
    assert.equal(readFileSync(file(), 'utf8'), DEMO_SETTINGS);
    const settings = ((await import(file())) as { default: { editorTheme: { projects: object } } }).default;
    assert.deepEqual(settings.editorTheme.projects, {});
    assert.equal(writeDemoSettings(dir), 'current');
  });

  it('upgrades the one an earlier demo wrote, keeps one the user edited', () => {
    // What npm start wrote before this change, as it is in the project's history.
    writeFileSync(file(), EARLIER);
    assert.equal(writeDemoSettings(dir), 'upgraded');
    assert.equal(readFileSync(file(), 'utf8'), DEMO_SETTINGS);

    const edited = DEMO_SETTINGS.replace("uiHost: '127.0.0.1'", "uiHost: '0.0.0.0'");
    writeFileSync(file(), edited);
    assert.equal(writeDemoSettings(dir), 'user-edited');
    assert.equal(readFileSync(file(), 'utf8'), edited);
  });
});
