import { connect as tcpConnect, type Socket } from 'node:net';
import { generate, parser as createParser, type Packet } from 'mqtt-packet';
import type { EmulatorDevice } from '../../src/emulator';
import { tokenFor } from './helpers';

const openRawClients = new Set<Socket>();

/** Call from afterEach (next to closeAll): destroys every raw socket a test opened. */
export function closeRawClients(): void {
  for (const socket of openRawClients) socket.destroy();
  openRawClients.clear();
}

/**
 * A device on a bare TCP socket that writes whatever MQTT packets a test hands it, including ones
 * MQTT.js would never send (a PUBREC out of nowhere, a client-sent CONNACK). Packets are encoded by
 * mqtt-packet, the encoder MQTT.js and aedes use.
 */
export class RawMqttClient {
  /** Every packet received from the emulator, in order. */
  readonly received: Packet[] = [];
  /** When each packet of `received` arrived (ms), at the same index. */
  readonly receivedAt: number[] = [];
  private closedFlag = false;
  private readonly closeWaiters: Array<() => void> = [];
  private readonly packetWaiters: Array<{ cmd: string; resolve: (packet: Packet) => void }> = [];

  private constructor(private readonly socket: Socket) {
    const parser = createParser({ protocolVersion: 4 });
    parser.on('packet', (packet: Packet) => {
      this.received.push(packet);
      this.receivedAt.push(Date.now());
      for (const waiter of this.packetWaiters.filter((w) => w.cmd === packet.cmd)) {
        this.packetWaiters.splice(this.packetWaiters.indexOf(waiter), 1);
        waiter.resolve(packet);
      }
    });
    socket.on('data', (chunk) => parser.parse(chunk));
    socket.on('error', () => undefined); // a reset by the emulator shows up as 'close' too
    socket.on('close', () => {
      this.closedFlag = true;
      for (const resolve of this.closeWaiters.splice(0)) resolve();
    });
  }

  /** Opens a socket to the emulator and logs in as `device`; resolves once CONNACK 0 arrived. */
  static async login(port: number, device: EmulatorDevice, timeoutMs = 3000): Promise<RawMqttClient> {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    openRawClients.add(socket);
    socket.once('close', () => openRawClients.delete(socket));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawMqttClient(socket);
    client.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      clientId: device.deviceName,
      username: device.productId,
      password: Buffer.from(tokenFor(device)),
    });
    const connack = await client.nextPacket('connack', timeoutMs);
    if (connack.cmd !== 'connack' || connack.returnCode !== 0) {
      client.destroy();
      throw new Error(`login refused: ${JSON.stringify(connack)}`);
    }
    return client;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  send(packet: Packet): void {
    this.socket.write(generate(packet, { protocolVersion: 4 }));
  }

  /** The next packet of type `cmd` from the emulator, or a rejection after `timeoutMs`. */
  nextPacket(cmd: Packet['cmd'], timeoutMs = 3000): Promise<Packet> {
    return new Promise((resolve, reject) => {
      const waiter = {
        cmd,
        resolve: (packet: Packet): void => {
          clearTimeout(timer);
          resolve(packet);
        },
      };
      const timer = setTimeout(() => {
        this.packetWaiters.splice(this.packetWaiters.indexOf(waiter), 1);
        reject(new Error(`no ${cmd.toUpperCase()} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.packetWaiters.push(waiter);
    });
  }

  /** Resolves once the emulator closed the socket, or rejects after `timeoutMs`. */
  closedWithin(timeoutMs = 3000): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the socket was still open after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}
