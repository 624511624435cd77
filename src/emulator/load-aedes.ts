import type { Aedes } from 'aedes';

/**
 * Loads aedes, which is an ES module only. This package compiles to CommonJS, where a static import
 * becomes `require('aedes')`: that works only where Node.js can require() an ES module without a
 * flag (20.19+, 22.12+), so the emulator would not load on Node.js 22.9-22.11, which `engines`
 * names. A dynamic import() works from CommonJS on every supported Node.js, and TypeScript leaves it
 * an import() (not a require) in a CommonJS file under `module: node20`. Starting the broker is
 * asynchronous anyway, so waiting for the module here costs the emulator nothing.
 */
export async function loadAedes(): Promise<typeof Aedes> {
  return (await import('aedes')).Aedes;
}
