import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deployFlows, nodeRedPackageDir } from '../../src/demo/node-red-process';
import type { EmulatorDevice } from '../../src/emulator';
import { message, type Lang } from './catalogs';
import { EditorPage } from './editor-page';
import { startEditorSession, type EditorSession } from './editor-session';

/**
 * What the status under a flow node says after a failed message, in the real editor's canvas: the
 * cause ("invalid: …" for a refused payload, "offline: auth failed" for a device with a wrong key) for
 * a few seconds, then the connection's state again. Each language runs against a Node-RED whose
 * runtime speaks it, as a user's does: the runtime composes the failure texts, the editor translates
 * the fixed ones.
 */

const TAB = 'statuses-tab';
const GOOD_CONFIG = 'statuses-good-device';
const BAD_KEY_CONFIG = 'statuses-bad-key-device';
const INVALID_INJECT = 'statuses-inject-invalid';
const INVALID_POST = 'statuses-post-invalid';
const OFFLINE_INJECT = 'statuses-inject-offline';
const OFFLINE_POST = 'statuses-post-offline';

/** How long a failure status may take to return to the connection's (it is held for 5 s). */
const RETURN_TIMEOUT_MS = 20_000;

function randomKey(): string {
  return randomBytes(32).toString('base64');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Exactly `text`, as the whole status label. */
function exactly(text: string): RegExp {
  return new RegExp(`^${escapeRegExp(text)}$`);
}

/** Node-RED's own status texts (connected, connecting, …), which our nodes show by key. */
function coreStatus(lang: Lang, key: 'connected' | 'connecting'): string {
  const nodesPackage = require.resolve('@node-red/nodes/package.json', { paths: [nodeRedPackageDir()] });
  const file = join(dirname(nodesPackage), 'locales', lang, 'messages.json');
  const catalog = JSON.parse(readFileSync(file, 'utf8')) as { common: { status: Record<string, string> } };
  return catalog.common.status[key]!;
}

function inject(id: string, payload: string, target: string, y: number): Record<string, unknown> {
  return {
    id,
    type: 'inject',
    z: TAB,
    name: '',
    props: [{ p: 'payload' }],
    repeat: '',
    crontab: '',
    once: false,
    onceDelay: 0.1,
    topic: '',
    payload,
    payloadType: 'json',
    x: 140,
    y,
    wires: [[target]],
  };
}

function post(id: string, device: string, y: number): Record<string, unknown> {
  return {
    id,
    type: 'onenet-property-post',
    z: TAB,
    name: '',
    device,
    waitReply: true,
    timeout: '5000',
    x: 400,
    y,
    wires: [[]],
  };
}

function deviceConfig(id: string, device: EmulatorDevice, key: string, session: EditorSession) {
  return {
    id,
    type: 'onenet-device',
    name: `${device.deviceName} device`,
    productId: device.productId,
    deviceName: device.deviceName,
    host: session.emulator.host,
    port: String(session.emulator.port),
    tls: false,
    tlsConfig: '',
    signMethod: 'sha256',
    tokenTtl: '2592000',
    keepalive: '120',
    offlinePolicy: 'fail',
    uplinkRate: '',
    credentials: { key },
  };
}

for (const lang of ['en-US', 'zh-CN'] as const) {
  describe(`failure statuses in the editor's canvas (${lang})`, function () {
    this.timeout(60_000);
    let session: EditorSession;
    /** A device the emulator knows, configured with a key that is not its own. */
    let badKeyDevice: EmulatorDevice;

    before(async function () {
      this.timeout(180_000);
      session = await startEditorSession({ runtimeLang: lang });
      badKeyDevice = { productId: 'BrowserProd', deviceName: `browser-bad-key-${lang}`, key: randomKey() };
      session.emulator.addDevice(badKeyDevice);
    });

    after(async () => {
      await session?.close();
    });

    const text = (key: string, substitutions: Record<string, string | number> = {}) =>
      message(session.install.packageDir, lang, 'onenet-device', key).replace(
        /__(\w+)__/g,
        (_, name: string) => String(substitutions[name]),
      );

    async function withFlow(name: string, body: (editor: EditorPage) => Promise<void>) {
      await deployFlows(session.url, [
        { id: TAB, type: 'tab', label: 'statuses', disabled: false, info: '' },
        deviceConfig(GOOD_CONFIG, session.handMadeDevice, session.handMadeDevice.key, session),
        deviceConfig(BAD_KEY_CONFIG, badKeyDevice, randomKey(), session),
        // A property value may not be null: the post refuses it before anything is sent.
        inject(INVALID_INJECT, '{"temperature": null}', INVALID_POST, 80),
        post(INVALID_POST, GOOD_CONFIG, 80),
        inject(OFFLINE_INJECT, '{"temperature": 21.5}', OFFLINE_POST, 160),
        post(OFFLINE_POST, BAD_KEY_CONFIG, 160),
      ]);
      const editor = await EditorPage.open(session);
      try {
        if (lang !== 'en-US') await editor.switchLanguage(lang);
        await editor.showWorkspace(TAB);
        await body(editor);
        assert.deepEqual(editor.pageErrors, [], 'uncaught errors in the editor page');
      } catch (error) {
        await editor.screenshot(`failed-statuses-${name}-${lang}`).catch(() => undefined);
        throw error;
      } finally {
        await editor.close();
        await deployFlows(session.url, []);
      }
    }

    /** Clicks the button on the left of an inject node in the canvas, as a user triggers it. */
    async function clickInject(editor: EditorPage, id: string): Promise<void> {
      await editor.canvasNode(id).locator('.red-ui-flow-node-button').click();
    }

    it('names a refused payload under the node, then shows the connection again', async () => {
      await withFlow('invalid', async (editor) => {
        const connected = exactly(coreStatus(lang, 'connected'));
        await editor.waitForStatus(INVALID_POST, connected);

        await clickInject(editor, INVALID_INJECT);
        const refused = exactly(text('status.failed.invalid', { detail: 'payload.temperature is null' }));
        await editor.waitForStatus(INVALID_POST, refused);
        assert.equal(await editor.statusShape(INVALID_POST), 'ring-red', 'a failure shows a red ring');
        await editor.screenshot(`status-invalid-${lang}`, editor.page.locator('#red-ui-workspace-chart'));
        assert.ok(
          !session.emulator.uplinks(session.handMadeDevice).some((u) => u.kind === 'property-post'),
          'nothing was sent for the refused message',
        );

        await editor.waitForStatus(INVALID_POST, connected, RETURN_TIMEOUT_MS);
        assert.equal(await editor.statusShape(INVALID_POST), 'dot-green');
      });
    });

    it('says a post failed because the login was refused, then shows the auth failure again', async () => {
      await withFlow('offline', async (editor) => {
        const authFailed = exactly(text('status.auth-failed'));
        await editor.waitForStatus(OFFLINE_POST, authFailed);

        await clickInject(editor, OFFLINE_INJECT);
        const offline = exactly(text('status.failed.offline', { cause: text('status.cause.auth-failed') }));
        await editor.waitForStatus(OFFLINE_POST, offline);
        assert.equal(await editor.statusShape(OFFLINE_POST), 'ring-red', 'a failure shows a red ring');
        await editor.screenshot(`status-offline-${lang}`, editor.page.locator('#red-ui-workspace-chart'));

        await editor.waitForStatus(OFFLINE_POST, authFailed, RETURN_TIMEOUT_MS);
        assert.equal(await editor.statusShape(OFFLINE_POST), 'dot-red');
        // The other device's node was not disturbed.
        assert.match(await editor.statusText(INVALID_POST), exactly(coreStatus(lang, 'connected')));
      });
    });
  });
}
