import { createDecipheriv, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowNode } from '../../src/demo/example-flows';

/** What Node-RED saved in the demo's user directory, read from disk rather than through its API. */

export function readFlowsFile(userDir: string): FlowNode[] {
  return JSON.parse(readFileSync(join(userDir, 'flows.json'), 'utf8')) as FlowNode[];
}

/**
 * Decrypts flows_cred.json the way Node-RED encrypts it: AES-256-CTR with the SHA-256 of
 * credentialSecret as the key, a 16-byte IV in hex, then the base64 ciphertext, under "$".
 */
export function readCredentialsFile(userDir: string, secret: string): Record<string, Record<string, string>> {
  const { $: sealed } = JSON.parse(readFileSync(join(userDir, 'flows_cred.json'), 'utf8')) as { $: string };
  const key = createHash('sha256').update(secret).digest();
  const decipher = createDecipheriv('aes-256-ctr', key, Buffer.from(sealed.slice(0, 32), 'hex'));
  const plain = decipher.update(sealed.slice(32), 'base64', 'utf8') + decipher.final('utf8');
  return JSON.parse(plain) as Record<string, Record<string, string>>;
}
