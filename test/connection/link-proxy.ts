import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';

/**
 * A TCP relay between a client and the emulator that can turn into a half-open link: after
 * blackhole() it keeps every socket open but passes nothing in either direction, as a 4G link that
 * lost its radio does. Nothing is closed, so only the client's own timers can notice.
 */
export class LinkProxy {
  private dark = false;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<LinkProxy> {
    // The relay's state lives on the instance made once the server listens; handlers read it then.
    const holder: { proxy?: LinkProxy } = {};
    const server = createServer((inbound) => {
      const proxy = holder.proxy;
      const outbound = connect(targetPort, targetHost);
      for (const socket of [inbound, outbound]) {
        proxy!.sockets.add(socket);
        socket.on('close', () => proxy!.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      inbound.on('data', (chunk) => {
        if (!proxy!.dark) outbound.write(chunk);
      });
      outbound.on('data', (chunk) => {
        if (!proxy!.dark) inbound.write(chunk);
      });
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.proxy = new LinkProxy(server, (server.address() as AddressInfo).port);
    return holder.proxy;
  }

  /** From now on nothing passes, and nothing is closed. */
  blackhole(): void {
    this.dark = true;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
