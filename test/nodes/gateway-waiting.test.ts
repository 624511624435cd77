import assert from 'node:assert/strict';
import { OneNetEmulator } from '../../src/emulator';
import { LANGUAGES, resolveKey, interpolate } from '../editor/catalogs';
import { collect, flowNode, node, unloadAndCheckPool, waitFor, waitStatus } from './support';
import { loadTranslated } from './translated';
import {
  GATEWAY,
  SUB_PRODUCT,
  newKey,
  ref,
  gatewayConfigNode,
  productConfigNode,
  subDeviceConfigNode,
} from './gateway-support';

/**
 * While its gateway binds and logs it in, a sub-device's posts wait; its nodes say how many
 * ("sub-device: binding (3 waiting)"), in the runtime's language, and return to "sub-device logged
 * in" once the posts went out (issue 15).
 */

const SUB = { productId: SUB_PRODUCT, deviceName: 'field-0', key: newKey() };
const PRODUCT_KEY = newKey();
const KEY = '@iot-flows/node-red-onenet/onenet-device:onenet-device.status.';

describe('gateway sub-devices: posts waiting for the binding show in the status', function () {
  this.timeout(30000);
  let emulator: OneNetEmulator;

  beforeEach(async () => {
    emulator = await OneNetEmulator.start({
      devices: [{ ...GATEWAY, nodeType: 'gateway' }, SUB],
      products: [{ productId: SUB_PRODUCT, accessKey: PRODUCT_KEY }],
    });
  });

  afterEach(async () => {
    await unloadAndCheckPool();
    await emulator.close();
  });

  for (const language of LANGUAGES) {
    // A status with a count is translated by the runtime; a plain one goes as its key, for the editor.
    const counted = (key: string, count: number): string =>
      interpolate(resolveKey(language, 'onenet-device', `${KEY}${key}`)!, { count });

    it(`counts the waiting posts on the sub-device's node (${language})`, async () => {
      // Every platform answer takes 1.5 s: topo/get, topo/add and sub/login keep it binding for a while.
      emulator.setReplyDelay(1500);
      await loadTranslated(
        language,
        [
          gatewayConfigNode(emulator, GATEWAY),
          subDeviceConfigNode('sub0', SUB),
          flowNode('p0', 'onenet-property-post', { device: 'sub0', waitReply: true, timeout: '15000' }, [
            ['p0-out'],
          ]),
          flowNode('p0-out', 'helper'),
        ],
        { gw: { key: GATEWAY.key }, sub0: { key: SUB.key } },
      );
      await waitStatus('p0', `${KEY}sub-binding`, 5000);
      const outputs = collect('p0-out');
      for (let i = 0; i < 3; i++) node('p0').receive({ payload: { level: i } });
      const waiting = counted('sub-binding-waiting', 3);
      assert.equal(
        waiting,
        language === 'en-US' ? 'sub-device: binding (3 waiting)' : '子设备：绑定中（3 条等待）',
      );
      await waitStatus('p0', waiting, 2000);
      assert.equal(emulator.loggedInSubDevices(ref(GATEWAY)).length, 0, 'still binding');
      emulator.setReplyDelay(0);
      await waitFor(() => outputs.length === 3, 'the waiting posts to go out', 15000);
      for (const msg of outputs) assert.equal((msg.onenet as { code: number }).code, 200);
      await waitStatus('p0', `${KEY}sub-logged-in`, 2000);
    });

    it(`counts the posts waiting for msg.subDevice sub-devices on the gateway's node (${language})`, async () => {
      await loadTranslated(
        language,
        [
          gatewayConfigNode(emulator, GATEWAY),
          productConfigNode('prod', SUB_PRODUCT),
          flowNode('gw-post', 'onenet-property-post', { device: 'gw', waitReply: true, timeout: '15000' }, [
            ['gw-out'],
          ]),
          flowNode('gw-out', 'helper'),
        ],
        { gw: { key: GATEWAY.key }, prod: { key: PRODUCT_KEY } },
      );
      await waitStatus('gw-post', 'node-red:common.status.connected', 5000);
      // Every platform answer takes 1.5 s: the sub-device stays in its binding and login meanwhile.
      emulator.setReplyDelay(1500);
      const outputs = collect('gw-out');
      const subDevice = { productId: SUB_PRODUCT, deviceName: SUB.deviceName };
      for (let i = 0; i < 3; i++) node('gw-post').receive({ payload: { level: i }, subDevice });
      await waitStatus('gw-post', counted('queued', 3), 2000);
      assert.equal(emulator.loggedInSubDevices(ref(GATEWAY)).length, 0, 'still binding');
      emulator.setReplyDelay(0);
      await waitFor(() => outputs.length === 3, 'the waiting posts to go out', 15000);
      for (const msg of outputs) assert.equal((msg.onenet as { code: number }).code, 200);
      await waitStatus('gw-post', counted('gateway-connected', 1), 2000);
    });
  }
});
