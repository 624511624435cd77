import { createServer } from 'node:net';

/**
 * Fails when something already listens on host:port. Without this check a second `npm start` would
 * find the first one's Node-RED answering on the port and deploy into it before its own Node-RED
 * gave up on the busy port.
 */
export function ensurePortFree(host: string, port: number, hint: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is in use; ${hint}`
            : `${host}:${port}: ${err.message}`,
        ),
      ),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}
