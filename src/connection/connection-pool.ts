import { EventEmitter } from 'node:events';
import { DeviceConnection } from './device-connection';
import {
  checkIdentity,
  conflictingSettings,
  identityKey,
  resolveOptions,
  type ResolvedOptions,
} from './options';
import { differingBehaviour } from './options';
import type {
  DeviceConnectionOptions,
  DeviceIdentity,
  DuplicateIdentityEvent,
  SettingsDifferEvent,
} from './types';

interface PoolEntry {
  connection: DeviceConnection;
  settings: ResolvedOptions;
  /** userId -> ownerId (the config node a user came through; '' when none was given). */
  users: Map<string, string>;
  /** Whether 'duplicate-identity' was emitted for the current set of owners. */
  warnedOwners: string;
  /** The config node whose settings the connection was made with ('' when none was given). */
  settingsOwner: string;
  /** Owners already told that their behavioural settings are not the ones in use. */
  warnedSettings: Set<string>;
}

export interface ReleaseOptions {
  /**
   * Default true: the user is gone for good, so a connection left without users closes now. false:
   * the user is restarting (a Node-RED partial deploy restarts a changed flow node): the connection
   * stays logged in, keeping its offline queue, until the user is back, its config node closes, or
   * closeUnused() runs at the end of the deploy (as the core mqtt-broker's deregister(autoDisconnect)).
   */
  removed?: boolean;
}

/**
 * Ref-counted sharing of DeviceConnections: one per identity (host, port, product id, device name),
 * because OneNET allows one login per device and kicks the older one (§1.3 "duplicate login").
 * Created and connected by the first acquire(), closed by the last release() of a removed user, by
 * ownerClosed() of the config node it came through, or by closeUnused() once nobody uses it.
 *
 * The settings that decide how the login is made (key, sign method, TLS, token lifetime, keepalive)
 * must agree between users; a mismatch throws instead of silently picking one, unless the connection
 * has no users left (a restart in a deploy), when it is replaced. Behavioural options (offline
 * policy, queue limits, timeouts, reconnect delays) come from the first user; a user from another
 * owner whose behavioural options differ is reported with 'settings-differ'.
 *
 * Events: 'duplicate-identity' (DuplicateIdentityEvent) when users from two or more different
 * owners (config nodes) share one identity; 'settings-differ' (SettingsDifferEvent).
 */
export class ConnectionPool extends EventEmitter {
  private readonly entries = new Map<string, PoolEntry>();
  /** userId -> identity key. */
  private readonly userIndex = new Map<string, string>();
  /** Connections being closed after their last release, so closeAll() can wait for them too. */
  private readonly closing = new Set<Promise<void>>();

  constructor() {
    super();
    // One 'duplicate-identity' listener per device config node is normal.
    this.setMaxListeners(0);
  }

  acquire(
    identity: DeviceIdentity,
    options: DeviceConnectionOptions,
    userId: string,
    ownerId?: string,
  ): DeviceConnection {
    if (typeof userId !== 'string' || userId.length === 0) throw new Error('acquire needs a user id');
    checkIdentity(identity);
    const key = identityKey(identity);
    const settings = resolveOptions(options);
    let entry = this.entries.get(key);
    if (entry && entry.connection.status().state === 'closed') {
      // Closed directly by someone instead of through release(): it cannot serve anyone again.
      this.forget(key, entry);
      entry = undefined;
    }
    if (entry && entry.users.size === 0 && conflictingSettings(entry.settings, settings).length > 0) {
      // Left over from before a deploy that changed how the device logs in: nobody uses it any more.
      this.closeEntry(key, entry);
      entry = undefined;
    }
    if (entry) {
      this.assertCompatible(entry, settings, identity);
      this.checkBehaviour(entry, settings, ownerId ?? '');
      // A new user (a deploy) retries a connection that waits out a back-off, like connect().
      entry.connection.retryNow();
    } else {
      const connection = new DeviceConnection(identity, options);
      entry = {
        connection,
        settings,
        users: new Map(),
        warnedOwners: '',
        settingsOwner: ownerId ?? '',
        warnedSettings: new Set(),
      };
      this.entries.set(key, entry);
      connection.connect();
    }
    // A user that moves to another identity leaves its old one first.
    const previousKey = this.userIndex.get(userId);
    if (previousKey !== undefined && previousKey !== key) void this.leave(userId, previousKey);
    this.userIndex.set(userId, key);
    this.addUser(entry, userId, ownerId);
    return entry.connection;
  }

  /**
   * Drops the user; closes its connection when it was the last one and the user was removed (see
   * ReleaseOptions). Unknown users are ignored.
   */
  async release(userId: string, options: ReleaseOptions = {}): Promise<void> {
    const key = this.userIndex.get(userId);
    if (key === undefined) return;
    this.userIndex.delete(userId);
    await this.leave(userId, key, options.removed !== false);
  }

  /**
   * The config node `ownerId` closed (changed or removed in a deploy, or the flows stopped): every
   * user that came through it is dropped, including users that are not restarting with it (a reply
   * node that borrowed the device from a message), and connections left without users close.
   */
  async ownerClosed(ownerId: string): Promise<void> {
    if (ownerId === '') return;
    const closing: Promise<void>[] = [];
    for (const [key, entry] of [...this.entries]) {
      let touched = entry.settingsOwner === ownerId;
      for (const [userId, owner] of [...entry.users]) {
        if (owner !== ownerId) continue;
        touched = true;
        entry.users.delete(userId);
        if (this.userIndex.get(userId) === key) this.userIndex.delete(userId);
      }
      if (!touched) continue;
      if (entry.users.size === 0) closing.push(this.closeEntry(key, entry));
      else this.checkOwners(entry);
    }
    await Promise.all(closing);
  }

  /** Closes every connection that has no users (the end of a deploy that left them unused). */
  async closeUnused(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [key, entry] of [...this.entries]) {
      if (entry.users.size === 0) closing.push(this.closeEntry(key, entry));
    }
    await Promise.all(closing);
  }

  connectionCount(): number {
    return this.entries.size;
  }

  async closeAll(): Promise<void> {
    const connections = [...this.entries.values()].map((entry) => entry.connection);
    this.entries.clear();
    this.userIndex.clear();
    await Promise.all([...connections.map((connection) => connection.close()), ...this.closing]);
  }

  private leave(userId: string, key: string, removed = true): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return Promise.resolve();
    entry.users.delete(userId);
    if (entry.users.size > 0) {
      this.checkOwners(entry);
      return Promise.resolve();
    }
    if (!removed) return Promise.resolve();
    return this.closeEntry(key, entry);
  }

  private closeEntry(key: string, entry: PoolEntry): Promise<void> {
    if (this.entries.get(key) === entry) this.entries.delete(key);
    for (const userId of entry.users.keys()) {
      if (this.userIndex.get(userId) === key) this.userIndex.delete(userId);
    }
    entry.users.clear();
    const closed = entry.connection.close();
    this.closing.add(closed);
    void closed.then(() => this.closing.delete(closed));
    return closed;
  }

  private forget(key: string, entry: PoolEntry): void {
    this.entries.delete(key);
    for (const userId of entry.users.keys()) {
      if (this.userIndex.get(userId) === key) this.userIndex.delete(userId);
    }
  }

  private addUser(entry: PoolEntry, userId: string, ownerId: string | undefined): void {
    entry.users.set(userId, ownerId ?? '');
    this.checkOwners(entry);
  }

  /** Warns once per distinct set of owners, so a redeploy of the same flows does not repeat it. */
  private checkOwners(entry: PoolEntry): void {
    const owners = [...new Set([...entry.users.values()].filter((owner) => owner !== ''))].sort();
    const signature = owners.length >= 2 ? owners.join('\n') : '';
    if (signature === entry.warnedOwners) return;
    entry.warnedOwners = signature;
    if (owners.length < 2) return;
    const event: DuplicateIdentityEvent = { identity: { ...entry.connection.identity }, owners };
    try {
      this.emit('duplicate-identity', event);
    } catch (err) {
      // acquire() must still hand out the connection it already counted.
      process.emitWarning(`a 'duplicate-identity' listener threw: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  /** Reports, once per owner, a user whose behavioural options are not the ones the connection runs with. */
  private checkBehaviour(entry: PoolEntry, settings: ResolvedOptions, ownerId: string): void {
    if (ownerId === '' || ownerId === entry.settingsOwner || entry.warnedSettings.has(ownerId)) return;
    const differences = differingBehaviour(entry.settings, settings);
    if (differences.length === 0) return;
    entry.warnedSettings.add(ownerId);
    const event: SettingsDifferEvent = {
      identity: { ...entry.connection.identity },
      owner: ownerId,
      inUseFrom: entry.settingsOwner,
      differences,
    };
    try {
      this.emit('settings-differ', event);
    } catch (err) {
      process.emitWarning(`a 'settings-differ' listener threw: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  private assertCompatible(entry: PoolEntry, settings: ResolvedOptions, identity: DeviceIdentity): void {
    const differences = conflictingSettings(entry.settings, settings);
    if (differences.length === 0) return;
    throw new Error(
      `OneNET device ${identity.productId}/${identity.deviceName} at ${identity.host}:${identity.port} is already ` +
        `in use with a different ${differences.join(', ')}; one device can have only one connection, so every ` +
        `configuration of it must use the same settings`,
    );
  }
}

/** The process-wide pool the Node-RED nodes share. */
export const defaultPool = new ConnectionPool();
