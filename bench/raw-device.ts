import mqtt, { type MqttClient } from 'mqtt';
import { longLivedToken, sampleProperties, topicOf, type BenchDevice } from './devices';

/**
 * The baseline: a OneNET device hand-rolled on plain MQTT.js, as a careful user writes one without
 * this package. It logs in with a long-lived token, subscribes to the same topics our connection
 * does, builds OneJSON with JSON.stringify, matches replies to requests by id itself, and can answer
 * property set commands. No validation, no offline policy, no reconnect: the bare minimum.
 */
export class RawDevice {
  private client: MqttClient | undefined;
  private nextId = 1;
  private readonly waiting = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  private answerCommands = false;
  private readonly postTopic: string;
  private readonly postReplyTopic: string;
  private readonly setTopic: string;
  private readonly setReplyTopic: string;

  constructor(
    readonly device: BenchDevice,
    private readonly port: number,
  ) {
    this.postTopic = topicOf(device, 'property-post');
    this.postReplyTopic = topicOf(device, 'property-post-reply');
    this.setTopic = topicOf(device, 'property-set');
    this.setReplyTopic = topicOf(device, 'property-set-reply');
  }

  /** Connects and subscribes; resolves once the SUBACK is in. */
  async connect(): Promise<void> {
    const client = mqtt.connect({
      host: '127.0.0.1',
      port: this.port,
      protocolVersion: 4,
      clean: true,
      clientId: this.device.deviceName,
      username: this.device.productId,
      password: longLivedToken(this.device),
      keepalive: 120,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', () => undefined); // a failed login rejects connect() through 'close'
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('close', () => reject(new Error(`${this.device.deviceName} could not connect`)));
    });
    const prefix = `$sys/${this.device.productId}/${this.device.deviceName}/`;
    await client.subscribeAsync(
      [
        this.postReplyTopic,
        `${prefix}thing/event/post/reply`,
        this.setTopic,
        `${prefix}thing/property/get`,
        `${prefix}thing/service/+/invoke`,
      ],
      { qos: 0 },
    );
  }

  /** From now on, every property set is answered with code 200 at once. */
  answerPropertySets(): void {
    this.answerCommands = true;
  }

  /**
   * Publishes one property post. With `waitReply`, resolves when the platform's reply with the same
   * id arrives (rejects on a code other than 200); else when MQTT.js reports the publish done
   * (written for QoS 0, PUBACKed for QoS 1).
   */
  post(sequence: number, qos: 0 | 1, waitReply: boolean): Promise<void> {
    const client = this.client!;
    const id = String(this.nextId++);
    const message = JSON.stringify({ id, version: '1.0', params: toTimed(sampleProperties(sequence)) });
    return new Promise<void>((resolve, reject) => {
      if (waitReply) this.waiting.set(id, { resolve, reject });
      client.publish(this.postTopic, message, { qos }, (error) => {
        if (error) {
          this.waiting.delete(id);
          reject(error);
        } else if (!waitReply) {
          resolve();
        }
      });
    });
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync();
    for (const waiter of this.waiting.values()) waiter.reject(new Error('closed'));
    this.waiting.clear();
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic === this.postReplyTopic) {
      const reply = JSON.parse(payload.toString()) as { id: string; code: number; msg?: string };
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if (reply.code === 200) waiter.resolve();
      else waiter.reject(new Error(`reply ${reply.code} ${reply.msg ?? ''}`));
    } else if (topic === this.setTopic && this.answerCommands) {
      const request = JSON.parse(payload.toString()) as { id: string };
      this.client?.publish(
        this.setReplyTopic,
        JSON.stringify({ id: request.id, code: 200, msg: 'success' }),
        {
          qos: 1,
        },
      );
    }
  }
}

function toTimed(values: Record<string, unknown>): Record<string, { value: unknown }> {
  const params: Record<string, { value: unknown }> = {};
  for (const [identifier, value] of Object.entries(values)) params[identifier] = { value };
  return params;
}
