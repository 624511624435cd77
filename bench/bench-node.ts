import type { NodeAPI, Node, NodeDef } from '../src/node-red/node-red-types';
import { throughput, type Side } from './flow-helpers';

/**
 * `bench-source`: the throughput driver as an ordinary Node-RED node, the way real message sources
 * (Modbus, serial, MQTT in) are written. It feeds the publisher under test without the vm-sandbox
 * cost a function node adds to every message, so the figure shows what this package and Node-RED's
 * message routing cost, not what the benchmark's own driver costs. Loaded from a nodesDir that
 * node-red-harness.ts writes into the benchmark's user directory; never shipped.
 */

export const BENCH_SOURCE_TYPE = 'bench-source';

interface BenchSourceDef extends NodeDef {
  side?: Side;
}

export function registerBenchNodes(RED: NodeAPI): void {
  function BenchSourceNode(this: Node, def: BenchSourceDef): void {
    RED.nodes.createNode(this, def);
    const side: Side = def.side === 'core' ? 'core' : 'ours';
    const sender = { id: this.id, send: (messages: unknown) => this.send(messages as never) };
    this.on('input', (msg, _send, done) => {
      throughput(sender, msg as Record<string, unknown>, side);
      done();
    });
  }
  RED.nodes.registerType(BENCH_SOURCE_TYPE, BenchSourceNode);
}

/** The editor half Node-RED insists on finding next to a node's .js file. */
export const BENCH_SOURCE_HTML = `<script type="text/javascript">
RED.nodes.registerType('${BENCH_SOURCE_TYPE}', {
  category: 'function', color: '#ddd', defaults: { side: { value: 'ours' } }, inputs: 1, outputs: 2,
  label: function () { return 'bench source (' + this.side + ')'; },
});
</script>
`;
