import { existsSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core. Playwright's own browser download is not used: the
 * distribution package is what CI installs, and these tests must fail loudly (not skip) without it.
 */

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Background networking, component updates, sync and QUIC would all try to reach the internet at
// start; the tests talk to 127.0.0.1 only.
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

export interface Chromium {
  /** A new, empty browser profile (cookies, storage, editor language) for one test. */
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}

export function assertChromiumInstalled(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. The editor tests drive a real browser: ` +
        'install it with `apt-get install -y chromium` (or point CHROMIUM_PATH at a Chromium binary).',
    );
  }
}

/** Playwright gives the browser a fresh --user-data-dir of its own and removes it on close. */
export async function launchChromium(): Promise<Chromium> {
  assertChromiumInstalled();
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  return {
    newContext: async () => {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US' });
      // The editor asks the public node catalogue for the palette manager; nothing but loopback is ours.
      await context.route(
        (url) => /^(https?|wss?):$/.test(url.protocol) && !LOOPBACK_HOSTS.includes(url.hostname),
        (route) => route.abort('blockedbyclient'),
      );
      return context;
    },
    close: () => browser.close(),
  };
}
