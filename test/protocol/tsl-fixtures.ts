import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The path of a thing-model export file written for the tests (test/fixtures/thing-models). */
export function fixturePath(name: string): string {
  return resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'thing-models', name);
}

export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(fixturePath(name), 'utf8'));
}
