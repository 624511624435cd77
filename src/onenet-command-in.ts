import type { DownlinkRequest } from './connection';
import { checkModelPropertySet } from './protocol/tsl-check';
import type { ModelViolation } from './protocol/tsl-types';
import { DeviceLink } from './node-red/device-link';
import { findDeviceNode } from './node-red/device-node';
import {
  acceptsDesired,
  acceptsRequest,
  toCommandMessage,
  toDesiredMessage,
  type CommandInNodeDef,
  type CommandInfo,
  type DesiredInfo,
} from './node-red/command';
import type { Node, NodeAPI } from './node-red/node-red-types';

/**
 * `onenet-command-in`: one message per platform request (property set, property get, service
 * invoke) for its device, filtered by `kind` and `service`. With `autoReply`, property sets are
 * answered 200 at once; the message still goes out so the flow can apply the values. A request none
 * of the device's command-in nodes accepts is answered 100 by the connection (see Downlinks).
 *
 * When the device's product has a thing model (and modelCheck is not "off"), a property set the model
 * refuses (a read-only or unknown identifier, a bad value) goes out with the violations in
 * msg.onenet.model, so the flow can refuse it instead of applying it; with autoReply and modelCheck
 * "reject" it is answered with the first violation's code instead of 200.
 *
 * Kind "desired" (and "all") also emits the desired values a device with syncDesired finds after
 * each login: msg.payload {identifier: value}, msg.onenet {kind: "desired", versions, device,
 * receivedAt}; onenet-command-reply with code 200 clears them on OneNET.
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
      let violations: ModelViolation[] | undefined;
      const active =
        request.kind === 'property-set' ? findDeviceNode(RED, deviceId)?.activeModel() : undefined;
      if (active) {
        const found = checkModelPropertySet(active.model, request.params as Record<string, unknown>);
        if (found.length > 0) violations = found;
      }
      if (autoReply && request.kind === 'property-set') {
        const refused = violations && active?.mode === 'reject' ? violations[0] : undefined;
        const reply = refused
          ? connection.reply(request, refused.code, undefined, refused.message)
          : connection.reply(request, 200);
        reply.then(
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
      const msg = toCommandMessage(request, deviceId);
      if (violations) (msg.onenet as CommandInfo).model = violations;
      this.send(RED.util.cloneMessage(msg));
    }, accepts);
    // Desired values (kind "desired", or "all"): one message per desired get that found any, after
    // a login of a device with syncDesired on. They are checked against the model like a property set.
    const removeDesired = acceptsDesired(def)
      ? connection.onDesired((delivery) => {
          const msg = toDesiredMessage(delivery, deviceId);
          const active = findDeviceNode(RED, deviceId)?.activeModel();
          const found = active ? checkModelPropertySet(active.model, delivery.values) : [];
          if (found.length > 0) (msg.onenet as DesiredInfo).model = found;
          // Each node its own deep copy, as for commands: struct values are objects.
          this.send(RED.util.cloneMessage(msg));
        })
      : () => undefined;
    this.on('close', (_removed, done) => {
      removeHandler();
      removeDesired();
      done();
    });
  }

  RED.nodes.registerType('onenet-command-in', OneNetCommandInNode);
};
