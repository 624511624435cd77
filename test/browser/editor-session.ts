import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { nodeRedPackageDir, startNodeRed } from '../../src/demo/node-red-process';
import { OneNetEmulator, type EmulatorDevice } from '../../src/emulator';
import { freePort, installPackedPackage, type PackedInstall } from '../support/packed-install';
import { resetArtifacts } from './artifacts';
import { assertChromiumInstalled, launchChromium, type Chromium } from './chromium';

/**
 * Everything the browser tests share, started once for the whole suite: the packed package installed
 * into a fresh user directory, a real Node-RED serving the editor, the OneNET emulator, and Chromium.
 */

export interface EditorSession {
  /** The editor's address. */
  url: string;
  /** The version of the Node-RED under test, as its package.json states it. */
  nodeRedVersion: string;
  install: PackedInstall;
  emulator: OneNetEmulator;
  browser: Chromium;
  /** A device a test creates by hand in the editor. */
  handMadeDevice: EmulatorDevice;
  /** The device the shipped examples name (demoProduct / demo-device-1). */
  exampleDevice: EmulatorDevice;
  /** Node-RED's console output, for failure messages and the secret checks. */
  nodeRedLog: string[];
  close(): Promise<void>;
}

export interface EditorSessionOptions {
  /**
   * The language of the Node-RED runtime (settings.lang), which composes texts such as a failure
   * status; default: what Node-RED takes from the environment (LC_ALL, LC_MESSAGES, LANG), else en-US.
   * The editor's language is the user's choice in the browser (EditorPage.switchLanguage).
   */
  runtimeLang?: string;
}

// Telemetry off: Node-RED 4.1+ would otherwise open an "update notifications" dialog over the editor.
function settingsFile(options: EditorSessionOptions): string {
  const lang = options.runtimeLang === undefined ? '' : `\n  lang: ${JSON.stringify(options.runtimeLang)},`;
  return `module.exports = {
  uiHost: '127.0.0.1',${lang}
  credentialSecret: 'browser-tests',
  telemetry: { enabled: false },
  editorTheme: { tours: false, projects: { enabled: false } },
  logging: { console: { level: 'warn', metrics: false, audit: false } },
};
`;
}

function randomKey(): string {
  return randomBytes(32).toString('base64');
}

export async function startEditorSession(options: EditorSessionOptions = {}): Promise<EditorSession> {
  // Before the slow part: without a browser the suite must fail at once and say why.
  assertChromiumInstalled();
  const cleanups: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const install = installPackedPackage(settingsFile(options));
    cleanups.push(() => rmSync(install.workDir, { recursive: true, force: true }));

    const handMadeDevice = { productId: 'BrowserProd', deviceName: 'browser-dev-1', key: randomKey() };
    const exampleDevice = { productId: 'demoProduct', deviceName: 'demo-device-1', key: randomKey() };
    const emulator = await OneNetEmulator.start({ devices: [handMadeDevice, exampleDevice] });
    cleanups.push(() => emulator.close());

    const nodeRedLog: string[] = [];
    const nodeRed = await startNodeRed(install.userDir, await freePort(), (line) => nodeRedLog.push(line));
    cleanups.push(() => nodeRed.stop());
    await hideEditorTips(nodeRed.url);

    const browser = await launchChromium();
    cleanups.push(() => browser.close());

    const packageJson = JSON.parse(readFileSync(join(nodeRedPackageDir(), 'package.json'), 'utf8')) as {
      version: string;
    };
    resetArtifacts(packageJson.version);
    return {
      url: nodeRed.url,
      nodeRedVersion: packageJson.version,
      install,
      emulator,
      browser,
      handMadeDevice,
      exampleDevice,
      nodeRedLog,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The rotating tips box covers part of the sidebar in every screenshot; a user can switch it off too. */
async function hideEditorTips(url: string): Promise<void> {
  const response = await fetch(`${url}/settings/user`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ editor: { view: { 'view-show-tips': false } } }),
  });
  if (!response.ok) throw new Error(`POST /settings/user answered ${response.status}`);
}
