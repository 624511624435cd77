import mqtt, { type MqttClient } from 'mqtt';
import type {
  DoneFunction,
  NodeAPI,
  Node,
  NodeDef,
  NodeMessage,
  SendFunction,
} from '../src/node-red/node-red-types';
import { longLivedToken, topicOf, type BenchDevice } from './devices';

/**
 * `bench-minimal-post`: the least a Node-RED node that posts properties and waits for OneNET's
 * replies can do, written the way a careful user writes one on MQTT.js: its own client (a long-lived
 * token, no reconnect), OneJSON built with JSON.stringify from msg.payload, replies matched by id in a
 * Map, then the message sent on. No checks, no timeout, no status, no options, no msg.onenet. #1
 * runs it beside the property post node so the figure shows what Node-RED itself costs a node that
 * waits for replies, apart from what this package adds. Never shipped.
 */

export const BENCH_MINIMAL_TYPE = 'bench-minimal-post';

interface MinimalDef extends NodeDef {
  /** The emulator's port and the device, as JSON (benchmark flows only). */
  port?: number;
  device?: BenchDevice;
}

interface Pending {
  msg: NodeMessage;
  send: SendFunction;
  done: DoneFunction;
}

export function registerMinimalNode(RED: NodeAPI): void {
  function MinimalPostNode(this: Node, def: MinimalDef): void {
    RED.nodes.createNode(this, def);
    const device = def.device!;
    const postTopic = topicOf(device, 'property-post');
    const replyTopic = topicOf(device, 'property-post-reply');
    const pending = new Map<string, Pending>();
    let nextId = 1;
    const client: MqttClient = mqtt.connect({
      host: '127.0.0.1',
      port: def.port!,
      protocolVersion: 4,
      clean: true,
      clientId: device.deviceName,
      username: device.productId,
      password: longLivedToken(device),
      keepalive: 120,
      reconnectPeriod: 0,
    });
    client.on('connect', () => client.subscribe(replyTopic, { qos: 0 }));
    client.on('error', (error) => this.error(error.message));
    client.on('message', (topic, payload) => {
      if (topic !== replyTopic) return;
      const reply = JSON.parse(payload.toString()) as { id: string; code: number; msg?: string };
      const waiting = pending.get(reply.id);
      if (!waiting) return;
      pending.delete(reply.id);
      if (reply.code === 200) {
        waiting.send(waiting.msg);
        waiting.done();
      } else waiting.done(new Error(`reply ${reply.code} ${reply.msg ?? ''}`));
    });
    this.on('input', (msg, send, done) => {
      const values = msg.payload as Record<string, unknown>;
      const params: Record<string, { value: unknown }> = {};
      for (const identifier in values) params[identifier] = { value: values[identifier] };
      const id = String(nextId++);
      pending.set(id, { msg, send, done });
      const qos = (msg as { qos?: number }).qos === 0 ? 0 : 1;
      client.publish(postTopic, JSON.stringify({ id, version: '1.0', params }), { qos }, (error) => {
        if (!error) return;
        pending.delete(id);
        done(error);
      });
    });
    this.on('close', (_removed: boolean, done: () => void) => {
      client.end(true, {}, () => done());
    });
  }
  RED.nodes.registerType(BENCH_MINIMAL_TYPE, MinimalPostNode);
}

/** The editor half Node-RED insists on finding. */
export const BENCH_MINIMAL_HTML = `<script type="text/javascript">
RED.nodes.registerType('${BENCH_MINIMAL_TYPE}', {
  category: 'function', color: '#ddd', defaults: { port: { value: 0 }, device: { value: {} } }, inputs: 1, outputs: 1,
  label: function () { return 'minimal post'; },
});
</script>
`;
