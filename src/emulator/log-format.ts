import type { DeviceRef } from './types';

/** How log lines name a device: `productId/deviceName`. */
export function describeDevice(ref: DeviceRef): string {
  return `${ref.productId}/${ref.deviceName}`;
}

const PREVIEW_CHARS = 160;

/** A one-line JSON preview of a payload, cut short so a log line stays a line. */
export function preview(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
}
