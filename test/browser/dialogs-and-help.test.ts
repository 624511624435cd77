import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getFlows } from '../../src/demo/node-red-process';
import { message, type Lang } from './catalogs';
import type { EditorPage } from './editor-page';
import { useEditorSession } from './editor-suite';

/**
 * What the device dialog and the help sidebar tell a user, in a real browser: the reason a key is
 * refused as text under the field (not only a red border), inline code in the help that wraps at
 * the sidebar's default width, and help links that land on the README section they name.
 */

const SAMPLE_KEY = 'KuF3NT/jUBJ62LNBB/A8XZA9CqS3Cu79B/ABmfA1UCw=';

/** Box of an element in page coordinates, as the page measures it. */
interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** GitHub's heading anchors: lower case, punctuation dropped (CJK kept), spaces become hyphens. */
function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function headingSlugs(markdown: string): string[] {
  return [...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map((match) => githubSlug(match[1] ?? ''));
}

describe('the device dialog and the help sidebar in a real browser', function () {
  this.timeout(60_000);
  const suite = useEditorSession();
  const { withEditor } = suite;

  const text = (lang: Lang, key: string, substitutions: Record<string, string | number> = {}) =>
    message(suite.session.install.packageDir, lang, 'onenet-device', key).replace(
      /__(\w+)__/g,
      (_, name: string) => String(substitutions[name]),
    );

  /** The text under a device field that says why its value is refused ('' while none is shown). */
  async function reasonUnder(editor: EditorPage, field: string): Promise<string> {
    const reason = editor.page.locator(`#onenet-device-reason-${field}`);
    return (await reason.isVisible()) ? (await reason.innerText()).trim() : '';
  }

  /** Waits until the reason under `field` reads `expected` exactly ('' : no reason shown). */
  async function waitForReason(editor: EditorPage, field: string, expected: string): Promise<void> {
    const reason = editor.page.locator(`#onenet-device-reason-${field}`);
    if (expected === '') {
      await reason.waitFor({ state: 'hidden', timeout: 5000 });
      return;
    }
    const exactly = new RegExp(`^\\s*${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
    await reason.filter({ hasText: exactly }).waitFor({ state: 'visible', timeout: 5000 });
  }

  async function box(editor: EditorPage, selector: string): Promise<Box> {
    const found = await editor.page.locator(selector).boundingBox();
    assert.ok(found, `${selector} is laid out`);
    return { left: found.x, right: found.x + found.width, top: found.y, bottom: found.y + found.height };
  }

  async function openNewDeviceDialog(editor: EditorPage): Promise<void> {
    const id = await editor.dragIn('onenet-property-post');
    await editor.openForm(id);
    await editor.addDeviceConfig();
  }

  for (const lang of ['en-US', 'zh-CN'] as const) {
    it(`says under the key field why a key is refused (${lang})`, async () => {
      await withEditor(`key-reason-${lang}`, async (editor) => {
        if (lang !== 'en-US') await editor.switchLanguage(lang);
        await openNewDeviceDialog(editor);
        assert.equal(await reasonUnder(editor, 'key'), '', 'a new dialog shows no reason yet');

        await editor.fillDeviceForm({ key: 'not base64!!' });
        const notBase64 = text(lang, 'invalid.keyNotBase64');
        await waitForReason(editor, 'key', notBase64);
        assert.ok((await editor.invalidInputs()).includes('node-config-input-key'), 'and a red border');
        // Near the field: right under the key input, in the same column.
        const input = await box(editor, '#node-config-input-key');
        const reason = await box(editor, '#onenet-device-reason-key');
        assert.ok(reason.top >= input.bottom - 1 && reason.top - input.bottom < 30, 'just below the input');
        assert.ok(reason.left < input.right && reason.right > input.left, 'under the input, not beside it');
        await editor.screenshot(`config-dialog-key-reason-${lang}`);

        if (lang === 'en-US') {
          await editor.fillDeviceForm({ key: SAMPLE_KEY.slice(0, 41) });
          await waitForReason(editor, 'key', text(lang, 'invalid.keyLength', { length: 41 }));
          await editor.fillDeviceForm({ key: '' });
          await waitForReason(editor, 'key', text(lang, 'invalid.keyEmpty'));
          await editor.fillDeviceForm({ productId: 'bad id!' });
          await waitForReason(editor, 'productId', text(lang, 'invalid.productId'));
        }
        await editor.fillDeviceForm({ key: SAMPLE_KEY });
        await waitForReason(editor, 'key', '');
        assert.ok(
          !(await editor.invalidInputs()).includes('node-config-input-key'),
          'a good key is accepted',
        );
        await editor.closeConfigForm('cancel');
        await editor.closeForm('cancel');
      });
    });
  }

  it('offers the uplink rate on the connection tab, says why a value is refused, and saves a good one', async () => {
    const device = suite.session.handMadeDevice;
    await withEditor('uplink-rate', async (editor) => {
      const id = await editor.dragIn('onenet-property-post');
      await editor.openForm(id);
      await editor.addDeviceConfig();
      await editor.showDeviceTab('connection');
      const field = editor.page.locator('#node-config-input-uplinkRate');
      await field.waitFor({ state: 'visible' });
      assert.equal(
        await editor.fieldLabel('node-config-input-uplinkRate'),
        text('en-US', 'label.uplinkRate'),
      );
      assert.equal(
        await field.getAttribute('placeholder'),
        '1',
        'the placeholder shows the default, 1 a second',
      );
      assert.equal(await field.inputValue(), '', 'empty by default (meaning 1)');
      assert.equal(await reasonUnder(editor, 'uplinkRate'), '', 'a new dialog shows no reason yet');
      assert.ok(!(await editor.invalidInputs()).includes('node-config-input-uplinkRate'), 'empty is fine');

      for (const bad of ['fast', '-1', '1001']) {
        await editor.fillField('#node-config-input-uplinkRate', bad);
        await waitForReason(editor, 'uplinkRate', text('en-US', 'invalid.uplinkRate'));
        assert.ok(
          (await editor.invalidInputs()).includes('node-config-input-uplinkRate'),
          `"${bad}" is marked invalid`,
        );
      }
      await editor.screenshot('config-dialog-uplink-rate-reason-en-US');
      await editor.fillField('#node-config-input-uplinkRate', '');
      await waitForReason(editor, 'uplinkRate', '');

      await editor.showDeviceTab('device');
      await editor.fillDeviceForm({
        name: 'rate device',
        productId: device.productId,
        deviceName: device.deviceName,
        key: device.key,
        tls: false,
        host: suite.session.emulator.host,
        port: String(suite.session.emulator.port),
        uplinkRate: '2.5',
      });
      await waitForReason(editor, 'uplinkRate', '');
      assert.deepEqual(await editor.invalidInputs(), []);
      await editor.closeConfigForm('ok');
      await editor.closeForm('ok');
      assert.match(await editor.deploy(), /Successfully deployed/);
      // The runtime took the value: a rate it refused would show "device config error" instead.
      await editor.waitForStatus(id, /^connected$/);

      const exported = await editor.exportAllFlows();
      const config = exported.find((n) => n.type === 'onenet-device' && n.name === 'rate device');
      assert.equal(config?.uplinkRate, '2.5', 'the export carries the uplink rate');
      const deployed = (await getFlows(suite.session.url)).find((n) => n.type === 'onenet-device');
      assert.equal(deployed?.uplinkRate, '2.5', 'and so does the deployed flow');

      // Opened again, the dialog shows the saved value, accepted.
      await editor.openForm(id);
      await editor.page.locator('#node-input-btn-device-edit').click();
      await editor.page.locator('#node-config-input-productId').waitFor({ state: 'visible' });
      await editor.showDeviceTab('connection');
      assert.equal(await field.inputValue(), '2.5');
      assert.equal(await reasonUnder(editor, 'uplinkRate'), '');
      await editor.closeConfigForm('cancel');
      await editor.closeForm('cancel');
    });
  });

  it('wraps long inline code in the help at the default sidebar width', async () => {
    await withEditor('help-wrap', async (editor) => {
      await editor.invoke('core:show-help-tab');
      // The reply node's help names the longest topics, e.g. .../thing/service/{identifier}/invoke_reply.
      await editor.showHelp('onenet-command-reply');
      // Node-RED's help section (the inner .red-ui-help holds one node's text), inside a scrolling panel.
      const panel = editor.page.locator('.red-ui-sidebar-help-stack .red-ui-help').first();
      const longest = panel.locator('code', { hasText: '/invoke_reply' }).first();
      await longest.waitFor({ state: 'visible' });
      const measured = await panel.evaluate((help) => {
        const right = help.getBoundingClientRect().right;
        const codes = [...help.querySelectorAll('code')];
        return {
          panelRight: right,
          panelWidth: help.getBoundingClientRect().width,
          overflowing: codes
            .filter((code) => code.getBoundingClientRect().right > right + 1)
            .map((code) => code.textContent ?? ''),
          // An element broken over lines has one client rect per line.
          wrapped: codes
            .filter((code) => code.getClientRects().length > 1)
            .map((code) => code.textContent ?? ''),
          scrollsSideways: help.parentElement!.scrollWidth > help.parentElement!.clientWidth + 1,
        };
      });
      assert.ok(
        measured.panelWidth > 150 && measured.panelWidth < 500,
        `a default-width sidebar: ${measured.panelWidth}`,
      );
      assert.deepEqual(measured.overflowing, [], 'inline code that runs past the help panel');
      assert.equal(measured.scrollsSideways, false, 'the help panel needs no sideways scrolling');
      assert.ok(
        measured.wrapped.some((code) => code.includes('/invoke_reply')),
        `the long topic wraps over lines: ${measured.wrapped.join(' | ')}`,
      );
      await editor.screenshot('help-sidebar-wrapped-code', editor.page.locator('#red-ui-sidebar'));
    });
  });

  it("links each node's help to the README's troubleshooting section, which exists", async () => {
    const readme = {
      'en-US': headingSlugs(readFileSync(join(suite.session.install.packageDir, 'README.md'), 'utf8')),
      'zh-CN': headingSlugs(readFileSync(join(suite.session.install.packageDir, 'README.zh-CN.md'), 'utf8')),
    };
    const linkText: Record<Lang, string> = { 'en-US': 'troubleshooting', 'zh-CN': '常见问题' };
    await withEditor('help-links', async (editor) => {
      for (const lang of ['en-US', 'zh-CN'] as const) {
        if (lang !== 'en-US') await editor.switchLanguage(lang);
        await editor.invoke('core:show-help-tab');
        for (const type of [
          'onenet-device',
          'onenet-property-post',
          'onenet-event-post',
          'onenet-command-in',
          'onenet-command-reply',
        ]) {
          await editor.showHelp(type);
          const link = editor.page
            .locator('.red-ui-sidebar-help-stack .red-ui-help a', { hasText: linkText[lang] })
            .first();
          await link.waitFor({ state: 'visible' });
          const href = new URL((await link.getAttribute('href')) ?? '');
          const file = href.pathname.endsWith('/README.zh-CN.md') ? 'zh-CN' : 'en-US';
          assert.equal(file, lang, `${lang} ${type}: the README in the help's language`);
          assert.match(href.pathname, /^\/iot-flows\/node-red-onenet(\/blob\/HEAD\/README\.zh-CN\.md)?$/);
          const anchor = decodeURIComponent(href.hash.slice(1));
          assert.equal(
            anchor,
            githubSlug(linkText[lang] === 'troubleshooting' ? 'Troubleshooting' : '常见问题'),
          );
          assert.ok(readme[file].includes(anchor), `${lang} ${type}: README has a heading for #${anchor}`);
          // Every other README link of the help lands on an existing heading too.
          const hrefs = await editor.page
            .locator('.red-ui-sidebar-help-stack .red-ui-help a[href*="iot-flows/node-red-onenet"]')
            .evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
          for (const other of hrefs) {
            const url = new URL(other);
            const target = url.pathname.endsWith('/README.zh-CN.md') ? 'zh-CN' : 'en-US';
            assert.ok(
              readme[target].includes(decodeURIComponent(url.hash.slice(1))),
              `${lang} ${type}: ${other} has a README heading`,
            );
          }
        }
      }
    });
  });
});
