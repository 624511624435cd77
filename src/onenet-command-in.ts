import type { DownlinkRequest } from './connection';
import { DeviceLink } from './node-red/device-link';
import { acceptsRequest, toCommandMessage, type CommandInNodeDef } from './node-red/command';
import type { Node, NodeAPI } from './node-red/node-red-types';

/**
 * `onenet-command-in`: one message per platform request (property set, property get, service
 * invoke) for its device, filtered by `kind` and `service`. With `autoReply`, property sets are
 * answered 200 at once; the message still goes out so the flow can apply the values. A request none
 * of the device's command-in nodes accepts is answered 100 by the connection (see Downlinks).
 */
export = function registerCommandInNode(RED: NodeAPI): void {
  function OneNetCommandInNode(this: Node, def: CommandInNodeDef): void {
    RED.nodes.createNode(this, def);
    // Garbage from the platform is shown by this node rather than by the device's other nodes.
    const link = new DeviceLink(RED, this, def.device, true, true);
    const connection = link.startedConnection();
    // Without one, DeviceLink has already shown and logged why; there is nothing to listen to.
    if (!connection || !def.device) return;
    const deviceId = def.device;
    // Hand-written flows sometimes carry the checkbox as a string.
    const autoReply = def.autoReply === true || def.autoReply === 'true';
    // The filter is declared with the handler, not applied inside it: a request that no command-in
    // node of the device accepts is then answered by the connection at once, instead of timing out.
    const accepts = (request: DownlinkRequest): boolean => acceptsRequest(def, request);
    const removeHandler = connection.onDownlink((request) => {
      if (autoReply && request.kind === 'property-set') {
        connection.reply(request, 200).then(
          (outcome) => {
            // 'duplicate' means another auto-replying node answered first: fine, one reply went out.
            if (outcome === 'late') this.warn(link.t('lateReply', { id: request.id }));
          },
          (err: unknown) =>
            this.error(link.t('autoReplyFailed', { id: request.id, reason: (err as Error).message })),
        );
      }
      // Every command-in node of the device gets the same request object: each sends its own deep
      // copy, as core nodes clone a msg sent to several wires, so one flow changing msg.payload does
      // not change it under another.
      this.send(RED.util.cloneMessage(toCommandMessage(request, deviceId)));
    }, accepts);
    this.on('close', (_removed, done) => {
      removeHandler();
      done();
    });
  }

  RED.nodes.registerType('onenet-command-in', OneNetCommandInNode);
};
