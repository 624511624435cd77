/**
 * Removes secrets from text that may reach a log, a status or an error: the key and the current
 * token (and its URL-decoded sign, which is derived from the key). Error texts from MQTT.js and Node
 * do not normally carry them; this is the guarantee that they never do.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4 && result.includes(secret)) result = result.split(secret).join('***');
  }
  return result;
}
