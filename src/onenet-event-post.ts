import { checkModelEventPost } from './protocol/tsl-check';
import { DeviceLink } from './node-red/device-link';
import { findDeviceNode } from './node-red/device-node';
import { DynamicSubDevices, type SubDeviceTarget } from './node-red/dynamic-sub-devices';
import { ModelGate, type ModelSource } from './node-red/model-check';
import { FlowError } from './node-red/flow-error';
import { runInput } from './node-red/input';
import type { Node, NodeAPI } from './node-red/node-red-types';
import { payloadObject, postAndForward, postOptions, type PostNodeDef } from './node-red/post';

interface EventPostNodeDef extends PostNodeDef {
  event?: string;
}

/**
 * `onenet-event-post`: msg.payload (the event's output parameters, or JSON text of them) is posted
 * as event `event`, or msg.event when the node's field is empty; the msg goes on with msg.onenet
 * once OneNET accepted it.
 */
export = function registerEventPostNode(RED: NodeAPI): void {
  function OneNetEventPostNode(this: Node, def: EventPostNodeDef): void {
    RED.nodes.createNode(this, def);
    const link = new DeviceLink(RED, this, def.device, true);
    const configuredEvent = (def.event ?? '').trim();
    const gate = new ModelGate(RED, this);
    const subDevices = new DynamicSubDevices(RED, this);
    this.on('input', (msg, send, done) => {
      // msg.subDevice posts for a sub-device of this gateway: checked against its product's model.
      let modelSource: ModelSource | undefined;
      let target: SubDeviceTarget | undefined;
      runInput(
        link,
        msg,
        done,
        () => {
          target = subDevices.targetFor(link, msg);
          modelSource = target ?? findDeviceNode(RED, def.device);
          // msg.action (unbind) acts on the sub-device itself; a post binds it after the model check.
          return target ? (msg.action ? target.bind() : target.gateway) : link.ownConnection();
        },
        async (connection) => {
          const identifier = configuredEvent || msg.event;
          if (identifier === undefined || identifier === '')
            throw new FlowError(link.t('noEvent'), 'failedNoEvent');
          // The identifier's form is checked by the protocol core, which names what is wrong with it.
          await postAndForward(link, msg, send, () => {
            const output = payloadObject(msg.payload, 'of output parameters');
            gate.enforce(modelSource, (model) => checkModelEventPost(model, String(identifier), output));
            return (target?.bind() ?? connection).request(
              'event-post',
              { identifier: identifier as string, output },
              postOptions(def, msg),
            );
          });
        },
      );
    });
  }

  RED.nodes.registerType('onenet-event-post', OneNetEventPostNode);
};
