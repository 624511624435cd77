import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { Duplex } from 'node:stream';

/**
 * One listening socket (plain TCP or TLS) that can stop and start again on the same port, closing
 * every connection it accepted when it stops (the emulator's stopListening/startListening hooks).
 */
export class Listener {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private boundPort: number | undefined;

  constructor(
    private readonly tlsOptions: TlsOptions | undefined,
    private readonly onConnection: (stream: Duplex) => void,
    private readonly onTlsError: (error: Error) => void,
  ) {}

  get port(): number | undefined {
    return this.boundPort;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Listens on `port` (0 = a free one the first time; the same one after a stop). */
  async listen(host: string, port: number): Promise<number> {
    if (this.server) return this.boundPort!;
    const server = this.tlsOptions ? createTlsServer(this.tlsOptions) : createTcpServer();
    // Raw TCP sockets are tracked for both kinds, so a stop can cut TLS connections mid-handshake too.
    server.on('connection', (socket: Socket) => {
      // MQTT packets are small and often written in pieces: without this, Nagle's algorithm meets
      // the peer's delayed ACK and a request/reply exchange waits ~40 ms for nothing.
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      if (!this.tlsOptions) this.onConnection(socket);
    });
    if (this.tlsOptions) {
      server.on('secureConnection', (socket) => this.onConnection(socket));
      server.on('tlsClientError', (error) => this.onTlsError(error));
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: this.boundPort ?? port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('listener has no TCP address');
    this.server = server;
    this.boundPort = address.port;
    return address.port;
  }

  /** Stops accepting and closes every accepted connection. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }
}
