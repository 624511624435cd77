import { OneNetRequestError } from './errors';
import type { SubDeviceRecord } from './sub-devices';
import type { RequestEntry } from './uplink-types';
import type { ConnectionState, OfflinePolicy, SubDeviceState } from './types';

/**
 * What happens to a sub-device's post by the state of the sub-device and of its gateway: sent when
 * it is logged in; held (its own timeout running) only while it is being bound and logged in; failed
 * at once with a clear reason when it is not bound or was refused. A gateway that is offline under
 * offlinePolicy 'fail' refuses it at once, as it refuses its own posts. Under 'store' the gateway
 * stores the posts it cannot send (DeviceConnection), and a held one that waited its whole timeout.
 */
export interface PostHooks {
  submit: (entry: RequestEntry) => void;
  fail: (entry: RequestEntry, error: OneNetRequestError) => void;
  gatewayState: () => ConnectionState;
  offlinePolicy: OfflinePolicy;
  /** `change` posts more (or fewer) are held: its nodes show how many wait (SubDeviceStatus.waiting). */
  heldChanged: (record: SubDeviceRecord, change: number) => void;
  /** offlinePolicy 'store': takes a post that waited its whole timeout; false when it does not. */
  store?: (entry: RequestEntry) => boolean;
}

export function admitPost(record: SubDeviceRecord, entry: RequestEntry, hooks: PostHooks): void {
  const { state, code } = record.status;
  const gateway = hooks.gatewayState();
  const loggingIn = gateway === 'connecting' || gateway === 'connected';
  if (state === 'logged-in' || (state === 'binding' && !loggingIn && hooks.offlinePolicy === 'fail')) {
    hooks.submit(entry);
    return;
  }
  if (state !== 'binding') {
    hooks.fail(entry, notUsable(record, state, code));
    return;
  }
  entry.timer = setTimeout(() => {
    const index = record.held.indexOf(entry);
    if (index < 0) return;
    record.held.splice(index, 1);
    hooks.heldChanged(record, -1);
    if (hooks.store?.(entry)) return;
    hooks.fail(
      entry,
      // 'busy', as for a post that waited its whole timeout behind others: it was never sent, so
      // a retry cannot post it twice ('timeout' means it was sent and may have arrived).
      new OneNetRequestError(
        'busy',
        `not sent within ${entry.timeoutMs} ms: the sub-device was still being bound and logged in`,
        { sent: false },
      ),
    );
  }, entry.timeoutMs);
  record.held.push(entry);
  hooks.heldChanged(record, 1);
}

/** Why a post of the sub-device cannot go out; names the sub-device, never its key. */
export function notUsable(
  record: SubDeviceRecord,
  state: SubDeviceState,
  code: number | undefined,
): OneNetRequestError {
  const device = `${record.identity.productID}/${record.identity.deviceName}`;
  return state === 'not-bound'
    ? new OneNetRequestError('reply', `not sent: sub-device ${device} is not bound to the gateway`)
    : new OneNetRequestError(
        'reply',
        `not sent: OneNET refused sub-device ${device}${code === undefined ? '' : ` with code ${code}`} (check its key and that it belongs to a sub-device product)`,
        code === undefined ? {} : { code },
      );
}

export function failHeld(record: SubDeviceRecord, error: OneNetRequestError, hooks: PostHooks): void {
  const held = record.held;
  if (held.length === 0) return;
  record.held = [];
  hooks.heldChanged(record, -held.length);
  for (const entry of held) if (!entry.done) hooks.fail(entry, error);
}

/**
 * offlinePolicy 'store', the gateway no longer connected: the held posts go to the store at once, as
 * every post the gateway cannot send does; the backfill delivers them once the sub-device is logged
 * in again. One the store does not take (it is closing) stays held under its own timeout.
 */
export function storeHeld(record: SubDeviceRecord, hooks: PostHooks): void {
  if (!hooks.store || record.held.length === 0) return;
  const kept = record.held.filter((entry) => !entry.done && !hooks.store!(entry));
  const change = kept.length - record.held.length;
  record.held = kept;
  if (change !== 0) hooks.heldChanged(record, change);
}

/** The held posts go to the pipeline, which starts each one's timeout afresh. */
export function releaseHeld(record: SubDeviceRecord, hooks: PostHooks): void {
  const held = record.held;
  if (held.length === 0) return;
  record.held = [];
  hooks.heldChanged(record, -held.length);
  for (const entry of held) {
    if (entry.done) continue;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    hooks.submit(entry);
  }
}
