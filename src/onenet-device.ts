import * as os from 'node:os';
import * as path from 'node:path';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import {
  defaultPool,
  type DeviceChannel,
  type DeviceConnection,
  type DeviceIdentity,
  type DuplicateIdentityEvent,
  type SettingsDifferEvent,
} from './connection';
import type { StoreEvent } from './connection/store-forward';
import { ConfigNodeLog } from './node-red/connection-log';
import { DEVICE_NODE_TYPE, type DeviceNodeApi } from './node-red/device-node';
import {
  DeviceConfigError,
  describeDevice,
  toDeviceSettings,
  usesTls,
  type DesiredSyncProblem,
  type DeviceConfigDef,
  type DeviceSettings,
  storeDirOf,
} from './node-red/device-settings';
import { translator, type MessageName } from './node-red/i18n';
import { activeModelOf, type ActiveModel } from './node-red/model-check';
import { removeEmptyStore } from './node-red/store-cleanup';
import { subDeviceApi } from './node-red/sub-device-node';
import { gatewayOf, toSubDeviceSettings, type SubDeviceSettings } from './node-red/sub-device-settings';
import { PRODUCT_NODE_TYPE, findProductNode, type ProductNode } from './node-red/product-node';
import type { Node, NodeAPI } from './node-red/node-red-types';

/** The warning for each reason syncDesired cannot work; the device connects without it. */
const DESIRED_PROBLEM_TEXTS = {
  'no-product': 'desiredNoProduct',
  'no-model': 'desiredNoModel',
  'no-writable': 'desiredNoWritable',
} as const satisfies Record<DesiredSyncProblem, MessageName>;

/** The core tls-config node's one method we use (core 05-tls.js). */
interface TlsConfigNode extends Node {
  addTLSOptions(options: TlsConnectionOptions): TlsConnectionOptions;
}

/**
 * `onenet-device`: holds one OneNET device's settings and key (a password credential, so it never
 * appears in flows.json or back in the editor). It does not connect by itself: flow nodes acquire the
 * pooled connection through it when they start and release it when they close.
 */
export = function registerDeviceNode(RED: NodeAPI): void {
  const t = translator(RED);
  closeUnusedAfterDeploys(RED);

  function tlsOptionsOf(def: DeviceConfigDef): TlsConnectionOptions | undefined {
    if (!usesTls(def) || !def.tlsConfig) return undefined;
    const tlsNode = RED.nodes.getNode(def.tlsConfig) as TlsConfigNode | null;
    if (!tlsNode || typeof tlsNode.addTLSOptions !== 'function') {
      throw new DeviceConfigError('the TLS configuration node chosen for this device does not exist');
    }
    return tlsNode.addTLSOptions({});
  }

  /** The chosen onenet-product, undefined when none is chosen; throws when the chosen one is missing. */
  function productOf(def: DeviceConfigDef): ProductNode | undefined {
    if (!def.product || def.product === '_ADD_') return undefined;
    const product = findProductNode(RED, def.product);
    if (!product) {
      throw new DeviceConfigError(
        `the ${PRODUCT_NODE_TYPE} configuration node chosen for this device does not exist`,
      );
    }
    return product;
  }

  /** A device config with a gateway: its flow nodes are carried by the gateway's connection. */
  function startSubDevice(node: Node, def: DeviceConfigDef, gatewayId: string): void {
    let settings: SubDeviceSettings | undefined;
    let configProblem: string | undefined;
    let product: ProductNode | undefined;
    try {
      product = productOf(def);
      settings = toSubDeviceSettings(
        def,
        node.credentials?.key,
        product && { productId: product.productId, key: product.productKey },
      );
    } catch (err) {
      configProblem = (err as Error).message;
    }
    const activeModel = activeModelOf(product);
    const deviceLabel = settings
      ? `${settings.identity.productID}/${settings.identity.deviceName}`
      : `${def.productId ?? ''}/${def.deviceName ?? ''}`;
    const api = subDeviceApi(RED, node, gatewayId, settings, configProblem, deviceLabel, activeModel);
    Object.assign(node, api);
    node.on('close', (_removed, done) => {
      api.releaseAll().then(
        () => done(),
        () => done(),
      );
    });
  }

  function OneNetDeviceNode(this: Node, def: DeviceConfigDef): void {
    RED.nodes.createNode(this, def);
    const gatewayId = gatewayOf(def);
    if (gatewayId !== undefined) {
      startSubDevice(this, def, gatewayId);
      return;
    }
    let settings: DeviceSettings | undefined;
    let configProblem: string | undefined;
    let product: ProductNode | undefined;
    try {
      product = productOf(def);
      const fromProduct = product && {
        productId: product.productId,
        key: product.productKey,
        writableProperties: product.thingModel?.properties
          .filter((property) => property.accessMode === 'rw')
          .map((property) => property.identifier),
      };
      settings = toDeviceSettings(def, this.credentials?.key, tlsOptionsOf(def), fromProduct);
      if (settings.options.store) settings.options.store.dir = storeDirOf(userDirOf(RED), settings.identity);
    } catch (err) {
      configProblem = (err as Error).message;
    }
    const activeModel = activeModelOf(product);
    const deviceLabel = settings
      ? describeDevice(settings.identity)
      : `${def.productId ?? ''}/${def.deviceName ?? ''}`;
    if (settings?.desiredProblem)
      this.warn(t(DESIRED_PROBLEM_TEXTS[settings.desiredProblem], { device: deviceLabel }));

    // Connection trouble is logged here, by the config node, as the core mqtt-broker node does.
    const connectionLog = settings
      ? new ConfigNodeLog({
          node: this,
          t,
          device: deviceLabel,
          identity: settings.identity,
          key: settings.options.key,
        })
      : undefined;
    const api: DeviceNodeApi = {
      deviceLabel,
      acquireConnection: (userId: string): DeviceChannel => {
        if (!settings) {
          throw new DeviceConfigError(`OneNET device ${deviceLabel}: ${configProblem ?? 'invalid settings'}`);
        }
        const connection = defaultPool.acquire(settings.identity, settings.options, userId, this.id);
        connectionLog?.watch(connection);
        if (settings.options.store) watchStore(connection);
        return connection;
      },
      releaseConnection: (userId: string, removed = true): Promise<void> =>
        defaultPool.release(userId, { removed }),
      activeModel: (): ActiveModel | undefined => activeModel,
    };
    Object.assign(this, api);

    /** Connections with a store this node handed out: their store events are logged here. */
    const storeConnections = new Set<DeviceConnection>();
    const logStoreEvent = (event: StoreEvent): void => {
      const device = deviceLabel;
      switch (event.type) {
        case 'dropped':
          this.warn(t('logStoreDropped', { device, count: event.count, reason: event.reason }));
          return;
        case 'refused':
          this.warn(
            t('logStoreRefused', {
              device,
              identifier: event.identifier,
              code: event.code,
              count: event.count,
            }),
          );
          return;
        case 'torn':
          this.warn(t('logStoreTorn', { device, file: event.file, bytes: event.bytes }));
          return;
        case 'unusable':
          this.error(t('logStoreUnusable', { device, reason: event.reason }));
          return;
        case 'usable':
          this.log(t('logStoreUsable', { device, dir: event.dir }));
          return;
      }
    };
    const watchStore = (connection: DeviceConnection): void => {
      if (storeConnections.has(connection)) return;
      storeConnections.add(connection);
      connection.on('store', logStoreEvent);
    };
    /** After the connections closed: a removed device's empty store goes, one still holding values stays. */
    const settleStores = async (removed: boolean): Promise<void> => {
      for (const connection of storeConnections) {
        connection.off('store', logStoreEvent);
        if (connection.status().state !== 'closed') continue; // another config node still uses it
        // Closed by the last release rather than by ownerClosed: let it finish first (replies to
        // backfill posts still acknowledge their values), so the count below is what stays.
        await connection.close();
        const left = await connection.storeClosed();
        if (!left || !removed) continue;
        if (left.pending > 0)
          this.log(t('logStoreKept', { device: deviceLabel, dir: left.dir, count: left.pending }));
        else if ((await removeEmptyStore(left.dir, userDirOf(RED))) === 'kept')
          this.log(t('logStoreKeptUnread', { device: deviceLabel, dir: left.dir }));
      }
      storeConnections.clear();
    };

    let warnedDuplicate = false;
    const onDuplicateIdentity = (event: DuplicateIdentityEvent): void => {
      // Every config node of the device hears the event; the first owner speaks for all of them.
      if (warnedDuplicate || !settings || event.owners[0] !== this.id) return;
      if (!sameIdentity(event.identity, settings.identity)) return;
      warnedDuplicate = true;
      this.warn(
        t('duplicateIdentity', { count: event.owners.length, device: describeDevice(event.identity) }),
      );
    };
    const onSettingsDiffer = (event: SettingsDifferEvent): void => {
      if (event.owner !== this.id) return;
      this.warn(
        t('settingsDiffer', {
          device: describeDevice(event.identity),
          settings: event.differences.join(', '),
        }),
      );
    };
    defaultPool.on('duplicate-identity', onDuplicateIdentity);
    defaultPool.on('settings-differ', onSettingsDiffer);
    this.on('close', (removed, done) => {
      defaultPool.off('duplicate-identity', onDuplicateIdentity);
      defaultPool.off('settings-differ', onSettingsDiffer);
      connectionLog?.stop();
      // Changed or removed: the connections made through this node end with it, including those a
      // reply node without a device of its own borrowed (it is not restarted with us).
      defaultPool
        .ownerClosed(this.id)
        .catch(() => undefined)
        .then(() => settleStores(removed === true))
        .then(
          () => done(),
          () => done(),
        );
    });
  }

  RED.nodes.registerType(DEVICE_NODE_TYPE, OneNetDeviceNode, { credentials: { key: { type: 'password' } } });
};

const sweepingEvents = new WeakSet<object>();

/**
 * A flow node that restarts in a partial deploy keeps its connection for its return; one that does
 * not come back (it now uses another device) leaves it unused, and that is closed once the deploy
 * has started the new flows.
 */
function closeUnusedAfterDeploys(RED: NodeAPI): void {
  const events = RED.events;
  if (!events || sweepingEvents.has(events)) return;
  sweepingEvents.add(events);
  events.on('flows:started', () => {
    void defaultPool.closeUnused();
  });
}

/** Node-RED's user directory (settings.userDir; ~/.node-red when the runtime leaves it unset). */
function userDirOf(RED: NodeAPI): string {
  const userDir = (RED as { settings?: { userDir?: unknown } }).settings?.userDir;
  return typeof userDir === 'string' && userDir !== '' ? userDir : path.join(os.homedir(), '.node-red');
}

function sameIdentity(a: DeviceIdentity, b: DeviceIdentity): boolean {
  return (
    a.host === b.host && a.port === b.port && a.productId === b.productId && a.deviceName === b.deviceName
  );
}
