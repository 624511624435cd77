import { inspect } from 'node:util';

/**
 * What the secrets check at the end of the reliability suite compares: every key and token the
 * scenarios used (the ledger) against everything a user could have seen meanwhile (the transcript:
 * Node-RED log lines, node statuses, warnings and errors, Catch messages, exported flows, connection
 * statuses and errors, emulator log lines).
 */

export const secretLedger = {
  keys: new Set<string>(),
  tokens: new Set<string>(),
};

/** One recorded text and where it was seen. */
export interface TranscriptEntry {
  source: string;
  text: string;
}

const entries: TranscriptEntry[] = [];

export const transcript = {
  /** Records `value` as text; objects are rendered fully (circular ones too), strings as they are. */
  add(source: string, value: unknown): void {
    entries.push({ source, text: render(value) });
  },
  get entries(): readonly TranscriptEntry[] {
    return entries;
  },
};

function render(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // Circular or BigInt: inspect renders those without throwing.
  }
  return inspect(value, { depth: 20, maxArrayLength: 200, maxStringLength: 100_000, breakLength: Infinity });
}

/**
 * The forms a secret could take in text: the key as pasted, a token whole, and a token's signature
 * both URL-encoded (as in the token) and decoded (as derived from the key).
 */
export function secretForms(): Array<{ what: string; value: string }> {
  const forms: Array<{ what: string; value: string }> = [];
  for (const key of secretLedger.keys) forms.push({ what: 'a device key', value: key });
  for (const token of secretLedger.tokens) {
    forms.push({ what: 'a login token', value: token });
    const sign = /(?:^|&)sign=([^&]+)/.exec(token)?.[1];
    if (sign) {
      forms.push({ what: "a token's signature", value: sign });
      forms.push({ what: "a token's signature (decoded)", value: decodeURIComponent(sign) });
    }
  }
  return forms;
}

export interface SecretFinding {
  what: string;
  source: string;
}

/** Secrets are long (a base64 key or signature is 24+ characters); shorter runs cannot hold one. */
const PROBE_CHARS = 16;

/**
 * Every place a secret form occurs in the transcript (or in `texts`, when given). Instead of
 * searching each of thousands of secrets in megabytes of text, every run of key/token characters is
 * slid past an index of the secrets' first 16 characters, so the scan is linear in the text.
 */
export function findSecrets(texts: readonly TranscriptEntry[] = entries): SecretFinding[] {
  const byPrefix = new Map<string, Array<{ what: string; value: string }>>();
  for (const form of secretForms()) {
    if (form.value.length < PROBE_CHARS) continue;
    const prefix = form.value.slice(0, PROBE_CHARS);
    byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), form]);
  }
  const findings: SecretFinding[] = [];
  for (const { source, text } of texts) {
    // Runs between the characters that delimit values in logs and JSON; no secret form contains them.
    for (const run of text.match(/[^\s"'`\\,;(){}[\]<>]{16,}/g) ?? []) {
      for (let i = 0; i + PROBE_CHARS <= run.length; i++) {
        for (const form of byPrefix.get(run.slice(i, i + PROBE_CHARS)) ?? []) {
          if (run.startsWith(form.value, i)) findings.push({ what: form.what, source });
        }
      }
    }
  }
  return findings;
}
