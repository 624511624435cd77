import {
  buildTopoAddRequest,
  buildTopoChangeReply,
  buildTopoDeleteRequest,
  buildTopoGetRequest,
  buildTopoGetResult,
  buildSubLoginRequest,
  buildSubLogoutRequest,
  MAX_SUB_DEVICES_PER_GATEWAY,
  parseGatewayReply,
  parseTopoChangeRequest,
  parseTopoGetReply,
  signSubDeviceToken,
  subDeviceKey,
  type SubDeviceIdentity,
  type ThingReply,
  type TopicKind,
} from '../protocol';
import { OneNetRequestError } from './errors';
import { GatewayRequests, type GatewayRequestHooks } from './gateway-requests';
import type { ResolvedOptions } from './options';
import { SubDeviceCommands } from './sub-device-commands';
import { SubDeviceHandle, type SubDeviceHost } from './sub-device-handle';
import { admitPost, failHeld, notUsable, releaseHeld, storeHeld, type PostHooks } from './sub-device-posts';
import { TakingTurns } from './taking-turns';
import type { RequestEntry } from './uplink-types';
import type {
  ConnectionStatus,
  DeviceIdentity,
  DownlinkErrorEvent,
  RequestOptions,
  RequestOutcome,
  SubDeviceStatus,
  UplinkKind,
} from './types';

/** One sub-device in use on this gateway, however many flow nodes use it. */
export interface SubDeviceRecord {
  readonly identity: SubDeviceIdentity;
  /** The sub-device's key or its product's access key: signs its sasToken; never shown. */
  key: string;
  status: SubDeviceStatus;
  /** Bound on the platform as far as we know (the last topo/get, topo/add, topo/change). */
  bound: boolean;
  readonly users: Set<string>;
  readonly handle: SubDeviceHandle;
  /** Posts accepted while it was being bound and logged in: submitted once it is. */
  held: RequestEntry[];
  /** The binding and login running now, so one runs at a time. */
  work: Promise<void> | undefined;
}

export interface SubDevicesHooks extends GatewayRequestHooks {
  options: ResolvedOptions;
  gatewayStatus: () => ConnectionStatus;
  /** Hands a post to the gateway's request pipeline. */
  submit: (entry: RequestEntry) => void;
  /** Rejects a post that never reached the pipeline (see Settlement for the ones that did). */
  fail: (entry: RequestEntry, error: OneNetRequestError) => void;
  /** Makes the gateway subscribe its sub-device topics; resolves once they are (or at the next login). */
  serveSubDevices: () => Promise<void>;
  report: (event: DownlinkErrorEvent) => void;
  /** The gateway's request() for a sub-device's post (DeviceConnection builds the entry, then admit()). */
  request: SubDeviceRequest;
  /** Connects the gateway (msg.action "connect" on a sub-device's node). */
  connect: () => void;
  /** A sub-device logged in: its stored values can go now (offlinePolicy 'store'). */
  loggedIn?: () => void;
  /** The number of posts held for bindings and logins changed (the gateway's status shows it). */
  waitingChanged?: () => void;
  /** offlinePolicy 'store': takes a post that waited its whole timeout for the binding. */
  store?: (entry: RequestEntry) => boolean;
}

export type SubDeviceRequest = (
  identity: SubDeviceIdentity,
  kind: UplinkKind,
  params: unknown,
  options: RequestOptions & { time?: number },
) => Promise<RequestOutcome>;

/** Sub-devices bound and logged in side by side (each is two requests in turn). */
const BINDING_AT_ONCE = 4;

/** A sasToken for topo add/delete: valid long enough for the platform to check it now. */
const SAS_TOKEN_TTL_SECONDS = 3600;

/**
 * The sub-devices of one gateway connection (onenet-next.md §Q2 §2.3): after every gateway login it
 * asks which are bound (topo/get, answered with topo/get/result), binds those in use that are not
 * (topo/add with a freshly signed sasToken) and logs them in (sub/login); posts of a sub-device wait
 * only for that. topo/change is answered and acted on. It never unbinds on its own: only unbind()
 * at a flow's request. A sub-device whose last user leaves is logged out.
 */
export class SubDevices {
  private readonly records = new Map<string, SubDeviceRecord>();
  private readonly requests: GatewayRequests;
  private readonly commands: SubDeviceCommands;
  /** Sub-devices being bound and logged in now, and those waiting for their turn (see ensure). */
  private readonly binding = new TakingTurns(BINDING_AT_ONCE);
  /** The platform's list as of the last topo/get or topo/change of this session. */
  private platformList: Set<string> | undefined;
  private readonly posts: PostHooks;
  private heldTotal = 0;

  constructor(
    private readonly gateway: DeviceIdentity,
    private readonly hooks: SubDevicesHooks,
  ) {
    this.requests = new GatewayRequests(gateway, hooks);
    this.posts = {
      submit: hooks.submit,
      fail: hooks.fail,
      gatewayState: () => hooks.gatewayStatus().state,
      offlinePolicy: hooks.options.offlinePolicy,
      heldChanged: (record, change) => {
        this.heldTotal += change;
        record.handle.heldChanged();
        hooks.waitingChanged?.();
      },
      ...(hooks.store ? { store: hooks.store } : {}),
    };
    this.commands = new SubDeviceCommands(
      this.requests,
      hooks.report,
      (identity) => this.records.get(subDeviceKey(identity))?.handle,
    );
  }

  get size(): number {
    return this.records.size;
  }

  /** Posts of all its sub-devices held for their binding and login. */
  get waiting(): number {
    return this.heldTotal;
  }

  /** The handle of sub-device `identity` for `userId`; binds and logs it in when the gateway is up. */
  attach(identity: SubDeviceIdentity, key: string, userId: string): SubDeviceHandle {
    const mapKey = subDeviceKey(identity);
    let record = this.records.get(mapKey);
    if (!record) {
      if (this.records.size >= MAX_SUB_DEVICES_PER_GATEWAY)
        throw new Error(
          `gateway ${this.gateway.productId}/${this.gateway.deviceName} already carries ${MAX_SUB_DEVICES_PER_GATEWAY} sub-devices, the most OneNET allows`,
        );
      const host: SubDeviceHost = {
        gatewayStatus: this.hooks.gatewayStatus,
        waiting: () => record!.held.length,
        request: (kind, params, options) => this.hooks.request(identity, kind, params, options),
        unbind: () => this.unbind(record!),
        reply: (request, code, data, message) => this.commands.reply(identity, request, code, data, message),
        connect: this.hooks.connect,
      };
      record = {
        identity: { productID: identity.productID, deviceName: identity.deviceName },
        key,
        status: { state: 'binding' },
        bound: false,
        users: new Set(),
        handle: new SubDeviceHandle(identity, host),
        held: [],
        work: undefined,
      };
      this.records.set(mapKey, record);
      const added = record;
      void this.hooks.serveSubDevices().then(() => this.ensure(added));
    }
    record.key = key;
    record.users.add(userId);
    return record.handle;
  }

  /** `userId` no longer uses the sub-device; the last one leaving logs it out. */
  detach(userId: string, identity: SubDeviceIdentity): void {
    const mapKey = subDeviceKey(identity);
    const record = this.records.get(mapKey);
    if (!record || !record.users.delete(userId) || record.users.size > 0) return;
    this.records.delete(mapKey);
    failHeld(record, new OneNetRequestError('closed', 'the sub-device is no longer used'), this.posts);
    record.handle.dispose();
    if (record.status.state === 'logged-in' && this.hooks.liveSession())
      this.requests
        .send('sub-logout', (id) => buildSubLogoutRequest(id, record.identity))
        .catch(() => undefined);
  }

  /** A malformed platform message on the gateway's topics, for the nodes of every sub-device too. */
  reportToHandles(event: DownlinkErrorEvent): void {
    for (const record of this.records.values()) record.handle.reportDownlinkError(event);
  }

  /** The gateway logged in (again): sync the topology, then bind and log in what is in use. */
  loggedIn(): void {
    this.platformList = undefined;
    if (this.records.size === 0) return;
    for (const record of this.records.values()) this.setStatus(record, { state: 'binding' });
    void this.syncTopology().then(() => {
      for (const record of this.records.values()) void this.ensure(record);
    });
  }

  /** The gateway's session changed (dropped, closed): what waited on it fails or waits for the next. */
  sessionChanged(): void {
    this.requests.sessionChanged();
    const status = this.hooks.gatewayStatus();
    for (const record of this.records.values()) {
      if (status.state !== 'connected' && record.status.state === 'logged-in')
        this.setStatus(record, { state: 'binding' });
      else record.handle.gatewayChanged();
      if (status.state !== 'connected' && status.state !== 'closed') storeHeld(record, this.posts);
    }
    if (status.state === 'closed') {
      for (const record of this.records.values()) {
        failHeld(record, new OneNetRequestError('closed', 'the gateway connection is closed'), this.posts);
        record.handle.dispose();
      }
      this.records.clear();
    }
  }

  /** A message on the gateway's `thing/sub/…` topics. */
  route(kind: TopicKind, topic: string, payload: Buffer): void {
    if (kind === 'sub-topo-change') {
      this.topologyChanged(topic, payload);
      return;
    }
    if (kind === 'sub-property-get' || kind === 'sub-property-set' || kind === 'sub-service-invoke') {
      this.commands.handle(kind, topic, payload);
      return;
    }
    if (kind.endsWith('-reply')) {
      // topo/get's reply carries the list; every other gateway reply is a plain {id, code, msg}.
      const parsed = kind === 'sub-topo-get-reply' ? parseTopoGetReply(payload) : parseGatewayReply(payload);
      if (parsed.ok) this.requests.handleReply(kind, parsed.value);
      else
        this.hooks.report({
          topic,
          reason: parsed.reason,
          ...(parsed.id === undefined ? {} : { id: parsed.id }),
        });
    }
    // Our own uplinks echoed by a broker that routes them back are ignored.
  }

  private async syncTopology(): Promise<void> {
    try {
      const reply = (await this.requests.send('sub-topo-get', (id) =>
        buildTopoGetRequest(id),
      )) as ThingReply & {
        data?: SubDeviceIdentity[];
      };
      if (reply.code === 200 && reply.data) {
        this.platformList = new Set(reply.data.map(subDeviceKey));
        for (const record of this.records.values())
          record.bound = this.platformList.has(subDeviceKey(record.identity));
      }
      // The console shows the gateway's sync status from this answer (§2.3 step 4).
      await this.requests.answer(
        'sub-topo-get-result',
        buildTopoGetResult(
          reply.id,
          reply.code === 200 ? 200 : 100,
          reply.code === 200 ? 'success' : 'topology not received',
        ),
      );
    } catch {
      // Without the list each sub-device is bound (topo/add of a bound one is answered 200 again).
    }
  }

  /**
   * Binds (when not bound) and logs in `record`, once at a time; held posts go out after. At most
   * BINDING_AT_ONCE sub-devices are in the works together: with a thousand of them, the first ones
   * are logged in (and posting) after a few messages instead of after every topo/add has gone out.
   */
  private ensure(record: SubDeviceRecord): Promise<void> {
    record.work ??= this.binding
      .run(() => this.bindAndLogIn(record))
      .finally(() => {
        record.work = undefined;
      });
    return record.work;
  }

  private async bindAndLogIn(record: SubDeviceRecord): Promise<void> {
    if (this.records.get(subDeviceKey(record.identity)) !== record || !this.hooks.liveSession()) return;
    this.setStatus(record, { state: 'binding' });
    try {
      if (!record.bound) {
        const added = await this.requests.send('sub-topo-add', (id) =>
          buildTopoAddRequest(id, this.auth(record)),
        );
        if (added.code !== 200) {
          this.refused(record, added.code);
          return;
        }
        record.bound = true;
      }
      const login = await this.requests.send('sub-login', (id) => buildSubLoginRequest(id, record.identity));
      if (login.code !== 200) {
        this.refused(record, login.code);
        return;
      }
      this.setStatus(record, { state: 'logged-in' });
      releaseHeld(record, this.posts);
    } catch (err) {
      // The gateway went away meanwhile: the next login tries again; the held posts wait for it
      // under the gateway's offline policy.
      if (
        this.hooks.gatewayStatus().state === 'connected' &&
        err instanceof OneNetRequestError &&
        err.reason === 'timeout'
      )
        this.refused(record, undefined);
      else releaseHeld(record, this.posts);
    }
  }

  private auth(record: SubDeviceRecord): { productID: string; deviceName: string; sasToken: string } {
    const sasToken = signSubDeviceToken({
      productID: record.identity.productID,
      deviceName: record.identity.deviceName,
      key: record.key,
      et: Math.floor(Date.now() / 1000) + SAS_TOKEN_TTL_SECONDS,
      method: this.hooks.options.signMethod,
    });
    return { ...record.identity, sasToken };
  }

  /** A post of the sub-device: sent now when it is logged in, held while it is being bound (sub-device-posts.ts). */
  admit(identity: SubDeviceIdentity, entry: RequestEntry): void {
    const record = this.records.get(subDeviceKey(identity));
    if (record) admitPost(record, entry, this.posts);
    else this.hooks.fail(entry, new OneNetRequestError('closed', 'the sub-device is no longer used'));
  }

  private refused(record: SubDeviceRecord, code: number | undefined): void {
    this.setStatus(record, code === undefined ? { state: 'refused' } : { state: 'refused', code });
    failHeld(record, notUsable(record, 'refused', code), this.posts);
  }

  /** topo/change carries the full list (§2.3 step 8): answer it, then act on it. */
  private topologyChanged(topic: string, payload: Buffer): void {
    const parsed = parseTopoChangeRequest(payload);
    if (!parsed.ok) {
      this.hooks.report({
        topic,
        reason: parsed.reason,
        ...(parsed.id === undefined ? {} : { id: parsed.id }),
      });
      if (parsed.id !== undefined)
        this.requests
          .answer('sub-topo-change-reply', buildTopoChangeReply(parsed.id, parsed.code, parsed.reason))
          .catch(() => undefined);
      return;
    }
    this.requests
      .answer('sub-topo-change-reply', buildTopoChangeReply(parsed.value.id))
      .catch(() => undefined);
    const list = new Set(parsed.value.params.subList.map(subDeviceKey));
    this.platformList = list;
    for (const record of this.records.values()) {
      const nowBound = list.has(subDeviceKey(record.identity));
      if (!nowBound) {
        record.bound = false;
        this.setStatus(record, { state: 'not-bound' });
        failHeld(record, notUsable(record, 'not-bound', undefined), this.posts);
      } else if (!record.bound || record.status.state !== 'logged-in') {
        record.bound = true;
        void this.ensure(record);
      }
    }
  }

  /** topo/delete at a flow's request (msg.action "unbind"); never on our own. */
  private async unbind(record: SubDeviceRecord): Promise<void> {
    const reply = await this.requests.send('sub-topo-delete', (id) =>
      buildTopoDeleteRequest(id, this.auth(record)),
    );
    if (reply.code !== 200)
      throw new OneNetRequestError('reply', `OneNET refused to unbind the sub-device: code ${reply.code}`, {
        code: reply.code,
      });
    record.bound = false;
    this.setStatus(record, { state: 'not-bound' });
  }

  /** Whether the sub-device ("productId/deviceName") is logged in, so its stored values can go. */
  isLoggedIn(key: string): boolean {
    return this.records.get(key)?.status.state === 'logged-in';
  }

  private setStatus(record: SubDeviceRecord, status: SubDeviceStatus): void {
    record.status = status;
    record.handle.subDeviceChanged(status);
    if (status.state === 'logged-in') this.hooks.loggedIn?.();
  }
}
