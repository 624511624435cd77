import type { DeviceChannel } from './connection';
import { commandInfoOf, desiredInfoOf, otherDeviceOf, replyOf, requiredReplyCode } from './node-red/command';
import { checkModelPropertyValues, checkModelServiceOutput } from './protocol/tsl-check';
import { SUCCESS_CODE } from './protocol';
import { DeviceLink } from './node-red/device-link';
import { findDeviceNode } from './node-red/device-node';
import { ModelGate } from './node-red/model-check';
import { FlowError } from './node-red/flow-error';
import { runInput } from './node-red/input';
import type { Node, NodeAPI, NodeDef } from './node-red/node-red-types';

interface CommandReplyNodeDef extends NodeDef {
  device?: string;
}

/**
 * `onenet-command-reply`: answers the platform request a msg from onenet-command-in carries, with
 * msg.code (default 200), msg.message and msg.payload as data. The device is the node's own, or the
 * one the request came from; a request from another device than the node's own is refused, not
 * answered on the wrong topic. A second answer to the same request is not sent, only warned about.
 */
export = function registerCommandReplyNode(RED: NodeAPI): void {
  function OneNetCommandReplyNode(this: Node, def: CommandReplyNodeDef): void {
    RED.nodes.createNode(this, def);
    const ownDevice = def.device || undefined;
    const link = new DeviceLink(RED, this, ownDevice, false);
    const gate = new ModelGate(RED, this);
    this.on('input', (msg, _send, done) => {
      const desired = desiredInfoOf(msg);
      const request = desired ?? commandInfoOf(msg);
      const connectionOf = () => {
        if (ownDevice) {
          // Checked before the connection is taken, so nothing goes out on the wrong device's topic.
          const devices = request && !msg.action ? otherDeviceOf(RED, ownDevice, request) : undefined;
          if (devices) throw new FlowError(link.t('otherDevice', devices), 'failedOtherDevice');
          return link.ownConnection();
        }
        if (request?.device) return link.connectionFor(request.device);
        throw msg.action
          ? new FlowError(link.t('noDevice'), 'noDeviceStatus')
          : new FlowError(link.t('noOnenet'), 'failedNoOnenet');
      };
      runInput(link, msg, done, connectionOf, async (connection) => {
        if (!request) throw new FlowError(link.t('noOnenet'), 'failedNoOnenet');
        if (request.kind === 'desired') {
          await clearDesired(request.versions, connection);
          return;
        }
        const reply = replyOf(request, msg);
        // replyOf checked the data's shape; the model checks what is in it (successful replies only).
        if (reply.code === SUCCESS_CODE && reply.data !== undefined) {
          const data = reply.data;
          gate.enforce(findDeviceNode(RED, ownDevice ?? request.device), (model) =>
            request.kind === 'property-get'
              ? checkModelPropertyValues(model, data as Record<string, unknown>)
              : request.kind === 'service-invoke' && request.identifier !== undefined
                ? checkModelServiceOutput(model, request.identifier, data)
                : [],
          );
        }
        const outcome = await connection.reply(request, reply.code, reply.data, reply.message);
        if (outcome === 'duplicate') {
          this.warn(link.t('duplicateReply', { id: request.id }));
          return;
        }
        if (outcome === 'late') this.warn(link.t('lateReply', { id: request.id }));
        link.status.showReplied(reply.code);
      });

      /**
       * A desired-values message: code 200 means "applied", so exactly its versions are deleted on
       * OneNET (a value set again since keeps its newer version) and the node settles on the
       * delete's reply. Any other code leaves them there: they are delivered again after the next login.
       */
      async function clearDesired(
        versions: Record<string, number>,
        connection: DeviceChannel,
      ): Promise<void> {
        if (requiredReplyCode(msg) !== SUCCESS_CODE) {
          link.status.showConnection();
          return;
        }
        await connection.deleteDesired(versions);
        link.status.showReplied(SUCCESS_CODE);
      }
    });
  }

  RED.nodes.registerType('onenet-command-reply', OneNetCommandReplyNode);
};
