import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { getFlows } from '../../src/demo/node-red-process';
import type { EmulatorDevice } from '../../src/emulator';
import { REPO_ROOT, waitFor } from '../support/packed-install';
import { CHINESE, FLOW_NODE_TYPES, helpIntro, ICONS, message, type Lang } from './catalogs';
import { useEditorSession } from './editor-suite';

/**
 * The editor in a real browser, as a user meets it: the packed package installed into a real
 * Node-RED, Chromium clicking through palette, forms, deploy, sidebars and Import > Examples, and the
 * OneNET emulator on the other end. Screenshots go to test-artifacts/browser/.
 */

describe('the editor in a real browser', function () {
  this.timeout(60_000);
  const suite = useEditorSession();
  const { withEditor } = suite;

  const text = (lang: Lang, type: string, key: string) =>
    message(suite.session.install.packageDir, lang, type, key);
  const deviceFields = (device: EmulatorDevice, name: string) => ({
    name,
    productId: device.productId,
    deviceName: device.deviceName,
    key: device.key,
    tls: false,
    host: suite.session.emulator.host,
    port: String(suite.session.emulator.port),
  });

  it('is the editor of the Node-RED under test', async () => {
    await withEditor('version', async (editor) => {
      const version = await editor.version();
      assert.ok(
        version.startsWith(suite.session.nodeRedVersion),
        `editor says ${version}, expected ${suite.session.nodeRedVersion}`,
      );
    });
  });

  it('shows the OneNET palette category with the four flow nodes, their labels and icons', async () => {
    await withEditor('palette', async (editor) => {
      const header = editor.paletteCategory.locator('.red-ui-palette-header');
      assert.equal((await header.innerText()).trim(), 'OneNET');
      const nodes = editor.paletteCategory.locator('.red-ui-palette-node');
      assert.deepEqual(
        await nodes.evaluateAll((all) => all.map((n) => n.getAttribute('data-palette-type'))),
        [...FLOW_NODE_TYPES],
      );
      for (const type of FLOW_NODE_TYPES) {
        const node = editor.paletteNode(type);
        assert.equal(await node.getAttribute('data-palette-label'), text('en-US', type, 'paletteLabel'));
        const icon = await node.locator('.red-ui-palette-icon-container').getAttribute('data-palette-icon');
        assert.equal(icon, `icons/@iot-flows/node-red-onenet/${ICONS[type]}`, `${type} icon`);
        const served = await editor.page.request.get(`${suite.session.url}/${icon}`);
        assert.equal(served.status(), 200, `${icon} is served`);
        assert.match(served.headers()['content-type'] ?? '', /svg/);
        const shipped = readFileSync(
          join(suite.session.install.packageDir, 'nodes', 'icons', ICONS[type]),
          'utf8',
        );
        assert.equal(await served.text(), shipped, `${icon} is the shipped icon`);
      }
      // The config node lives in the configuration-nodes sidebar, never in the palette.
      assert.equal(await editor.paletteNode('onenet-device').count(), 0);

      await editor.filterPalette('onenet');
      await editor.screenshot('palette', editor.page.locator('#red-ui-palette'));
    });
  });

  it('drags a property post node in and opens its form', async () => {
    await withEditor('property-post-form', async (editor) => {
      const id = await editor.dragIn('onenet-property-post');
      await editor.canvasNode(id).waitFor();
      await editor.openForm(id);
      for (const field of ['device', 'waitReply', 'timeout']) {
        assert.equal(
          await editor.fieldLabel(`node-input-${field}`),
          text('en-US', 'onenet-property-post', `label.${field}`),
        );
      }
      const device = editor.page.locator('#node-input-device');
      assert.match(
        await device.locator('option:checked').innerText(),
        new RegExp(text('en-US', 'onenet-device', 'paletteLabel')),
        'a new node offers to add a OneNET device',
      );
      assert.equal(
        await editor.page.isChecked('#node-input-waitReply'),
        true,
        'waits for the reply by default',
      );
      assert.equal(await editor.page.inputValue('#node-input-timeout'), '5000');
      await editor.closeForm('cancel');
      const [node] = (await editor.flowNodes()).filter((n) => n.id === id);
      assert.equal(node?.valid, false, 'a post node without a device is flagged as not configured');
    });
  });

  it('flags bad device values in the config form and warns before deploying them', async () => {
    await withEditor('config-invalid', async (editor) => {
      const id = await editor.dragIn('onenet-property-post');
      await editor.openForm(id);
      await editor.addDeviceConfig();
      await editor.fillDeviceForm({ productId: 'bad id!', key: 'not base64!!', port: '99999' });

      const invalid = await editor.invalidInputs();
      for (const field of ['productId', 'deviceName', 'key']) {
        assert.ok(
          invalid.includes(`node-config-input-${field}`),
          `${field} is marked invalid: ${invalid.join()}`,
        );
      }
      assert.equal(
        await editor.validationMessage('#node-config-input-productId'),
        text('en-US', 'onenet-device', 'invalid.productId'),
      );
      await editor.showDeviceTab('connection');
      assert.ok(
        (await editor.invalidInputs()).includes('node-config-input-port'),
        'port 99999 is marked invalid',
      );
      assert.equal(
        await editor.validationMessage('#node-config-input-port'),
        text('en-US', 'onenet-device', 'invalid.port'),
      );
      await editor.showDeviceTab('device');
      await editor.screenshot('config-dialog-invalid-en-US');

      await editor.closeConfigForm('ok');
      await editor.closeForm('ok');
      const warning = await editor.deploy();
      assert.match(warning, /not properly configured/);
      assert.match(warning, /onenet-device/);
      await editor.notification.getByRole('button', { name: 'Cancel' }).click();
      const deployed = await getFlows(suite.session.url);
      assert.ok(!deployed.some((n) => n.type.startsWith('onenet-')), 'nothing was deployed');
    });
  });

  it('creates a device config node with good values, deploys, and the node shows connected', async () => {
    const device = suite.session.handMadeDevice;
    await withEditor('config-valid', async (editor) => {
      const id = await editor.dragIn('onenet-property-post');
      await editor.openForm(id);
      await editor.addDeviceConfig();
      await editor.fillDeviceForm(deviceFields(device, 'browser device'));
      assert.deepEqual(await editor.invalidInputs(), []);
      await editor.screenshot('config-dialog-en-US');
      await editor.closeConfigForm('ok');
      assert.match(
        await editor.page.locator('#node-input-device option:checked').innerText(),
        /browser device/,
      );
      await editor.closeForm('ok');

      assert.match(await editor.deploy(), /Successfully deployed/);
      await editor.waitForStatus(id, /^connected$/);
      assert.ok(
        suite.session.emulator.connections().some((c) => c.deviceName === device.deviceName),
        'the emulator saw the device log in',
      );

      // Once used, the config node is listed in the configuration-nodes sidebar.
      await editor.invoke('core:show-config-tab');
      const entry = editor.page.locator('#red-ui-sidebar-config-category-global .red-ui-palette-node', {
        hasText: 'browser device',
      });
      await entry.waitFor({ state: 'visible' });
      assert.equal((await entry.innerText()).replace(/\s+/g, ' ').trim(), 'browser device 1', 'one user');

      const exported = JSON.stringify(await getFlows(suite.session.url));
      assert.ok(
        exported.includes('browser device') && !exported.includes(device.key),
        'the key stays out of the flows',
      );
      assert.ok(!suite.session.nodeRedLog.join('\n').includes(device.key), 'the key stays out of the log');
    });
  });

  it("shows the selected node's help in the help sidebar, for all five node types", async () => {
    await withEditor('help', async (editor) => {
      const id = await editor.dragIn('onenet-property-post');
      await editor.canvasNode(id).click();
      await editor.invoke('core:show-help-tab');
      const intro = helpIntro(suite.session.install.packageDir, 'en-US', 'onenet-property-post');
      await editor.page.getByText(intro).first().waitFor({ state: 'visible' });
      await editor.screenshot('help-sidebar-en-US');
      for (const type of ['onenet-device', ...FLOW_NODE_TYPES]) {
        await editor.showHelp(type);
        // While the sidebar swaps one help page for the next, both may be in the page for a moment.
        await editor.page
          .getByText(helpIntro(suite.session.install.packageDir, 'en-US', type))
          .first()
          .waitFor({ state: 'visible' });
      }
    });
  });

  it('speaks Chinese once the user picks zh-CN: palette, form, validation and help', async () => {
    await withEditor('zh-CN', async (editor) => {
      await editor.switchLanguage('zh-CN');
      for (const type of FLOW_NODE_TYPES) {
        const label = text('zh-CN', type, 'paletteLabel');
        assert.match(label, CHINESE);
        assert.equal(await editor.paletteNode(type).getAttribute('data-palette-label'), label);
      }
      const id = await editor.dragIn('onenet-property-post');
      await editor.openForm(id);
      assert.equal(
        await editor.fieldLabel('node-input-timeout'),
        text('zh-CN', 'onenet-property-post', 'label.timeout'),
      );
      await editor.addDeviceConfig();
      for (const field of ['productId', 'deviceName', 'key']) {
        const label = text('zh-CN', 'onenet-device', `label.${field}`);
        assert.match(label, CHINESE);
        assert.equal(await editor.fieldLabel(`node-config-input-${field}`), label);
      }
      assert.equal(
        await editor.deviceTab('connection').innerText(),
        text('zh-CN', 'onenet-device', 'tabs.connection'),
      );
      await editor.fillDeviceForm({ productId: 'bad id!' });
      assert.equal(
        await editor.validationMessage('#node-config-input-productId'),
        text('zh-CN', 'onenet-device', 'invalid.productId'),
      );
      await editor.fillDeviceForm(deviceFields(suite.session.handMadeDevice, '浏览器测试设备'));
      await editor.page.locator('#node-config-input-name').hover();
      await editor.screenshot('config-dialog-zh-CN');
      await editor.closeConfigForm('ok');
      await editor.closeForm('ok');

      await editor.canvasNode(id).click();
      await editor.invoke('core:show-help-tab');
      const intro = helpIntro(suite.session.install.packageDir, 'zh-CN', 'onenet-property-post');
      assert.match(intro, CHINESE);
      await editor.page.getByText(intro).first().waitFor({ state: 'visible' });
    });
  });

  for (const file of readdirSync(join(REPO_ROOT, 'examples')).filter((f) => f.endsWith('.json'))) {
    const example = basename(file, '.json');
    it(`imports the example "${example}" from Import > Examples`, async () => {
      const flow = JSON.parse(
        readFileSync(join(suite.session.install.packageDir, 'examples', file), 'utf8'),
      ) as Array<{
        id: string;
        type: string;
        label?: string;
      }>;
      await withEditor(`import-${example}`, async (editor) => {
        assert.match(await editor.importExample(example), /Imported/);
        const tab = flow.find((n) => n.type === 'tab')!;
        assert.deepEqual(
          (await editor.workspaces()).filter((w) => w.id === tab.id),
          [{ id: tab.id, label: tab.label }],
          'the example comes in its own tab',
        );
        const imported = [...(await editor.flowNodes()), ...(await editor.configNodes())];
        for (const node of flow.filter((n) => n.type !== 'tab')) {
          assert.ok(
            imported.some((n) => n.id === node.id && n.type === node.type),
            `${node.type} ${node.id} was imported`,
          );
        }
        const invalid = imported.filter((n) => !n.valid).map((n) => n.type);
        assert.deepEqual(invalid, [], 'every imported node is valid');
      });
    });
  }

  it('runs an imported example against the emulator once the device key is entered', async () => {
    const device = suite.session.exampleDevice;
    await withEditor('example-running', async (editor) => {
      await editor.importExample('01 - Post a sensor reading every 5 s');
      await editor.showWorkspace('ex01-tab');
      await editor.openForm('ex01-post');
      // On a loaded machine the edit button can be clicked before the dialog has bound its handler;
      // a click that opened nothing is tried again (one that did open stops the loop).
      const configForm = editor.page.locator('#node-config-input-productId');
      for (let attempt = 1; ; attempt++) {
        await editor.page
          .locator('#node-input-btn-device-edit')
          .click({ timeout: 10_000 })
          .catch(() => undefined);
        try {
          await configForm.waitFor({ state: 'visible', timeout: 8000 });
          break;
        } catch (err) {
          if (attempt === 3) throw err;
        }
      }
      await editor.fillDeviceForm({
        key: device.key,
        host: suite.session.emulator.host,
        port: String(suite.session.emulator.port),
      });
      await editor.closeConfigForm('ok');
      await editor.closeForm('ok');
      assert.match(await editor.deploy(), /Successfully deployed/);

      const post = await waitFor(
        'a property post from the example',
        () => suite.session.emulator.uplinks(device).find((u) => u.kind === 'property-post'),
        20_000,
      );
      assert.ok(post);
      await editor.invoke('core:show-debug-tab');
      await editor.page.locator('.red-ui-debug-msg').first().waitFor({ state: 'visible', timeout: 20_000 });
      await editor.waitForStatus('ex01-post', /^(connected|replied 200)$/);

      await editor.filterPalette('onenet');
      // The example's debug node shows msg.onenet, what a user checks after a post, not the whole msg.
      // The first one: the example posts every 5 s, so the last one changes while the test reads it.
      const accepted = editor.page.locator('.red-ui-debug-msg', { hasText: 'accepted by OneNET' }).first();
      await accepted.waitFor({ state: 'visible', timeout: 20_000 });
      assert.match(await accepted.locator('.red-ui-debug-msg-topic').innerText(), /^msg\.onenet : Object/);
      await accepted.locator('.red-ui-debug-msg-object-handle').first().click();
      const code = accepted.locator('.red-ui-debug-msg-object-entry', {
        has: editor.page.locator('.red-ui-debug-msg-object-key:text-is("code")'),
      });
      assert.match(await code.innerText(), /code\s*:?\s*200/);
      await editor.page.mouse.move(600, 650); // off the nodes: no hover highlight in the picture
      await editor.waitForNotificationsToClose();
      await editor.screenshot('example-running');
    });
  });
});
