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

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/**
 * The time at the start of every line the emulator CLI prints: HH:MM:SS.mmm in the machine's own
 * time zone, as Node-RED's log beside it shows its times, so the two can be read side by side.
 */
export function clockTime(date: Date): string {
  return (
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `.${pad(date.getMilliseconds(), 3)}`
  );
}
