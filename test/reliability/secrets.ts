import assert from 'node:assert/strict';
import * as flowsApi from '@node-red/runtime/lib/api/flows';
import type { OneNetEmulator } from '../../src/emulator';
import { report } from './figures';
import { findSecrets, secretForms, secretLedger, transcript } from './ledger';
import {
  TAB,
  captureAndUnload,
  catchAll,
  collect,
  deviceConfig,
  flowNode,
  helper,
  load,
  makeDevices,
  node,
  startEmulator,
  waitFor,
  waitOnline,
} from './support';

/**
 * Issue 7, scenario 7, run last: after all of the above, nothing a user can see (the Node-RED log,
 * the flows as exported, statuses, warnings, errors and Catch messages, connection statuses and
 * request errors, the emulator's log) contains a device key or any login token the scenarios used.
 */
export function secrets(): void {
  describe('secrets, after all of the above', function () {
    this.timeout(30_000);
    const [device] = makeDevices('secret', 1);
    let emulator: OneNetEmulator;

    before(async () => {
      emulator = await startEmulator([device!]);
    });
    after(async () => {
      await emulator.close();
    });

    it('exports flows without the key, even when the key was deployed inline as the editor does', async () => {
      const nodes = [
        flowNode('post', 'onenet-property-post', { device: device!.configId }, [['ok']]),
        flowNode('ok', 'helper'),
        ...catchAll(),
      ];
      await load([deviceConfig(emulator, device!), ...nodes], {});
      try {
        const tab = { id: TAB, type: 'tab', label: 'reliability' };
        const inline = { ...deviceConfig(emulator, device!), credentials: { key: device!.key } };
        await helper.setFlows([tab, inline, ...nodes], 'full');
        await waitOnline(emulator, [device!]);
        const ok = collect('ok');
        node('post').receive({ payload: { temperature: 1 } });
        await waitFor(() => ok.length === 1, 'a post with the inline key');
        // What the editor's GET /flows and GET /credentials/onenet-device/<id> return.
        flowsApi.init({ nodes: helper._redNodes, flows: helper._redNodes, log: { audit: () => undefined } });
        const exported = await flowsApi.getFlows({});
        transcript.add('GET /flows', exported);
        assert.ok(JSON.stringify(exported).includes('"onenet-device"'), 'the device config is exported');
        const credentials = await flowsApi.getNodeCredentials({
          type: 'onenet-device',
          id: device!.configId,
        });
        assert.deepEqual(credentials, { has_key: true }, 'the editor learns only that a key is set');
      } finally {
        await captureAndUnload();
      }
    });

    it('finds no key and no token in anything a user could see', () => {
      // The scan must be able to fail: a planted key and a planted token signature are found.
      const key = [...secretLedger.keys][0]!;
      const sign = /sign=([^&]+)/.exec([...secretLedger.tokens][0]!)![1]!;
      const planted = findSecrets([
        { source: 'planted', text: `{"msg":"connect with ${key} failed"}` },
        { source: 'planted', text: `password=version=2018-10-31&x=1&sign=${sign}` },
      ]);
      assert.deepEqual(
        planted.map((finding) => finding.what),
        ['a device key', "a token's signature"],
      );

      const findings = findSecrets();
      const bySource: Record<string, number> = {};
      for (const entry of transcript.entries) bySource[entry.source] = (bySource[entry.source] ?? 0) + 1;
      const scannedChars = transcript.entries.reduce((sum, entry) => sum + entry.text.length, 0);
      assert.ok(transcript.entries.length > 1000, 'the scenarios left plenty to scan');
      assert.ok(secretLedger.tokens.size > 100, 'and used plenty of tokens');
      assert.deepEqual(
        findings.map((finding) => `${finding.what} in ${finding.source}`),
        [],
        'no secret in anything a user could see',
      );
      report('secrets', {
        'device keys': secretLedger.keys.size,
        'login tokens': secretLedger.tokens.size,
        'secret forms searched (key, token, signature raw and URL-encoded)': secretForms().length,
        'texts scanned': transcript.entries.length,
        'characters scanned': scannedChars,
        'texts by source': JSON.stringify(bySource),
        'secrets found': findings.length,
      });
    });
  });
}
