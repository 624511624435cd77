import type { Locator, Page } from 'playwright-core';
import { artifactPath } from './artifacts';
import type { EditorRed, JQueryLike, NodeSummary } from './editor-globals';
import type { EditorSession } from './editor-session';

/**
 * One browser tab on the Node-RED editor, with the gestures a user makes: drag from the palette,
 * double-click to edit, fill forms, deploy, open sidebars, import examples. Selectors are Node-RED's
 * own element ids, which both Node-RED 4 and 5 keep; text is only matched where a test means it.
 */

declare const RED: EditorRed;
declare const $: JQueryLike;

export const PACKAGE_NAME = '@iot-flows/node-red-onenet';
const ONENET_PALETTE = '#red-ui-palette-container-OneNET';

/** What a tab needs of the Node-RED it opens: its address, a browser, and its version for artifacts. */
export type EditorTarget = Pick<EditorSession, 'url' | 'browser' | 'nodeRedVersion'>;

export interface DeviceForm {
  name?: string;
  productId?: string;
  deviceName?: string;
  key?: string;
  tls?: boolean;
  host?: string;
  port?: string;
  uplinkRate?: string;
}

export class EditorPage {
  /** Uncaught exceptions thrown in the page: our editor scripts must not cause any. */
  readonly pageErrors: string[] = [];

  private constructor(
    readonly page: Page,
    private readonly session: EditorTarget,
  ) {
    page.on('pageerror', (error) => this.pageErrors.push(error.message));
  }

  /** The editor in a new browser profile, as a first-time visitor sees it. */
  static async open(session: EditorTarget): Promise<EditorPage> {
    const context = await session.browser.newContext();
    const editor = new EditorPage(await context.newPage(), session);
    await editor.page.goto(`${session.url}/`);
    await editor.waitUntilLoaded();
    return editor;
  }

  private async waitUntilLoaded(): Promise<void> {
    await this.page.locator(`${ONENET_PALETTE} .red-ui-palette-node`).first().waitFor();
    await this.page.waitForFunction(() => Boolean(RED.workspaces.active()));
  }

  /**
   * Settings > View > Language, then a reload, which is how a user switches the editor's language
   * (Node-RED keeps the choice in the browser and applies it on the next load).
   */
  async switchLanguage(lang: string): Promise<void> {
    await this.page.locator('#red-ui-header-button-sidemenu').click();
    await this.page.locator('#menu-item-user-settings').click();
    await this.page.locator('#user-settings-editor-language').selectOption(lang);
    // The choice is stored when the settings tray has finished closing.
    await this.page.locator('#node-dialog-ok').click();
    await this.page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
    await this.page.reload();
    await this.waitUntilLoaded();
  }

  /** Closes the tab and its profile, without the prompt Node-RED raises for undeployed changes. */
  async close(): Promise<void> {
    await this.page.close({ runBeforeUnload: false });
    await this.page.context().close();
  }

  get paletteCategory(): Locator {
    return this.page.locator(ONENET_PALETTE);
  }

  paletteNode(type: string): Locator {
    return this.page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
  }

  /** The node's group on the canvas (Node-RED gives it the node id). */
  canvasNode(id: string): Locator {
    return this.page.locator(`#red-ui-workspace-chart g[id="${id}"]`);
  }

  flowNodes(): Promise<NodeSummary[]> {
    return this.page.evaluate(() => {
      const nodes: NodeSummary[] = [];
      RED.nodes.eachNode((n) => nodes.push({ id: n.id, type: n.type, z: n.z, valid: n.valid !== false }));
      return nodes;
    });
  }

  configNodes(): Promise<Array<NodeSummary & { users: number }>> {
    return this.page.evaluate(() => {
      const nodes: Array<NodeSummary & { users: number }> = [];
      RED.nodes.eachConfig((n) =>
        nodes.push({ id: n.id, type: n.type, valid: n.valid !== false, users: n.users?.length ?? 0 }),
      );
      return nodes;
    });
  }

  workspaces(): Promise<Array<{ id: string; label: string }>> {
    return this.page.evaluate(() => {
      const tabs: Array<{ id: string; label: string }> = [];
      RED.nodes.eachWorkspace((tab) => tabs.push({ id: tab.id, label: tab.label }));
      return tabs;
    });
  }

  /** Clicks a flow's tab above the canvas. */
  async showWorkspace(id: string): Promise<void> {
    // A click that lands while the editor is still busy with an import can leave the tab unselected
    // (the tab only shows its tooltip); the user clicks again, and so does this, after 450 ms so
    // the two are not taken as a double-click.
    for (let attempt = 1; ; attempt++) {
      await this.page.locator(`#red-ui-workspace-tabs #red-ui-tab-${id} a`).click();
      try {
        await this.page.waitForFunction((tab) => RED.workspaces.active() === tab, id, { timeout: 10_000 });
        return;
      } catch (err) {
        if (attempt === 3) throw err;
        await this.page.waitForTimeout(450);
      }
    }
  }

  /** Drags a node from the palette onto the canvas, as a user does, and returns the new node's id. */
  async dragIn(type: string, at = { x: 260, y: 160 }): Promise<string> {
    const before = new Set((await this.flowNodes()).map((n) => n.id));
    const source = this.paletteNode(type);
    await source.scrollIntoViewIfNeeded();
    await source.dragTo(this.page.locator('#red-ui-workspace-chart'), { targetPosition: at });
    const added = (await this.flowNodes()).filter((n) => !before.has(n.id) && n.type === type);
    if (added.length !== 1) throw new Error(`dragging ${type} in added ${added.length} nodes of that type`);
    return added[0]!.id;
  }

  /** Double-clicks a canvas node and waits for its edit tray. */
  async openForm(id: string): Promise<void> {
    await this.canvasNode(id).dblclick();
    await this.page.locator('#node-dialog-ok').waitFor({ state: 'visible' });
  }

  /** From a flow node's form: the "+" next to its device field opens a new onenet-device config node. */
  async addDeviceConfig(): Promise<void> {
    await this.page.locator('#node-input-btn-device-add').click();
    await this.page.locator('#node-config-input-productId').waitFor({ state: 'visible' });
  }

  async fillDeviceForm(form: DeviceForm): Promise<void> {
    if (form.name !== undefined) await this.fillField('#node-config-input-name', form.name);
    if (form.productId !== undefined) await this.fillField('#node-config-input-productId', form.productId);
    if (form.deviceName !== undefined) await this.fillField('#node-config-input-deviceName', form.deviceName);
    if (form.key !== undefined) await this.fillField('#node-config-input-key', form.key);
    const connection = [form.tls, form.host, form.port, form.uplinkRate];
    if (connection.every((value) => value === undefined)) return;
    await this.showDeviceTab('connection');
    if (form.tls !== undefined) await this.page.setChecked('#node-config-input-tls', form.tls);
    if (form.host !== undefined) await this.fillField('#node-config-input-host', form.host);
    if (form.port !== undefined) await this.fillField('#node-config-input-port', form.port);
    if (form.uplinkRate !== undefined) await this.fillField('#node-config-input-uplinkRate', form.uplinkRate);
    await this.showDeviceTab('device');
  }

  /** Types into a field and leaves it, as a user tabbing on does (Node-RED validates on change). */
  async fillField(selector: string, value: string): Promise<void> {
    const field = this.page.locator(selector);
    await field.fill(value);
    await field.blur();
  }

  /** A tab of the device config form. */
  deviceTab(tab: 'device' | 'connection'): Locator {
    return this.page.locator(`#red-ui-tab-onenet-device-tab-${tab} a.red-ui-tab-label`);
  }

  async showDeviceTab(tab: 'device' | 'connection'): Promise<void> {
    // Node-RED's tab bars take two clicks within 400 ms as a double-click, which does not switch tabs.
    await this.page.waitForTimeout(450);
    await this.deviceTab(tab).click();
    await this.page.locator(`#onenet-device-tab-${tab}`).waitFor({ state: 'visible' });
  }

  /** Ids of the form inputs Node-RED marks as invalid (red border). */
  invalidInputs(): Promise<string[]> {
    return this.page
      .locator('.red-ui-tray input.input-error, .red-ui-tray select.input-error')
      .evaluateAll((inputs) => inputs.map((input) => input.id));
  }

  /** The text of a form field's label (the first `<label for>` of the input). */
  async fieldLabel(inputId: string): Promise<string> {
    return (await this.page.locator(`.red-ui-tray label[for="${inputId}"]`).first().innerText()).trim();
  }

  /**
   * Hovers an invalid input and returns the validation message Node-RED pops up for it. The popover
   * read is the one Node-RED attached to this input (its `tooltip` data), so a message of another
   * field that is still fading out, or a tab's tooltip, cannot be mistaken for it or hold the test up.
   */
  async validationMessage(inputSelector: string): Promise<string> {
    // Leave the input first: a popover opens on mouseenter, which a pointer already on it never sends.
    await this.page.locator('.red-ui-tray-titlebar').last().hover();
    await this.page.hover(inputSelector);
    let text = '';
    await this.until(`the validation message of ${inputSelector}`, async () => {
      text = await this.page.evaluate(
        (selector) => $(selector).data('tooltip')?.element?.filter(':visible').text() ?? '',
        inputSelector,
      );
      return text.trim() !== '';
    });
    return text.trim();
  }

  private async until(what: string, condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await this.page.waitForTimeout(50);
    }
  }

  async closeConfigForm(button: 'ok' | 'cancel'): Promise<void> {
    await this.page.locator(`#node-config-dialog-${button}`).click();
    await this.page.locator('#node-config-input-productId').waitFor({ state: 'detached' });
  }

  async closeForm(button: 'ok' | 'cancel'): Promise<void> {
    const control = this.page.locator(`#node-dialog-${button}`);
    // A click that lands while the tray is still sliding in can do nothing; it is made again then.
    for (let attempt = 1; ; attempt++) {
      await control.click({ timeout: 10_000 }).catch(() => undefined);
      try {
        await control.waitFor({ state: 'detached', timeout: 10_000 });
        return;
      } catch (err) {
        if (attempt === 3) throw err;
      }
    }
  }

  /**
   * Main menu > Export > all flows, as a user copies flows out: the JSON the dialog offers (credentials
   * are never in it). The dialog is closed again.
   */
  async exportAllFlows(): Promise<Array<{ id: string; type: string; [key: string]: unknown }>> {
    const page = this.page;
    await page.locator('#red-ui-header-button-sidemenu').click();
    await page.locator('#menu-item-export').click();
    await page.locator('#red-ui-clipboard-dialog-export-rng-full').click();
    const text = page.locator('#red-ui-clipboard-dialog-export-text');
    // The JSON is filled in for the chosen range once the dialog has laid it out.
    let json = '';
    await this.until('the export dialog to hold all flows', async () => {
      json = await text.inputValue();
      return json.startsWith('[') && json.includes('"type":"tab"');
    });
    await page.locator('#red-ui-clipboard-dialog-cancel').click();
    await text.waitFor({ state: 'hidden' });
    return JSON.parse(json) as Array<{ id: string; type: string }>;
  }

  /** The newest notification (deploy results, warnings, import summaries). */
  get notification(): Locator {
    return this.page.locator('.red-ui-notification').last();
  }

  /** Clicks Deploy and returns the text of the notification it raises. */
  async deploy(): Promise<string> {
    const shown = await this.page.locator('.red-ui-notification').count();
    await this.page.locator('#red-ui-header-button-deploy').click();
    await this.page.locator('.red-ui-notification').nth(shown).waitFor({ state: 'visible' });
    return (await this.notification.innerText()).trim();
  }

  /** The status text under a canvas node ('' while it has none). */
  async statusText(id: string): Promise<string> {
    const label = this.canvasNode(id).locator('.red-ui-flow-node-status-label');
    return (await label.count()) === 0 ? '' : ((await label.textContent()) ?? '').trim();
  }

  /** The shape and colour of the status under a canvas node, e.g. 'ring-red' ('' while it has none). */
  async statusShape(id: string): Promise<string> {
    const shape = this.canvasNode(id).locator('.red-ui-flow-node-status');
    if ((await shape.count()) === 0 || !(await shape.isVisible())) return '';
    const classes = (await shape.getAttribute('class')) ?? '';
    return /red-ui-flow-node-status-(\w+-\w+)/.exec(classes)?.[1] ?? '';
  }

  /** Waits until the status under a canvas node matches `expected`. */
  async waitForStatus(id: string, expected: RegExp, timeoutMs = 15_000): Promise<void> {
    await this.until(
      `the status of ${id} to match ${expected}`,
      async () => expected.test(await this.statusText(id)),
      timeoutMs,
    );
  }

  /** The Node-RED version the editor reports (the one in the main menu). */
  version(): Promise<string> {
    return this.page.evaluate(() => RED.settings.version);
  }

  /** Shows a node type's help in the help sidebar, as clicking it in the sidebar's node list does. */
  async showHelp(type: string): Promise<void> {
    await this.page.evaluate((name) => RED.sidebar.help.show(name), type);
  }

  /** Runs an editor action (the same ones menus and keyboard shortcuts run), e.g. core:show-help-tab. */
  async invoke(action: string): Promise<void> {
    await this.page.evaluate((name) => RED.actions.invoke(name), action);
  }

  /** Main menu > Import > Examples > this package > `example`, then Import; returns the import summary. */
  async importExample(example: string): Promise<string> {
    const page = this.page;
    await page.locator('#red-ui-header-button-sidemenu').click();
    await page.locator('#menu-item-import').click();
    await page.locator('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples a').click();
    const examples = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
    const item = examples.locator('.red-ui-treeList-label', { hasText: example });
    if (!(await item.isVisible())) {
      await examples.locator('.red-ui-treeList-label', { hasText: PACKAGE_NAME }).click();
    }
    // Selecting an example fetches it for the preview; Import is enabled once it has arrived. On a
    // loaded machine a click while the tree is still expanding can select nothing, so a click that
    // enabled nothing is made again.
    const importEnabled = page.locator('#red-ui-clipboard-dialog-ok:not(.disabled):not([disabled])');
    for (let attempt = 1; ; attempt++) {
      await item.click();
      try {
        await importEnabled.waitFor({ timeout: 10_000 });
        break;
      } catch (err) {
        if (attempt === 3) throw err;
      }
    }
    const shown = await page.locator('.red-ui-notification').count();
    await page.locator('#red-ui-clipboard-dialog-ok').click();
    await page.locator('.red-ui-notification').nth(shown).waitFor({ state: 'visible' });
    return (await this.notification.innerText()).trim();
  }

  /** Types into the palette's filter box and waits until only matching nodes show. */
  async filterPalette(term: string): Promise<void> {
    // The filter reacts to key presses, not to a pasted value.
    await this.page.locator('#red-ui-palette-search input').pressSequentially(term);
    await this.paletteNode('inject').waitFor({ state: 'hidden' });
  }

  /** Waits for the transient notifications (deployed, imported) to fade, as before a screenshot. */
  async waitForNotificationsToClose(): Promise<void> {
    const visible = this.page.locator('.red-ui-notification:visible');
    await this.until('notifications to close', async () => (await visible.count()) === 0, 15_000);
  }

  /** Opens the newest debug message and, inside it, the properties named. */
  async expandDebugMessage(properties: string[]): Promise<void> {
    const message = this.page.locator('.red-ui-debug-msg').last();
    await message.locator('.red-ui-debug-msg-object-handle').first().click();
    for (const property of properties) {
      const entry = message.locator('.red-ui-debug-msg-object-entry', {
        has: this.page.locator(`.red-ui-debug-msg-object-key:text-is("${property}")`),
      });
      await entry.locator('.red-ui-debug-msg-object-handle').first().click();
    }
  }

  async screenshot(name: string, target?: Locator): Promise<void> {
    const path = artifactPath(this.session.nodeRedVersion, name);
    await (target ?? this.page).screenshot({ path });
  }
}
