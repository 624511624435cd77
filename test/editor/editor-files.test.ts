import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import ts from 'typescript';
import { toDeviceSettings } from '../../src/node-red/device-settings';
import { deviceNameError, identifierError, productIdError } from '../../src/protocol';
import {
  ICONS_DIR,
  LANGUAGES,
  NODES_DIR,
  flatten,
  interpolate,
  nodeSets,
  placeholdersOf,
  readCatalog,
  readPackageJson,
  resolveKey,
  type Language,
} from './catalogs';
import {
  callNodeMethod,
  editorVerdict,
  javascriptBlocks,
  loadEditor,
  nodeWith,
  readNodeHtml,
  templateOf,
  type NodeDefinition,
  type PropertyDefinition,
} from './editor-sandbox';

/** The palette facts of each node type (DESIGN.md §3 and the editor brief). */
const EXPECTED: Record<string, { category: string; inputs?: number; outputs?: number }> = {
  'onenet-device': { category: 'config' },
  'onenet-product': { category: 'config' },
  'onenet-property-post': { category: 'OneNET', inputs: 1, outputs: 1 },
  'onenet-event-post': { category: 'OneNET', inputs: 1, outputs: 1 },
  'onenet-command-in': { category: 'OneNET', inputs: 0, outputs: 1 },
  'onenet-command-reply': { category: 'OneNET', inputs: 1, outputs: 0 },
};

/** Values the editor must accept (besides each default) and refuse, per property. */
const GOOD: Record<string, Record<string, unknown[]>> = {
  'onenet-device': {
    productId: ['Ck2AF9QD2K', '123123', 'x'.repeat(32)],
    deviceName: ['test', 'dev-1', 'dev_1.2', 'a:b@c', 'x'.repeat(64)],
    host: ['', 'mqtts.heclouds.com', 'studio-mqtt.heclouds.com', '127.0.0.1', '2409:8060:8ea:601::13:7c64'],
    port: ['', 1, '1883', 8883, '65535'],
    signMethod: ['sha256', 'sha1', 'md5'],
    tokenTtl: ['', 60, '2592000'],
    keepalive: ['', 10, '120', 1800],
    offlinePolicy: ['fail', 'queue'],
    uplinkRate: ['', ' ', 0, '0', 1, '1', '0.5', '.5', 2.5, '10', ' 20 ', '1000', 1000],
    queueLimit: ['', 1, '1000', '30000', 1000000],
    queueMaxAge: ['', 1, '60', 86400],
    tlsConfig: ['', 'tls1'],
  },
  'onenet-property-post': { device: ['cfg1'], timeout: [1, '5000', 60000] },
  'onenet-event-post': {
    device: ['cfg1'],
    event: ['', 'highTemp', 'alarm_1', 'x'.repeat(50)],
    timeout: [1, '200'],
  },
  'onenet-command-in': {
    device: ['cfg1'],
    kind: ['all', 'property-set', 'property-get', 'service-invoke'],
    service: ['', 'reboot', 'set_mode_2'],
  },
  'onenet-command-reply': { device: ['', 'cfg1'] },
  'onenet-product': {
    productId: ['Ck2AF9QD2K', '123123'],
    thingModel: ['', '{"properties": [], "events": [], "services": []}', '{}'],
    modelCheck: ['reject', 'warn', 'off'],
  },
};

const BAD: Record<string, Record<string, unknown[]>> = {
  'onenet-device': {
    productId: ['', undefined, 'a b', 'p/1', 'x'.repeat(33), '产品'],
    deviceName: ['', undefined, 'a/b', 'a+b', 'a#', 'a b', 'a&b', 'a=b', 'x'.repeat(65), '设备'],
    host: ['mqtt://mqtts.heclouds.com', 'a b', 'host/path'],
    port: [0, '0', 70000, '65536', 'abc', '1.5', -1],
    signMethod: ['', 'sha512', 'SHA256', undefined],
    tokenTtl: [59, 0, 'forever', -60, 1.5],
    keepalive: [5, '9', 1801, 'x', 1.5, -120],
    offlinePolicy: ['', 'drop', undefined],
    uplinkRate: ['fast', '-1', -1, '1000.5', 1001, '1e2', '0x10', '1/s', '1 000', 'Infinity', 'NaN', '1,5'],
    queueLimit: [0, '0', '1.5', 'many', 1000001, -1],
    queueMaxAge: [0, '0', 86401, '2.5', 'soon'],
  },
  'onenet-property-post': { device: ['', undefined], timeout: [0, '', '-1', 'abc', 1.5, undefined] },
  'onenet-event-post': {
    device: [''],
    event: ['a-b', 'a/b', 'a b', 'x'.repeat(51), '事件'],
    timeout: [0, ''],
  },
  'onenet-command-in': {
    device: [''],
    kind: ['', 'property', 'service', undefined],
    service: ['a-b', 'a/b', '+', 'x'.repeat(51)],
  },
  'onenet-command-reply': {},
  'onenet-product': {
    productId: ['', 'a b', '产品'],
    thingModel: ['{', 'properties: []'],
    modelCheck: ['', 'strict', undefined],
  },
};

/**
 * Required unless the device chooses an onenet-product (which gives the product id and may give the
 * key): not `required` in the definition, since Node-RED refuses an empty required value outright.
 */
const REQUIRED_WITHOUT_PRODUCT: Record<string, string[]> = { 'onenet-device': ['productId'] };

const SAMPLE_KEY = 'KuF3NT/jUBJ62LNBB/A8XZA9CqS3Cu79B/ABmfA1UCw=';
const GOOD_KEYS = ['__PWRD__', SAMPLE_KEY, 'adfasdfadsfadsf='];
const BAD_KEYS = ['', 'not a key!', 'abc===', '"quoted"', SAMPLE_KEY.slice(0, 43)];

/** The message properties each node's help must document (DESIGN.md §3). */
const HELP_MSG_PROPERTIES: Record<string, string[]> = {
  'onenet-device': [],
  'onenet-property-post': ['payload', 'time', 'action', 'onenet'],
  'onenet-event-post': ['payload', 'event', 'time', 'action', 'onenet'],
  'onenet-command-in': ['payload', 'topic', 'onenet'],
  'onenet-command-reply': ['onenet', 'payload', 'code', 'message', 'action'],
};

const HEADINGS: Record<Language, Record<string, string>> = {
  'en-US': {
    inputs: 'Inputs',
    outputs: 'Outputs',
    details: 'Details',
    status: 'Status',
    references: 'References',
    properties: 'Properties',
  },
  'zh-CN': {
    inputs: '输入',
    outputs: '输出',
    details: '详细',
    status: '状态',
    references: '参考资料',
    properties: '属性',
  },
};

/** The i18n keys shared with the runtime, with the exact en-US texts it was promised. */
const SHARED_KEYS: Record<string, string> = {
  'onenet-device.status.auth-failed': 'auth failed: check product id / device name / key',
  'onenet-device.status.kicked': 'kicked: another client uses this device',
  'onenet-device.status.queued': 'queued: __count__',
  'onenet-device.status.closed': 'closed',
  'onenet-device.status.no-device': 'no device configured',
  'onenet-device.status.sent': 'sent',
  'onenet-device.status.replied': 'replied __code__',
  'onenet-device.warn.duplicate-identity':
    '__count__ device config nodes use the same OneNET device __device__; they share one connection (OneNET allows one login per device)',
  'onenet-device.warn.late-reply':
    "reply to __id__ sent after OneNET's 5 s deadline; the platform has already given up on it",
  'onenet-device.warn.duplicate-reply': 'request __id__ was already answered; this second reply was not sent',
  'onenet-device.errors.no-onenet': 'msg.onenet is missing: wire this node after an onenet-command-in node',
  'onenet-device.errors.no-device': 'no OneNET device configured',
  'onenet-device.errors.no-event': "no event identifier: set the node's Event field or msg.event",
};

function onlyRegistration(set: string, language: Language): NodeDefinition {
  const { registrations } = loadEditor(set, language);
  assert.equal(registrations.length, 1, `${set}.html must register exactly one type`);
  const [registration] = registrations;
  assert.ok(registration);
  assert.equal(registration.type, set);
  return registration.definition;
}

function translatorFor(set: string, language: Language): (key: string) => string {
  return (key) => resolveKey(language, set, key) ?? key;
}

function allDefinitions(definition: NodeDefinition): Record<string, PropertyDefinition> {
  return { ...(definition.defaults ?? {}), ...(definition.credentials ?? {}) };
}

function helpOf(set: string, language: Language): string | undefined {
  const file = path.join(NODES_DIR, 'locales', language, `${set}.html`);
  if (!existsSync(file)) return undefined;
  const pattern = new RegExp(`<script type="text/html" data-help-name="${set}">([\\S\\s]*?)</script>`, 'i');
  return pattern.exec(readFileSync(file, 'utf8'))?.[1];
}

/** i18n keys an editor file uses: data-i18n attributes (";"-separated, "[attr]" prefixes) and tr()/RED._() calls. */
function keysUsedIn(html: string): { own: string[]; qualified: string[] } {
  const own: string[] = [];
  const qualified: string[] = [];
  const add = (key: string): void => {
    (key.includes(':') ? qualified : own).push(key);
  };
  for (const match of html.matchAll(/data-i18n="([^"]+)"/g)) {
    for (const part of (match[1] ?? '').split(';')) add(part.replace(/^\[[^\]]+\]/, ''));
  }
  for (const code of javascriptBlocks(html)) {
    for (const match of code.matchAll(/\btr\(\s*'([^']+)'\s*[,)]/g)) add(match[1] ?? '');
    for (const match of code.matchAll(/\bRED\._\(\s*'([^']+)'\s*[,)]/g)) {
      const key = match[1] ?? '';
      // RED._ without a namespace would look in the editor's own catalogue, never in ours.
      assert.ok(key.includes(':'), `RED._('${key}') must name its namespace`);
      qualified.push(key);
    }
  }
  return { own, qualified };
}

function registerTypeCalls(code: string): ts.CallExpression[] {
  const source = ts.createSourceFile('editor.js', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const calls: ts.CallExpression[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'registerType'
    ) {
      calls.push(node);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return calls;
}

describe('editor files (nodes/*.html, locales, icons)', () => {
  const sets = nodeSets();

  it('has one editor .html beside every node set in package.json, and no other', () => {
    const pkg = readPackageJson();
    assert.deepEqual([...sets].sort(), Object.keys(EXPECTED).sort());
    for (const [set, entry] of Object.entries(pkg['node-red'].nodes)) {
      assert.equal(entry, `nodes/${set}.js`, `${set}: the .html is looked up beside this .js`);
      assert.ok(existsSync(path.join(NODES_DIR, `${set}.html`)), `${set}.html is missing`);
    }
    const htmlFiles = readdirSync(NODES_DIR).filter((file) => file.endsWith('.html'));
    assert.deepEqual(htmlFiles.sort(), sets.map((set) => `${set}.html`).sort());
  });

  for (const set of Object.keys(EXPECTED)) {
    describe(set, () => {
      const expected = EXPECTED[set] ?? { category: '' };

      it('calls registerType with a literal type and inline literals, as node-red-dev requires', () => {
        const calls = javascriptBlocks(readNodeHtml(set)).flatMap(registerTypeCalls);
        assert.equal(calls.length, 1);
        const [typeArgument, definitionArgument] = calls[0]?.arguments ?? [];
        assert.ok(typeArgument && ts.isStringLiteral(typeArgument), 'type must be a string literal');
        assert.equal(typeArgument.text, set);
        assert.ok(definitionArgument && ts.isObjectLiteralExpression(definitionArgument));
        const seen = new Set<string>();
        for (const property of definitionArgument.properties) {
          const name = property.name;
          assert.ok(name && ts.isIdentifier(name), 'definition keys must be plain identifiers');
          seen.add(name.text);
          if (!ts.isPropertyAssignment(property)) continue;
          const value = property.initializer;
          if (['defaults', 'credentials'].includes(name.text)) {
            assert.ok(ts.isObjectLiteralExpression(value), `${name.text} must be an inline object`);
          }
          if (['icon', 'color', 'category'].includes(name.text)) {
            assert.ok(ts.isStringLiteral(value), `${name.text} must be a string literal`);
          }
          if (['inputs', 'outputs'].includes(name.text)) {
            assert.ok(ts.isNumericLiteral(value), `${name.text} must be a number literal`);
          }
        }
        const required = ['category', 'defaults', 'icon', 'label', 'paletteLabel'];
        if (expected.category !== 'config') required.push('color', 'inputs', 'outputs');
        for (const key of required) assert.ok(seen.has(key), `${key} is missing`);
      });

      it('registers exactly its own type with its palette facts and an existing icon', () => {
        const definition = onlyRegistration(set, 'en-US');
        assert.equal(definition.category, expected.category);
        assert.equal(definition.inputs, expected.inputs);
        assert.equal(definition.outputs, expected.outputs);
        assert.equal(typeof definition.icon, 'string');
        assert.ok(
          existsSync(path.join(ICONS_DIR, String(definition.icon))),
          `icons/${String(definition.icon)}`,
        );
        if (expected.category !== 'config') assert.match(String(definition.color), /^#[0-9A-Fa-f]{6}$/);
        if (expected.category !== 'config') {
          assert.deepEqual(definition.defaults?.device?.type, 'onenet-device');
          assert.equal(definition.defaults?.device?.required, set !== 'onenet-command-reply');
        }
      });

      it('has labels that resolve in both languages and differ between them', () => {
        const labels: Record<Language, string[]> = { 'en-US': [], 'zh-CN': [] };
        for (const language of LANGUAGES) {
          const { registrations, missingKeys } = loadEditor(set, language);
          const definition = registrations[0]?.definition;
          assert.ok(definition);
          const node = nodeWith(definition, translatorFor(set, language));
          const texts = [
            callNodeMethod(definition.paletteLabel, definition),
            callNodeMethod(definition.label, node),
            ...(Number(definition.inputs) > 0 ? [callNodeMethod(definition.inputLabels, node, 0)] : []),
            ...(Number(definition.outputs) > 0 ? [callNodeMethod(definition.outputLabels, node, 0)] : []),
          ];
          for (const text of texts)
            assert.ok(typeof text === 'string' && text !== '', `${language}: ${text}`);
          assert.deepEqual(missingKeys, [], `${language}: keys without text`);
          labels[language] = texts.map(String);
        }
        assert.notDeepEqual(labels['zh-CN'], labels['en-US']);
      });

      it('accepts the defaults and good values, refuses bad ones with a translated reason', () => {
        for (const language of LANGUAGES) {
          const { registrations, missingKeys } = loadEditor(set, language);
          const definition = registrations[0]?.definition;
          assert.ok(definition);
          const definitions = allDefinitions(definition);
          const node = nodeWith(definition, translatorFor(set, language));
          for (const [property, spec] of Object.entries(definitions)) {
            if (spec.validate) {
              assert.equal(
                spec.validate.length,
                2,
                `${property}: a one-argument validator's message is dropped`,
              );
            }
            if (definition.credentials?.[property] !== undefined) continue;
            // A required field starts empty on purpose: the dialog marks it until the user fills it in.
            const mustFillIn =
              (spec.required === true || REQUIRED_WITHOUT_PRODUCT[set]?.includes(property) === true) &&
              spec.value === '';
            const verdict = editorVerdict(definitions, property, spec.value, node);
            if (mustFillIn)
              assert.notEqual(verdict, true, `${property}: an empty required field must be marked`);
            else assert.equal(verdict, true, `${property} default`);
          }
          for (const [property, values] of Object.entries(GOOD[set] ?? {})) {
            for (const value of values) {
              assert.equal(
                editorVerdict(definitions, property, value, node),
                true,
                `${property}=${String(value)}`,
              );
            }
          }
          for (const [property, values] of Object.entries(BAD[set] ?? {})) {
            for (const value of values) {
              const verdict = editorVerdict(definitions, property, value, node);
              assert.notEqual(verdict, true, `${property}=${String(value)} should be refused`);
              if (typeof verdict === 'string' && language === 'zh-CN')
                assert.match(verdict, /[\u4e00-\u9fff]/);
            }
          }
          assert.deepEqual(missingKeys, [], `${language}: keys without text`);
        }
      });

      it('has a form input for every property and no stray ones', () => {
        const definition = onlyRegistration(set, 'en-US');
        const template = templateOf(readNodeHtml(set), set);
        assert.ok(template, `no data-template-name="${set}"`);
        const prefix = expected.category === 'config' ? 'node-config-input-' : 'node-input-';
        const inputs = [...template.matchAll(/\bid="([^"]+)"/g)]
          .map((match) => match[1] ?? '')
          .filter((id) => id.startsWith(prefix))
          .map((id) => id.slice(prefix.length));
        assert.deepEqual(inputs.sort(), Object.keys(allDefinitions(definition)).sort());
        assert.doesNotMatch(readNodeHtml(set), /data-help-name=/, 'help belongs in locales/<lang>/*.html');
      });

      it('has help in both languages with the standard sections, every msg property and every field', () => {
        for (const language of LANGUAGES) {
          const help = helpOf(set, language);
          assert.ok(help && help.trim().length > 200, `${language} help for ${set}`);
          const headings = HEADINGS[language];
          const sections =
            expected.category === 'config'
              ? ['properties', 'details', 'references']
              : [
                  ...(expected.inputs ? ['inputs'] : []),
                  ...(expected.outputs ? ['outputs'] : []),
                  'details',
                  'status',
                  'references',
                ];
          for (const section of sections) assert.ok(help.includes(`<h3>${headings[section]}</h3>`), section);
          for (const property of HELP_MSG_PROPERTIES[set] ?? []) {
            assert.match(help, new RegExp(`<dt( class="optional")?>${property} <span`), `msg.${property}`);
          }
          const { registrations } = loadEditor(set, language);
          const definitions = allDefinitions(registrations[0]?.definition ?? {});
          for (const [property, spec] of Object.entries(definitions)) {
            if (spec.label)
              assert.ok(help.includes(spec.label), `${language}: field ${property} (${spec.label})`);
          }
        }
      });
    });
  }

  describe('message catalogues', () => {
    it('has one catalogue per node set and language, under the node type, with the same keys', () => {
      for (const set of sets) {
        const catalogs = LANGUAGES.map((language) => readCatalog(language, set));
        for (const catalog of catalogs) assert.deepEqual(Object.keys(catalog), [set]);
        const [english, chinese] = catalogs.map((catalog) => flatten(catalog));
        assert.ok(english && chinese);
        assert.deepEqual([...chinese.keys()].sort(), [...english.keys()].sort(), set);
        let translated = 0;
        for (const [key, text] of english) {
          const other = chinese.get(key);
          assert.ok(typeof text === 'string' && text.trim() !== '', `en-US ${key}`);
          assert.ok(typeof other === 'string' && other.trim() !== '', `zh-CN ${key}`);
          assert.deepEqual(placeholdersOf(other), placeholdersOf(text), `placeholders of ${key}`);
          if (/[\u4e00-\u9fff]/.test(other)) translated++;
        }
        assert.ok(translated >= english.size * 0.6, `${set}: zh-CN looks untranslated`);
      }
    });

    it('keeps the status, warning and error keys the runtime uses, with the agreed en-US text', () => {
      for (const [key, text] of Object.entries(SHARED_KEYS)) {
        assert.equal(resolveKey('en-US', 'onenet-device', key), text, key);
        const chinese = resolveKey('zh-CN', 'onenet-device', key);
        assert.ok(chinese && /[\u4e00-\u9fff]/.test(chinese), `zh-CN ${key}`);
      }
      for (const language of LANGUAGES) {
        for (const state of ['connecting', 'connected', 'disconnected']) {
          assert.ok(resolveKey(language, 'onenet-device', `node-red:common.status.${state}`), state);
        }
      }
    });

    it('has text for every key the editor files use', () => {
      for (const set of sets) {
        const { own, qualified } = keysUsedIn(readNodeHtml(set));
        assert.ok(own.length > 0, set);
        for (const language of LANGUAGES) {
          for (const key of [...own, ...qualified]) {
            assert.ok(resolveKey(language, set, key) !== undefined, `${language}: ${set} uses "${key}"`);
          }
        }
      }
    });
  });

  describe('validators agree with the protocol core', () => {
    const alphabet = fc.constantFrom(...'aZ09_.:@-/+#& =%中'.split(''));
    const text = fc.string({ unit: alphabet, maxLength: 70 });
    const accepted = (definition: NodeDefinition, property: string, value: string): boolean =>
      editorVerdict(allDefinitions(definition), property, value, {}) === true;

    it('product id and device name', () => {
      const device = onlyRegistration('onenet-device', 'en-US');
      fc.assert(
        fc.property(text, (value) => {
          assert.equal(accepted(device, 'productId', value), productIdError(value) === undefined, value);
          assert.equal(accepted(device, 'deviceName', value), deviceNameError(value) === undefined, value);
        }),
        { numRuns: 500 },
      );
    });

    /** Text as a hand-written flow might hold it: digits, signs, exponents, hex, spaces. */
    const numberTexts = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'0123456789.-+ex '.split('')), maxLength: 8 }),
      fc.constantFrom('1e3', '1E3', '0x10', '0b1', '0o7', '1.0', '10.', '+5', '1_000', 'Infinity'),
      fc.integer({ min: -10, max: 1_100_000 }).map(String),
      fc.double({ min: 0, max: 1100, noNaN: true }).map(String),
    );

    it('uplink rate: the runtime takes exactly what the dialog accepts, as that many messages a second', () => {
      const device = onlyRegistration('onenet-device', 'en-US');
      const runtimeRate = (value: string): number | undefined | 'refused' => {
        try {
          return toDeviceSettings(
            { id: 'cfg1', type: 'onenet-device', productId: 'p1', deviceName: 'd1', uplinkRate: value },
            'a2V5',
          ).options.uplinkRate;
        } catch {
          return 'refused';
        }
      };
      fc.assert(
        fc.property(numberTexts, (value) => {
          const expected = !accepted(device, 'uplinkRate', value)
            ? 'refused'
            : value.trim() === ''
              ? 1
              : Number(value);
          assert.equal(runtimeRate(value), expected, value);
        }),
        { numRuns: 500 },
      );
    });

    it('whole-number fields: the runtime takes exactly what the dialog accepts, as that number', () => {
      const device = onlyRegistration('onenet-device', 'en-US');
      /** What the runtime makes of the field, and of a blank one (its default, or undefined). */
      const read: Record<string, (settings: ReturnType<typeof toDeviceSettings>) => number | undefined> = {
        port: (settings) => settings.identity.port,
        keepalive: (settings) => settings.options.keepaliveSeconds,
        tokenTtl: (settings) => settings.options.tokenTtlSeconds,
        queueLimit: (settings) => settings.options.queueLimit,
        queueMaxAge: (settings) => (settings.options.queueMaxAgeMs ?? 0) / 1000 || undefined,
      };
      const runtime = (field: string, value: string): number | undefined | 'refused' => {
        try {
          return read[field]!(
            toDeviceSettings(
              { id: 'cfg1', type: 'onenet-device', productId: 'p1', deviceName: 'd1', [field]: value },
              'a2V5',
            ),
          );
        } catch {
          return 'refused';
        }
      };
      fc.assert(
        fc.property(numberTexts, (value) => {
          for (const field of Object.keys(read)) {
            const blank = read[field]!(
              toDeviceSettings(
                { id: 'cfg1', type: 'onenet-device', productId: 'p1', deviceName: 'd1' },
                'a2V5',
              ),
            );
            const expected = !accepted(device, field, value)
              ? 'refused'
              : value.trim() === ''
                ? blank
                : Number(value);
            assert.equal(runtime(field, value), expected, `${field} "${value}"`);
          }
        }),
        { numRuns: 500 },
      );
    });

    it('event and service identifiers (empty means "from msg.event" / "every service")', () => {
      const eventPost = onlyRegistration('onenet-event-post', 'en-US');
      const commandIn = onlyRegistration('onenet-command-in', 'en-US');
      fc.assert(
        fc.property(text, (value) => {
          const expected = value === '' || identifierError(value) === undefined;
          assert.equal(accepted(eventPost, 'event', value), expected, value);
          assert.equal(accepted(commandIn, 'service', value), expected, value);
        }),
        { numRuns: 500 },
      );
    });
  });

  it('labels nodes by name, else by what they do', () => {
    const labelOf = (
      set: string,
      overrides: Record<string, unknown>,
      language: Language = 'en-US',
    ): unknown => {
      const definition = onlyRegistration(set, language);
      return callNodeMethod(definition.label, nodeWith(definition, translatorFor(set, language), overrides));
    };
    assert.equal(
      labelOf('onenet-device', { deviceName: 'dev-1', productId: 'Ck2AF9QD2K' }),
      'dev-1 @ Ck2AF9QD2K',
    );
    assert.equal(labelOf('onenet-device', { name: 'Boiler', deviceName: 'dev-1' }), 'Boiler');
    assert.equal(labelOf('onenet-property-post', { name: 'Boiler' }), 'Boiler');
    assert.equal(labelOf('onenet-event-post', { event: 'highTemp' }), 'event: highTemp');
    assert.equal(labelOf('onenet-event-post', { event: 'highTemp' }, 'zh-CN'), '事件：highTemp');
    assert.equal(
      labelOf('onenet-command-in', { kind: 'service-invoke', service: 'reboot' }),
      'service: reboot',
    );
    const kindLabels = new Set<unknown>();
    for (const language of LANGUAGES) {
      for (const kind of ['all', 'property-set', 'property-get', 'service-invoke']) {
        const label = labelOf('onenet-command-in', { kind }, language);
        assert.ok(typeof label === 'string' && !label.includes('nodeLabel'), `${language} ${kind}: ${label}`);
        kindLabels.add(label);
      }
    }
    assert.equal(kindLabels.size, 8, 'each kind has its own label in each language');
  });

  it('requires the key credential (unless a product is chosen), accepts a saved one and refuses text that is not base64', () => {
    const definition = onlyRegistration('onenet-device', 'en-US');
    const credentials = definition.credentials ?? {};
    assert.deepEqual(Object.keys(credentials), ['key']);
    assert.equal(credentials.key?.type, 'password');
    assert.equal(definition.defaults?.key, undefined, 'the key must never be a flow property');
    for (const key of GOOD_KEYS) assert.equal(editorVerdict(credentials, 'key', key, {}), true, key);
    for (const key of BAD_KEYS) assert.notEqual(editorVerdict(credentials, 'key', key, {}), true, key);
    // With a product the device may sign with the product key: empty is fine, a bad key is not.
    const withProduct = { product: 'prod1' };
    assert.equal(editorVerdict(credentials, 'key', '', withProduct), true);
    for (const key of BAD_KEYS.filter((k) => k !== ''))
      assert.notEqual(editorVerdict(credentials, 'key', key, withProduct), true, key);
  });

  it('takes the product id from a chosen product: empty is fine, another id is refused', () => {
    const definition = onlyRegistration('onenet-device', 'en-US');
    const definitions = definition.defaults ?? {};
    assert.equal(definitions.product?.type, 'onenet-product');
    assert.equal(definitions.product?.required, false);
    assert.notEqual(editorVerdict(definitions, 'productId', '', {}), true, 'no product: required');
    assert.equal(editorVerdict(definitions, 'productId', '', { product: 'prod1' }), true);
    assert.equal(editorVerdict(definitions, 'productId', 'Ck2AF9QD2K', { product: 'prod1' }), true);
    assert.notEqual(editorVerdict(definitions, 'productId', 'a b', { product: 'prod1' }), true);
  });

  it("does not judge a sub-device's connection fields: they are its gateway's", () => {
    const definitions = onlyRegistration('onenet-device', 'en-US').defaults ?? {};
    // Values a direct device is refused; undefined where a flow leaves the field out (an example or a
    // hand-written flow may), which blank-means-default fields accept anyway.
    const refused: Record<string, unknown> = {
      host: 'http://a b',
      port: '70000',
      signMethod: undefined,
      tokenTtl: '5',
      keepalive: '5',
      offlinePolicy: undefined,
      uplinkRate: '-1',
    };
    for (const [field, value] of Object.entries(refused)) {
      assert.notEqual(editorVerdict(definitions, field, value, {}), true, `${field}: a direct device`);
      assert.equal(
        editorVerdict(definitions, field, value, { gateway: 'gw1' }),
        true,
        `${field}: a sub-device`,
      );
    }
  });

  it('product: the product key is optional, the model must be JSON text, model check is one of three', () => {
    const definition = onlyRegistration('onenet-product', 'en-US');
    const credentials = definition.credentials ?? {};
    assert.deepEqual(Object.keys(credentials), ['key']);
    assert.equal(credentials.key?.type, 'password');
    assert.equal(definition.defaults?.key, undefined, 'the key must never be a flow property');
    assert.equal(editorVerdict(credentials, 'key', '', {}), true);
    assert.equal(editorVerdict(credentials, 'key', SAMPLE_KEY, {}), true);
    assert.notEqual(editorVerdict(credentials, 'key', 'not a key!', {}), true);
  });

  it('says why a key is refused: empty, not base64, or cut short', () => {
    for (const language of LANGUAGES) {
      const credentials = onlyRegistration('onenet-device', language).credentials ?? {};
      // The validator itself, as the dialog calls it for the text under the field.
      const reason = (key: string): unknown => credentials.key?.validate?.call({}, key, {});
      const expected = (key: string, substitutions?: Record<string, string | number>): string =>
        interpolate(
          resolveKey(language, 'onenet-device', `onenet-device.invalid.${key}`) ?? key,
          substitutions,
        );
      assert.equal(reason('  '), expected('keyEmpty'), language);
      assert.equal(reason('not a key!'), expected('keyNotBase64'), language);
      assert.equal(reason(`${SAMPLE_KEY} x`), expected('keyNotBase64'), language);
      assert.equal(reason(SAMPLE_KEY.slice(0, 41)), expected('keyLength', { length: 41 }), language);
      assert.equal(reason(SAMPLE_KEY), true, language);
      // The reason describes the key, never quotes it.
      assert.ok(!String(reason(SAMPLE_KEY.slice(0, 41))).includes(SAMPLE_KEY.slice(0, 10)));
    }
  });

  it('breaks no zh-CN help line between two Chinese characters (the break would show as a space)', () => {
    // A line break in HTML source renders as a space, and Chinese text has none between words: "返回码（200）
    // 和" shows as "返回码（200） 和". Inline tags do not stop that space; block tags (p, li, dd, ...) do.
    const cjk = '[\\u3000-\\u303f\\u4e00-\\u9fff\\uff00-\\uffef]';
    const brokenBetween = new RegExp(`${cjk}[ \\t]*\\n\\s*${cjk}`, 'g');
    const inlineTag = /<\/?(?:a|b|i|em|strong|code|span)\b[^>]*>/g;
    for (const set of sets) {
      const file = path.join(NODES_DIR, 'locales', 'zh-CN', `${set}.html`);
      const text = readFileSync(file, 'utf8').replace(inlineTag, '');
      const found = [...text.matchAll(brokenBetween)].map((match) => {
        const line = text.slice(0, match.index).split('\n').length;
        return `line ${line}: ${JSON.stringify(match[0])}`;
      });
      assert.deepEqual(found, [], `${set}: Chinese text broken over source lines`);
    }
  });

  it('ships white-on-transparent 40x60 SVG icons like the core nodes', () => {
    const icons = readdirSync(ICONS_DIR).filter((file) => file.endsWith('.svg'));
    assert.ok(icons.length >= 4);
    for (const icon of icons) {
      const svg = readFileSync(path.join(ICONS_DIR, icon), 'utf8');
      assert.match(
        svg,
        /^<svg width="40" height="60" viewBox="0, 0, 40, 60" xmlns="http:\/\/www\.w3\.org\/2000\/svg">/,
      );
      const paints = [...svg.matchAll(/\b(?:fill|stroke)="([^"]+)"/g)].map((match) => match[1]);
      assert.ok(paints.length > 0, icon);
      for (const paint of paints)
        assert.ok(['#fff', '#ffffff', 'none'].includes(String(paint)), `${icon}: ${paint}`);
    }
  });
});
