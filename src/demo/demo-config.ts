import { join, resolve } from 'node:path';
import { editorHost } from './editor-host';

/**
 * What `npm start` is told through the environment and its arguments, checked in one place so a
 * typo ends the demo with a clear message instead of a Node-RED on an unexpected port.
 */

export interface DemoConfig {
  /** The Node-RED user directory: flows, credentials, the demo key. ONENET_DEMO_DIR. */
  userDir: string;
  /** HOST; loopback unless set. */
  editorHost: string;
  /** PORT */
  editorPort: number;
  /** ONENET_EMULATOR_PORT; 0 takes a free port. */
  emulatorPort: number;
  /** ONENET_DEMO_INTERVAL_MS: how often the simulated console sends a command. */
  commandIntervalMs: number;
  /** --reset: put the examples back as shipped. */
  reset: boolean;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`${name}=${raw}: expected a whole number from ${min} to ${max}`);
  return value;
}

export function readDemoConfig(env: NodeJS.ProcessEnv, args: string[], packageRoot: string): DemoConfig {
  const unknown = args.filter((arg) => arg !== '--reset');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown.join(' ')} (known: --reset)`);
  return {
    userDir: env.ONENET_DEMO_DIR?.trim() ? resolve(env.ONENET_DEMO_DIR) : join(packageRoot, '.node-red-demo'),
    editorHost: editorHost(env),
    // The admin API is reached at this port, so Node-RED's own "pick any port" (0) is not offered.
    editorPort: integer(env, 'PORT', 1880, 1, 65535),
    emulatorPort: integer(env, 'ONENET_EMULATOR_PORT', 1883, 0, 65535),
    commandIntervalMs: integer(env, 'ONENET_DEMO_INTERVAL_MS', 10_000, 100, 2 ** 31 - 1),
    reset: args.includes('--reset'),
  };
}
