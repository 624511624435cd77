import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, type Chromium } from '../browser/chromium';
import { EditorPage } from '../browser/editor-page';
import { nodeRedPackageDir } from '../../src/demo/node-red-process';
import { startDemo, type DemoProcess } from '../demo/demo-process';
import { REPO_ROOT, freePort } from './packed-install';

/**
 * `npm run screenshot`: makes docs/screenshot-editor.png, the picture at the top of the README, from
 * the demo as `npm start` runs it: the example tabs deployed, the emulator connected, the simulated
 * console sending commands. It runs in a directory of its own on free ports, so a running demo and
 * the user's .node-red-demo are left alone.
 */

const OUTPUT = join(REPO_ROOT, 'docs', 'screenshot-editor.png');
const EXAMPLE_TAB = 'ex01-tab';
const EXAMPLE_POST = 'ex01-post';
const EXAMPLE_TABS = 5;

declare const RED: { nodes: { eachWorkspace(visit: (tab: { id: string }) => void): void } };

async function main(): Promise<void> {
  const userDir = mkdtempSync(join(tmpdir(), 'onenet-screenshot-'));
  let demo: DemoProcess | undefined;
  let browser: Chromium | undefined;
  try {
    const port = await freePort();
    demo = startDemo({
      ...process.env,
      PORT: String(port),
      ONENET_EMULATOR_PORT: '0',
      ONENET_DEMO_DIR: userDir,
      // Commands every 3 s, so the Debug sidebar shows a property set and a service invoke too.
      ONENET_DEMO_INTERVAL_MS: '3000',
    });
    const [, url] = await demo.waitFor(/Node-RED with the OneNET nodes:\s+(\S+)/, 120_000);
    console.log(`demo running at ${url}`);
    // The rotating tips box would cover part of the sidebar.
    const tips = await fetch(`${url}/settings/user`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ editor: { view: { 'view-show-tips': false } } }),
    });
    if (!tips.ok) throw new Error(`POST /settings/user answered ${tips.status}`);

    browser = await launchChromium();
    const version = (
      JSON.parse(readFileSync(join(nodeRedPackageDir(), 'package.json'), 'utf8')) as { version: string }
    ).version;
    const editor = await EditorPage.open({ url: url!, browser, nodeRedVersion: version });
    await editor.page.waitForFunction((count) => {
      let tabs = 0;
      RED.nodes.eachWorkspace(() => tabs++);
      return tabs >= count;
    }, EXAMPLE_TABS);
    await editor.showWorkspace(EXAMPLE_TAB);
    await editor.waitForStatus(EXAMPLE_POST, /^connected$/, 30_000);

    await editor.invoke('core:show-debug-tab');
    const messages = editor.page.locator('.red-ui-debug-msg');
    // A post accepted by OneNET and at least one command from the simulated console.
    await messages.filter({ hasText: 'accepted by OneNET' }).first().waitFor({ timeout: 30_000 });
    await messages
      .filter({ hasText: /property set|service invoked|answered/ })
      .first()
      .waitFor({ timeout: 30_000 });
    await editor.filterPalette('onenet');
    // The other categories fold away with an animation; the picture waits until only OneNET is left.
    const shownCategories = editor.page.locator('#red-ui-palette-container .red-ui-palette-category:visible');
    const deadline = Date.now() + 10_000;
    while ((await shownCategories.count()) !== 1) {
      if (Date.now() > deadline) throw new Error('the palette filter left more than the OneNET category');
      await editor.page.waitForTimeout(100);
    }
    const accepted = messages.filter({ hasText: 'accepted by OneNET' }).first();
    await accepted.locator('.red-ui-debug-msg-object-handle').first().click();
    await editor.page.mouse.move(600, 700); // off the nodes: no hover highlight in the picture
    // Tooltips (the tab label from showing the tab) fade once the pointer has left.
    await editor.page
      .locator('.red-ui-popover:visible')
      .first()
      .waitFor({ state: 'hidden', timeout: 10_000 });
    await editor.waitForNotificationsToClose();
    await editor.page.screenshot({ path: OUTPUT });
    console.log(`wrote ${OUTPUT} (Node-RED ${version})`);
    await editor.close();
  } finally {
    await browser?.close();
    if (demo) {
      const code = await demo.stop(15_000).catch(() => {
        demo?.kill();
        return null;
      });
      if (code !== 0) console.log(`the demo ended with code ${String(code)}:\n${demo.output()}`);
    }
    rmSync(userDir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(`screenshot: ${err.message}`);
  process.exit(1);
});
