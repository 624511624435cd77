/** A run of this many characters without a space is data, not words. */
const MAX_RUN = 80;
/** Longer than this, a message no longer fits a status, a log line or the debug sidebar. */
const MAX_CHARS = 500;

/**
 * Keeps a message readable when it quotes data: the protocol core names the path and id of what it
 * refuses, and those come from the user's msg or from the platform, so they can be a 100 000
 * character property name or a megabyte of garbage. Overlong runs are shortened to their start and
 * end around an ellipsis, so the sentence around them ("... is NaN, which is not a finite number")
 * survives; what is still too long loses its middle.
 */
export function readableText(text: string): string {
  if (text.length <= MAX_RUN) return text;
  const shortened = text.replace(
    new RegExp(`\\S{${MAX_RUN + 1},}`, 'g'),
    (run) => `${run.slice(0, 48)}…${run.slice(-16)}`,
  );
  if (shortened.length <= MAX_CHARS) return shortened;
  return `${shortened.slice(0, 320)} … ${shortened.slice(-160)}`;
}
