import assert from 'node:assert/strict';
import { OneNetRequestError } from '../../src/connection';
import { waitFor } from '../support/packed-install';
import { Harness } from './helpers';

/**
 * close() while disconnect() lets requests in flight settle: the old session's client must still be
 * ended (before, disconnect() returned once it saw the connection closed, and close() no longer knew
 * the client, so its socket stayed open until the broker dropped it).
 */
describe('connection / close() during disconnect()', () => {
  let harness: Harness;

  afterEach(async () => {
    await harness.close();
  });

  it('ends the old session, so the broker sees no client of the device afterwards', async () => {
    harness = await Harness.start();
    const device = harness.device();
    const connection = await harness.connected(device);
    harness.emulator.setReplyDelay(3000); // keeps the post in flight through disconnect()'s settle wait
    const inFlight = connection.request('property-post', { temp: 1 }).catch((err: OneNetRequestError) => err);
    await waitFor(
      'the post to reach the emulator',
      () => harness.emulator.uplinks(device.ref).length || undefined,
      3000,
    );
    const disconnecting = connection.disconnect();
    await connection.close();
    await disconnecting;
    const error = await inFlight;
    assert.ok(error instanceof OneNetRequestError, 'the post in flight failed');
    assert.equal(error.reason, 'closed');
    const sessions = (): number =>
      harness.emulator.connections().filter((c) => c.deviceName === device.ref.deviceName).length;
    await waitFor('the old client to end', () => (sessions() === 0 ? true : undefined), 3000);
  });
});
