import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The settings.js of the demo's user directory. Written when absent, and upgraded when it is still
 * exactly what an earlier `npm start` wrote (so nothing of the user's is lost); a settings file the
 * user edited is left as it is.
 */

export const DEMO_SETTINGS = `module.exports = {
  flowFile: 'flows.json',
  // Credentials are encrypted with this fixed secret: fine for a local demo, never for production.
  credentialSecret: 'onenet-demo',
  // npm start passes HOST over this (node-red -D uiHost=...); loopback keeps the editor, which has
  // no login, off the network.
  uiHost: '127.0.0.1',
  telemetry: { enabled: false },
  logging: { console: { level: 'info', metrics: false, audit: false } },
  // Projects are off unless enabled is true. Node-RED warns "Projects disabled" at every start both
  // when enabled is false and when projects is missing, and says nothing for an object without it.
  editorTheme: { tours: false, palette: {}, projects: {} },
};
`;

/** What the first releases of the demo wrote; replaced by DEMO_SETTINGS on the next start. */
const EARLIER_DEMO_SETTINGS = [
  `module.exports = {
  flowFile: 'flows.json',
  // Credentials are encrypted with this fixed secret: fine for a local demo, never for production.
  credentialSecret: 'onenet-demo',
  uiHost: '127.0.0.1',
  telemetry: { enabled: false },
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { tours: false, palette: {}, projects: { enabled: false } },
};
`,
];

export type SettingsOutcome = 'written' | 'upgraded' | 'current' | 'user-edited';

export function writeDemoSettings(userDir: string): SettingsOutcome {
  const file = join(userDir, 'settings.js');
  if (!existsSync(file)) {
    writeFileSync(file, DEMO_SETTINGS);
    return 'written';
  }
  const current = readFileSync(file, 'utf8');
  if (current === DEMO_SETTINGS) return 'current';
  if (!EARLIER_DEMO_SETTINGS.includes(current)) return 'user-edited';
  writeFileSync(file, DEMO_SETTINGS);
  return 'upgraded';
}
