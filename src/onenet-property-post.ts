import type { DeviceChannel } from './connection';
import { checkModelPropertyValues } from './protocol/tsl-check';
import { DeviceLink } from './node-red/device-link';
import { findDeviceNode } from './node-red/device-node';
import { DynamicSubDevices, type SubDeviceTarget } from './node-red/dynamic-sub-devices';
import { ModelGate, postedValues, type ModelSource } from './node-red/model-check';
import { runInput } from './node-red/input';
import type { Node, NodeAPI } from './node-red/node-red-types';
import { payloadObject, postAndForward, postOptions, type PostNodeDef } from './node-red/post';

/**
 * `onenet-property-post`: msg.payload `{identifier: value}` (or `{identifier: {value, time}}`, or
 * JSON text of either) is posted as the device's properties; the msg goes on with msg.onenet once
 * OneNET accepted it.
 */
export = function registerPropertyPostNode(RED: NodeAPI): void {
  function OneNetPropertyPostNode(this: Node, def: PostNodeDef): void {
    RED.nodes.createNode(this, def);
    const link = new DeviceLink(RED, this, def.device, true);
    const subDevices = new DynamicSubDevices(RED, this);
    const gate = new ModelGate(RED, this);
    this.on('input', (msg, send, done) => {
      // msg.subDevice posts for a sub-device of this gateway: checked against its product's model.
      let modelSource: ModelSource | undefined;
      let target: SubDeviceTarget | undefined;
      const connectionOf = (): DeviceChannel => {
        target = subDevices.targetFor(link, msg);
        modelSource = target ?? findDeviceNode(RED, def.device);
        // msg.action (unbind) acts on the sub-device itself; a post binds it after the model check.
        return target ? (msg.action ? target.bind() : target.gateway) : link.ownConnection();
      };
      runInput(link, msg, done, connectionOf, (connection) =>
        postAndForward(link, msg, send, () => {
          const payload = payloadObject(msg.payload, 'of {identifier: value}');
          // Before anything is sent: with modelCheck "reject" a refused post throws here.
          gate.enforce(modelSource, (model) => {
            const values = postedValues(payload);
            return values ? checkModelPropertyValues(model, values) : [];
          });
          return (target?.bind() ?? connection).request('property-post', payload, postOptions(def, msg));
        }),
      );
    });
  }

  RED.nodes.registerType('onenet-property-post', OneNetPropertyPostNode);
};
