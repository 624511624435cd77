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

const PREVIEW_BYTES = 80;
/** Refuses bytes that are not UTF-8, and keeps a leading BOM (the default would drop it silently). */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Control characters (newline, ESC, ...): printed raw they would break a log line or the terminal. */
const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * A device payload for a log line, exactly as the device sent it (never re-serialised): the text
 * itself when it is UTF-8 without control characters, else its bytes in hex. Long payloads are cut
 * short, and then the line says how many bytes there were.
 */
export function previewBytes(bytes: Buffer): string {
  let text: string | undefined;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    text = undefined;
  }
  if (text !== undefined && !CONTROL_CHARACTER.test(text)) {
    if (text.length <= PREVIEW_CHARS) return text;
    // Cut between code points, never inside a surrogate pair.
    const kept = Array.from(text.slice(0, PREVIEW_CHARS * 2))
      .slice(0, PREVIEW_CHARS)
      .join('');
    return kept.length < text.length ? `${kept}… (${bytes.length} bytes)` : text;
  }
  const hex = bytes.subarray(0, PREVIEW_BYTES).toString('hex');
  return bytes.length > PREVIEW_BYTES
    ? `0x${hex}… (${bytes.length} bytes)`
    : `0x${hex} (${bytes.length} bytes)`;
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
