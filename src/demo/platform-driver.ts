import type { DeviceRef, OneNetEmulator } from '../emulator';

/**
 * Plays the OneNET console for the demo: every few seconds it sets a property, asks for property
 * values or invokes a service on the demo device, as a user clicking in the console would, and
 * prints what the device answered.
 */

export interface PlatformAction {
  describe: string;
  run(emulator: OneNetEmulator, device: DeviceRef): Promise<{ code: number; msg: string; data?: unknown }>;
}

export const DEMO_ACTIONS: PlatformAction[] = [
  {
    describe: 'set property targetTemperature',
    run: (emulator, device) =>
      emulator.setProperty(device, { targetTemperature: 18 + Math.round(Math.random() * 8) }),
  },
  {
    describe: 'get properties temperature, humidity',
    run: (emulator, device) => emulator.getProperty(device, ['temperature', 'humidity']),
  },
  {
    describe: 'invoke service reboot',
    run: (emulator, device) => emulator.invokeService(device, 'reboot', { delaySeconds: 1 }),
  },
];

export function startPlatformDriver(
  emulator: OneNetEmulator,
  device: DeviceRef,
  intervalMs: number,
  print: (line: string) => void,
): () => void {
  let next = 0;
  const timer = setInterval(() => {
    const action = DEMO_ACTIONS[next++ % DEMO_ACTIONS.length];
    action.run(emulator, device).then(
      (reply) =>
        print(
          `${action.describe}: device replied ${reply.code} ${reply.msg}${reply.data === undefined ? '' : ' ' + JSON.stringify(reply.data)}`,
        ),
      (err: Error) => print(`${action.describe}: ${err.message}`),
    );
  }, intervalMs);
  return () => clearInterval(timer);
}
