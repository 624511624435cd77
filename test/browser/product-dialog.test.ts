import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { deployFlows, getFlows } from '../../src/demo/node-red-process';
import { importThingModel } from '../../src/protocol/tsl-import';
import { fixturePath } from '../protocol/tsl-fixtures';
import { message, type Lang } from './catalogs';
import { EditorPage } from './editor-page';
import { startEditorSession, type EditorSession } from './editor-session';
import { ProductPage } from './product-page';

/**
 * The product dialog and the thing-model pick-lists in a real browser, as a user meets them: the
 * console's export loaded through the dialog's file picker and shown as tables (with what the
 * importer could not understand, and where), a device of that product, and the flow nodes' dialogs
 * offering the model: events on event post, services on command-in, the properties table on property
 * post, following the Device field. Each language runs against a Node-RED whose runtime speaks it.
 */

/** A current-generation export with every data type, three events, three services and two odd entries. */
const FIXTURE = 'current-with-problems.json';
const TAB = 'product-dialog-tab';
const PRODUCT = 'product-dialog-product';
const DEVICE_OF_PRODUCT = 'product-dialog-device';
const PLAIN_DEVICE = 'product-dialog-plain-device';

interface FixturePoint {
  identifier: string;
  name: string;
}

function randomKey(): string {
  return randomBytes(32).toString('base64');
}

for (const lang of ['en-US', 'zh-CN'] as const) {
  describe(`the product dialog and the thing-model pick-lists in a real browser (${lang})`, function () {
    this.timeout(90_000);
    let session: EditorSession;
    const modelText = readFileSync(fixturePath(FIXTURE), 'utf8');
    const exported = JSON.parse(modelText) as Record<'properties' | 'events' | 'services', FixturePoint[]>;

    before(async function () {
      this.timeout(180_000);
      session = await startEditorSession({ runtimeLang: lang });
    });

    after(async () => {
      await session?.close();
    });

    beforeEach(async () => {
      await deployFlows(session.url, []);
    });

    /** A text of the shipped catalogue of `type` in this language, with its substitutions made. */
    const text = (type: string, key: string, substitutions: Record<string, string | number> = {}): string =>
      message(session.install.packageDir, lang as Lang, type, key).replace(
        /__(\w+)__/g,
        (whole, name: string) => (name in substitutions ? String(substitutions[name]) : whole),
      );
    const productText = (key: string, substitutions?: Record<string, string | number>) =>
      text('onenet-product', key, substitutions);

    async function withEditor(
      name: string,
      body: (editor: EditorPage, product: ProductPage) => Promise<void>,
    ) {
      const editor = await EditorPage.open(session);
      try {
        if (lang !== 'en-US') await editor.switchLanguage(lang);
        await body(editor, new ProductPage(editor));
        assert.deepEqual(editor.pageErrors, [], 'uncaught errors in the editor page');
      } catch (error) {
        await editor.screenshot(`failed-product-${name}-${lang}`).catch(() => undefined);
        throw error;
      } finally {
        await editor.close();
      }
    }

    it('loads the exported model through the file picker, shows it as tables and says what it could not understand', async () => {
      const device = session.handMadeDevice;
      await withEditor('import', async (editor, product) => {
        const postId = await editor.dragIn('onenet-event-post');
        await editor.openForm(postId);
        await editor.addDeviceConfig();
        await product.addProductConfig();
        await product.fillProductForm({ name: 'boiler', productId: device.productId });
        await product.loadModelFile(fixturePath(FIXTURE));

        assert.equal(
          await product.modelSummary(),
          productText('model.summary', { properties: 11, events: 3, services: 3 }),
        );
        assert.deepEqual(
          await product.tableHeaders('properties'),
          ['identifier', 'name', 'type', 'limits', 'unit', 'access'].map((key) =>
            productText(`table.${key}`),
          ),
        );
        assert.equal(await product.tableHeading('properties'), `${productText('table.properties')} (11)`);

        const properties = await product.tableRows('properties');
        assert.deepEqual(
          properties.map((row) => row.slice(0, 2)),
          exported.properties.map((point) => [point.identifier, point.name]),
          'one row per property of the file, in its order, with its name',
        );
        const row = (identifier: string) => properties.find((cells) => cells[0] === identifier)?.slice(2);
        const step = (value: number) => productText('table.step', { step: value });
        assert.deepEqual(row('temp'), ['float', `-40 … 85.5, ${step(0.1)}`, '摄氏度 / °C', 'r']);
        assert.deepEqual(row('target'), ['int32', `0 … 3000, ${step(10)}`, '瓦特 / W', 'rw']);
        assert.deepEqual(row('mode'), ['enum', '0: 待机, 1: 运行, 2: 维护', '', 'rw']);
        assert.deepEqual(row('relay'), ['bool', 'true: 闭合, false: 断开', '', 'rw']);
        assert.deepEqual(row('label'), ['string', productText('table.length', { length: 8 }), '', 'rw']);
        assert.deepEqual(row('lastReset'), ['date', productText('table.date'), '', 'r']);
        assert.deepEqual(row('faults'), [
          'bitMap',
          `${productText('table.bits', { length: 3 })} (0: 过压, 1: 欠压, 2: 过温)`,
          '',
          'r',
        ]);
        assert.deepEqual(row('location'), [
          'struct',
          '{lat (纬度): double -90 … 90; lon (经度): double -180 … 180}',
          '',
          'r',
        ]);
        assert.deepEqual(row('samples'), [
          'array<int32>',
          `${productText('table.items', { length: 3 })}; 0 … 100`,
          '',
          'r',
        ]);
        // The odd entries: a type OneNET does not have, and a max that is not a number.
        assert.deepEqual(row('humidity'), ['?', productText('table.notUnderstood'), '', 'r']);
        assert.deepEqual(row('pressure'), ['int32', '≥ 300', '百帕 / hPa', 'r']);
        assert.deepEqual(await product.markedCells('properties'), [
          'humidity: ?',
          `humidity: ${productText('table.notUnderstood')}`,
        ]);

        const events = await product.tableRows('events');
        assert.deepEqual(
          events.map((cells) => cells.slice(0, 3)),
          [
            ['alarm', '预警事件', productText('eventType.alert')],
            ['doorOpened', '开门', productText('eventType.info')],
            ['overheat', '过热故障', productText('eventType.error')],
          ],
        );
        assert.equal(
          events[0]?.[3],
          `powerOff (断电): int32 0 … 1\nreason (原因): string ${productText('table.length', { length: 32 })}`,
          'the output parameters, one a line',
        );
        const services = await product.tableRows('services');
        assert.deepEqual(services, [
          [
            'calibrate',
            '校准',
            productText('callType.s'),
            'offset (偏移): float -5 … 5',
            'result (结果): enum 0: 成功, 1: 失败',
          ],
          ['reboot', '重启', productText('callType.a'), 'delay (延时): int32 0 … 60 秒 / s', '—'],
          ['selfTest', '自检', productText('callType.s'), '—', 'passed (通过): bool true: 是, false: 否'],
        ]);

        // What the runtime's importer could not understand, with the path and the point it is in.
        const expected = importThingModel(JSON.parse(modelText)).problems;
        assert.equal(expected.length, 2);
        const problems = await product.modelProblems();
        assert.equal(problems.title, productText('model.notUnderstood', { count: 2 }));
        assert.deepEqual(problems.items, [
          `properties[9].dataType.type (humidity): ${expected[0]!.message.replace('properties[9].dataType.type ', '')}`,
          `properties[10].dataType.specs.max (pressure): ${expected[1]!.message.replace('properties[10].dataType.specs.max ', '')}`,
        ]);
        assert.match(problems.items[0]!, /"percent" is not a OneNET data type/);
        assert.deepEqual(await editor.invalidInputs(), [], 'the file is taken, not refused');
        await product.modelTable('properties').scrollIntoViewIfNeeded();
        await editor.screenshot(`product-dialog-model-${lang}`);
        await product.closeProductForm('ok');

        // A device of that product: its Product ID comes from the product.
        const productNode = (await editor.configNodes()).find((node) => node.type === 'onenet-product');
        assert.ok(productNode, 'the product config node was added');
        assert.equal(await editor.page.locator('#node-config-input-product').inputValue(), productNode.id);
        await editor.fillDeviceForm({
          name: 'boiler-1',
          deviceName: device.deviceName,
          key: device.key,
          tls: false,
          host: session.emulator.host,
          port: String(session.emulator.port),
        });
        assert.deepEqual(await editor.invalidInputs(), []);
        await editor.closeConfigForm('ok');

        // The event post dialog offers the product's events, and still takes any identifier.
        await product.waitForPickList('onenet-event-post-model');
        let picks = await product.pickList('onenet-event-post-model');
        assert.equal(picks.title, text('onenet-event-post', 'model.events', { product: 'boiler' }));
        assert.deepEqual(picks.identifiers, ['alarm', 'doorOpened', 'overheat']);
        assert.equal(picks.note, '');
        await product.pick('onenet-event-post-model', 'doorOpened');
        assert.equal(await editor.page.locator('#node-input-event').inputValue(), 'doorOpened');
        assert.deepEqual(await product.typeForSuggestions('#node-input-event', 'o'), [
          'doorOpened',
          'overheat',
        ]);
        // The menu slides open; the screenshot shows it once it has.
        await editor.page.waitForTimeout(400);
        await editor.screenshot(`event-post-suggestions-${lang}`);
        assert.deepEqual(await product.typeForSuggestions('#node-input-event', 'al'), ['alarm']);
        assert.equal(
          (await product.pickList('onenet-event-post-model')).note,
          '',
          'no note while an identifier is half typed',
        );
        await product.chooseSuggestion('alarm');
        assert.equal(await editor.page.locator('#node-input-event').inputValue(), 'alarm');
        await editor.fillField('#node-input-event', 'customEvent');
        picks = await product.pickList('onenet-event-post-model');
        assert.equal(
          picks.note,
          productText('lists.notInModel', { identifier: 'customEvent', product: 'boiler' }),
        );
        assert.ok(!(await editor.invalidInputs()).includes('node-input-event'), 'free text is still valid');
        await editor.screenshot(`event-post-pick-list-${lang}`);
        await product.pick('onenet-event-post-model', 'overheat');
        assert.equal((await product.pickList('onenet-event-post-model')).note, '');
        await editor.closeForm('ok');

        assert.ok(
          (await editor.flowNodes()).every((node) => node.valid),
          'every node is valid, the device without a Product ID of its own',
        );
        await editor.deploy();
        const deployed = await getFlows(session.url);
        const post = deployed.find((node) => node.type === 'onenet-event-post');
        const deployedDevice = deployed.find((node) => node.id === post?.device);
        const deployedProduct = deployed.find((node) => node.id === deployedDevice?.product);
        assert.equal(post?.event, 'overheat');
        assert.equal(deployedProduct?.type, 'onenet-product');
        assert.equal(deployedProduct?.thingModel, modelText, 'the file is stored as it was exported');
      });
    });

    it('offers the services on command-in and the properties table on property post, following the Device field', async () => {
      const device = session.handMadeDevice;
      const deviceConfig = (id: string, props: Record<string, unknown>) => ({
        id,
        type: 'onenet-device',
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
        credentials: { key: randomKey() },
        ...props,
      });
      await deployFlows(session.url, [
        { id: TAB, type: 'tab', label: 'products', disabled: false, info: '' },
        {
          id: PRODUCT,
          type: 'onenet-product',
          name: 'boiler',
          productId: device.productId,
          thingModel: modelText,
          modelCheck: 'reject',
        },
        deviceConfig(DEVICE_OF_PRODUCT, { name: 'of the product', product: PRODUCT, productId: '' }),
        deviceConfig(PLAIN_DEVICE, { name: 'without product', product: '', productId: 'OtherProd' }),
      ]);
      await withEditor('pick-lists', async (editor, product) => {
        await editor.showWorkspace(TAB);

        const commandId = await editor.dragIn('onenet-command-in');
        await editor.openForm(commandId);
        await product.chooseDevice(DEVICE_OF_PRODUCT);
        await product.waitForPickList('onenet-command-in-model');
        const picks = await product.pickList('onenet-command-in-model');
        assert.equal(picks.title, text('onenet-command-in', 'model.services', { product: 'boiler' }));
        assert.deepEqual(picks.identifiers, ['calibrate', 'reboot', 'selfTest']);
        // The Service field (and its list) shows only for the kinds that use it.
        const kind = editor.page.locator('#node-input-kind');
        await kind.selectOption('property-set');
        await product.waitForPickList('onenet-command-in-model', false);
        await kind.selectOption('service-invoke');
        await product.waitForPickList('onenet-command-in-model');
        await product.pick('onenet-command-in-model', 'reboot');
        assert.equal(await editor.page.locator('#node-input-service').inputValue(), 'reboot');
        assert.deepEqual(await product.typeForSuggestions('#node-input-service', 'self'), ['selfTest']);
        await product.chooseSuggestion('selfTest');
        assert.equal(await editor.page.locator('#node-input-service').inputValue(), 'selfTest');
        await editor.screenshot(`command-in-pick-list-${lang}`);

        // A device without a product: no list, and the field stays a plain text field; back: the list.
        await product.chooseDevice(PLAIN_DEVICE);
        await product.waitForPickList('onenet-command-in-model', false);
        await editor.fillField('#node-input-service', 'anything_goes');
        assert.ok(!(await editor.invalidInputs()).includes('node-input-service'));
        await product.chooseDevice(DEVICE_OF_PRODUCT);
        await product.waitForPickList('onenet-command-in-model');
        assert.equal(
          (await product.pickList('onenet-command-in-model')).note,
          productText('lists.notInModel', { identifier: 'anything_goes', product: 'boiler' }),
        );
        await product.pick('onenet-command-in-model', 'calibrate');
        await editor.closeForm('ok');

        const postId = await editor.dragIn('onenet-property-post', { x: 260, y: 280 });
        await editor.openForm(postId);
        await product.chooseDevice(DEVICE_OF_PRODUCT);
        const table = product.modelTable('properties');
        await table.waitFor({ state: 'visible', timeout: 10_000 });
        assert.equal(
          (await editor.page.locator('#onenet-property-post-model .onenet-model-title').innerText()).trim(),
          text('onenet-property-post', 'model.properties', { product: 'boiler' }),
        );
        assert.deepEqual(
          await product.tableHeaders('properties'),
          ['identifier', 'name', 'type', 'limits', 'unit', 'access'].map((key) =>
            productText(`table.${key}`),
          ),
        );
        const rows = await product.tableRows('properties');
        assert.deepEqual(
          rows.map((cells) => cells[0]),
          exported.properties.map((point) => point.identifier),
        );
        assert.deepEqual(
          rows.find((cells) => cells[0] === 'target'),
          [
            'target',
            '目标功率',
            'int32',
            `0 … 3000, ${productText('table.step', { step: 10 })}`,
            '瓦特 / W',
            'rw',
          ],
        );
        await table.scrollIntoViewIfNeeded();
        await editor.screenshot(`property-post-properties-${lang}`);
        await product.chooseDevice(PLAIN_DEVICE);
        await table.waitFor({ state: 'detached', timeout: 10_000 });
        assert.equal(await editor.page.locator('#onenet-property-post-model').isVisible(), false);
        await editor.closeForm('cancel');

        const saved = (await editor.exportAllFlows()).find((node) => node.id === commandId);
        assert.equal(saved?.service, 'calibrate');
        assert.equal(saved?.device, DEVICE_OF_PRODUCT);
      });
    });
  });
}
