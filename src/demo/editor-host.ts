import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * Where the demo editor listens. Loopback by default, because the demo's Node-RED has no admin login:
 * whoever reaches the editor can edit and deploy flows. HOST=0.0.0.0 opens it to the network.
 */

export const LOOPBACK = '127.0.0.1';

/** HOST, checked: node-red's -D reads a value that parses as JSON (a number, say) as that JSON. */
export function editorHost(env: NodeJS.ProcessEnv): string {
  const host = env.HOST?.trim();
  if (!host) return LOOPBACK;
  // Digits and dots only, yet no IP address ("1.2", "80"): JSON would make a number of it.
  const isName = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host) && !/^[\d.]+$/.test(host);
  if (isIP(host) === 0 && !isName) throw new Error(`HOST=${host} is neither an IP address nor a host name`);
  return host;
}

export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** The URL this machine reaches the editor at: a wildcard address is reached over loopback. */
export function localUrl(host: string, port: number): string {
  if (host === '::') return `http://[::1]:${port}`;
  return `http://${urlHost(isWildcard(host) ? LOOPBACK : host)}:${port}`;
}

/** The URLs other machines may use: this machine's own addresses when listening on all of them. */
export function networkUrls(host: string, port: number): string[] {
  if (isLoopback(host)) return [];
  if (!isWildcard(host)) return [`http://${urlHost(host)}:${port}`];
  const v4Only = host === '0.0.0.0';
  return Object.values(networkInterfaces())
    .flatMap((addresses) => addresses ?? [])
    .filter((address) => !address.internal && (!v4Only || address.family === 'IPv4'))
    .filter((address) => !address.address.startsWith('fe80:')) // link-local: needs a zone id
    .map((address) => `http://${urlHost(address.address)}:${port}`);
}
