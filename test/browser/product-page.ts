import type { Locator, Page } from 'playwright-core';
import type { EditorPage } from './editor-page';

/**
 * The gestures of the product dialog and of the thing-model pick-lists in the flow nodes' dialogs,
 * on top of an EditorPage: add a product from the device dialog, load the exported model through the
 * dialog's file picker, read the tables and the problems the dialog shows, and read or use the
 * pick-lists of event post and command-in and the properties table of property post.
 */

export type ModelList = 'properties' | 'events' | 'services';

export interface ProductForm {
  name?: string;
  productId?: string;
  modelCheck?: 'reject' | 'warn' | 'off';
}

/** What a pick-list under a field shows: its line of text, the identifiers offered, and its note. */
export interface PickList {
  visible: boolean;
  title: string;
  identifiers: string[];
  /** The note that the typed text is not in the model ('' while none is shown). */
  note: string;
}

export class ProductPage {
  constructor(private readonly editor: EditorPage) {}

  private get page(): Page {
    return this.editor.page;
  }

  /** From a device dialog: the "+" next to its Product field opens a new onenet-product config node. */
  async addProductConfig(): Promise<void> {
    const add = this.page.locator('#node-config-input-btn-product-add');
    const productDialog = this.page.locator('#node-config-input-thingModel');
    // A click that lands while the device dialog is still being prepared does nothing (seen once in
    // CI): click again while the product dialog has not opened, a bounded number of times.
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!(await productDialog.isVisible())) await add.click({ timeout: 5000 }).catch(() => undefined);
      if (
        await productDialog.waitFor({ state: 'visible', timeout: 10_000 }).then(
          () => true,
          () => false,
        )
      )
        return;
    }
    await productDialog.waitFor({ state: 'visible' });
  }

  async fillProductForm(form: ProductForm): Promise<void> {
    if (form.name !== undefined) await this.editor.fillField('#node-config-input-name', form.name);
    if (form.productId !== undefined)
      await this.editor.fillField('#node-config-input-productId', form.productId);
    if (form.modelCheck !== undefined)
      await this.page.locator('#node-config-input-modelCheck').selectOption(form.modelCheck);
  }

  /**
   * Clicks "Load file…" and picks `file` in the browser's file chooser, as a user loads the console's
   * export, then waits until the dialog shows the runtime importer's tables for it.
   */
  async loadModelFile(file: string): Promise<void> {
    const chooser = this.page.waitForEvent('filechooser');
    await this.page.locator('label[for="onenet-product-file"]').click();
    await (await chooser).setFiles(file);
    await this.modelTable('properties').waitFor({ state: 'visible', timeout: 10_000 });
  }

  /** One of the model tables in the open dialog (the product dialog's, or property post's help). */
  modelTable(list: ModelList): Locator {
    return this.page.locator(`.red-ui-tray table.onenet-model-table[data-onenet-list="${list}"]`);
  }

  /** The heading above a model table, e.g. "Properties (11)". */
  async tableHeading(list: ModelList): Promise<string> {
    return this.modelTable(list).evaluate((table) => table.previousElementSibling?.textContent ?? '');
  }

  /** The cells of a model table, row by row, each cell's text as the dialog wrote it. */
  tableRows(list: ModelList): Promise<string[][]> {
    return this.modelTable(list)
      .locator('tbody tr')
      .evaluateAll((rows) => rows.map((row) => [...row.children].map((cell) => cell.textContent ?? '')));
  }

  /** The column headings of a model table. */
  tableHeaders(list: ModelList): Promise<string[]> {
    return this.modelTable(list)
      .locator('thead th')
      .evaluateAll((cells) => cells.map((cell) => cell.textContent ?? ''));
  }

  /** The cells of a model table marked as not understood, as "identifier: text". */
  markedCells(list: ModelList): Promise<string[]> {
    return this.modelTable(list)
      .locator('td.onenet-model-problem')
      .evaluateAll((cells) =>
        cells.map(
          (cell) => `${cell.parentElement?.firstElementChild?.textContent ?? ''}: ${cell.textContent ?? ''}`,
        ),
      );
  }

  /** The line under the model field that counts what the importer understood. */
  async modelSummary(): Promise<string> {
    return (await this.page.locator('#onenet-product-model-summary').innerText()).trim();
  }

  /** The heading and the items of the list of what the importer could not understand. */
  async modelProblems(): Promise<{ title: string; items: string[] }> {
    const box = this.page.locator('#onenet-product-model-problems');
    if (!(await box.isVisible())) return { title: '', items: [] };
    const title = (await box.locator('#onenet-product-model-problems-title').innerText()).trim();
    const items = await box.locator('li').evaluateAll((items) => items.map((item) => item.textContent ?? ''));
    return { title, items };
  }

  /** Clicks OK or Cancel of the product dialog and waits until the device dialog is back. */
  async closeProductForm(button: 'ok' | 'cancel'): Promise<void> {
    await this.page.locator(`#node-config-dialog-${button}`).click();
    await this.page.locator('#node-config-input-thingModel').waitFor({ state: 'detached' });
    await this.page.locator('#node-config-input-deviceName').waitFor({ state: 'visible' });
  }

  /** Chooses a device config node in the open flow node's Device field. */
  async chooseDevice(id: string): Promise<void> {
    await this.page.locator('#node-input-device').selectOption(id);
  }

  /** The pick-list in the element `targetId` (under a field), as the user sees it now. */
  async pickList(targetId: string): Promise<PickList> {
    const target = this.page.locator(`#${targetId}`);
    if (!(await target.isVisible())) return { visible: false, title: '', identifiers: [], note: '' };
    const title = (await target.locator('.onenet-model-title').innerText()).trim();
    const identifiers = await target
      .locator('.onenet-model-picks button')
      .evaluateAll((buttons) => buttons.map((button) => button.getAttribute('data-onenet-identifier') ?? ''));
    const note = target.locator('.onenet-model-note');
    return {
      visible: true,
      title,
      identifiers,
      note: (await note.isVisible()) ? (await note.innerText()).trim() : '',
    };
  }

  /** Waits until the pick-list in `targetId` shows (or hides, with `visible` false). */
  async waitForPickList(targetId: string, visible = true): Promise<void> {
    await this.page
      .locator(`#${targetId}`)
      .waitFor({ state: visible ? 'visible' : 'hidden', timeout: 10_000 });
  }

  /** Clicks the button of `identifier` in the pick-list in `targetId`. */
  async pick(targetId: string, identifier: string): Promise<void> {
    await this.page
      .locator(`#${targetId} .onenet-model-picks button[data-onenet-identifier="${identifier}"]`)
      .click();
  }

  /**
   * Types `text` into the (emptied) field key by key, as the suggestions react to key presses, and
   * returns the identifiers suggested.
   */
  async typeForSuggestions(input: string, text: string): Promise<string[]> {
    const field = this.page.locator(input);
    await field.fill('');
    await field.pressSequentially(text);
    const menu = this.suggestionMenu();
    await menu.waitFor({ state: 'visible', timeout: 5000 });
    return menu
      .locator('li a .onenet-model-choice > span:first-child')
      .evaluateAll((spans) => spans.map((span) => span.textContent ?? ''));
  }

  /** Clicks one of the suggestions shown under a field. */
  async chooseSuggestion(identifier: string): Promise<void> {
    const menu = this.suggestionMenu();
    await menu.locator('li a', { has: this.page.locator(`span:text-is("${identifier}")`) }).click();
    await menu.waitFor({ state: 'hidden' });
  }

  private suggestionMenu(): Locator {
    return this.page.locator('.red-ui-autoComplete-container');
  }
}
