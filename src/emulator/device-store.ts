import type { TimedValue } from '../protocol';
import { RingBuffer } from './ring-buffer';
import type { EventRecord, PropertyHistoryRecord, PropertyRecord, PropertyVia } from './types';

/**
 * What the platform remembers per device across sessions: latest property values, every stored
 * property value with its time (the history), and the event log.
 */
export class DeviceStore {
  private readonly latest = new Map<string, Record<string, PropertyRecord>>();
  private readonly history = new Map<string, RingBuffer<PropertyHistoryRecord>>();
  private readonly events = new Map<string, RingBuffer<EventRecord>>();

  constructor(
    private readonly eventLogLimit: number,
    private readonly historyLimit = 10_000,
  ) {}

  /** property/post and pack/post: the latest values change, and every value joins the history. */
  recordProperties(
    deviceKey: string,
    params: Record<string, TimedValue>,
    now: number,
    via: PropertyVia = 'property-post',
    id = '',
  ): void {
    let values = this.latest.get(deviceKey);
    if (!values) {
      values = {};
      this.latest.set(deviceKey, values);
    }
    const history = this.historyOf(deviceKey);
    for (const identifier of Object.keys(params)) {
      const entry = params[identifier]!;
      const time = entry.time ?? now;
      values[identifier] = { value: entry.value, time };
      history.push({ identifier, value: entry.value, time, via, id, receivedAt: now });
    }
  }

  /**
   * history/post: the values join the history only. Whether OneNET's latest value follows a
   * history post is not documented (onenet-next.md §Q3 UNCONFIRMED); the emulator takes the reading
   * a client can rely on either way, and leaves latestProperties() to property/post and pack/post.
   */
  recordHistory(
    deviceKey: string,
    identifier: string,
    values: readonly TimedValue[],
    now: number,
    id: string,
  ): void {
    const history = this.historyOf(deviceKey);
    for (const entry of values) {
      history.push({
        identifier,
        value: entry.value,
        time: entry.time ?? now,
        via: 'history-post',
        id,
        receivedAt: now,
      });
    }
  }

  recordEvents(deviceKey: string, params: Record<string, TimedValue>, id: string, now: number): void {
    for (const identifier of Object.keys(params))
      this.recordEvent(deviceKey, identifier, params[identifier]!, id, now);
  }

  recordEvent(deviceKey: string, identifier: string, entry: TimedValue, id: string, now: number): void {
    let log = this.events.get(deviceKey);
    if (!log) {
      log = new RingBuffer<EventRecord>(this.eventLogLimit);
      this.events.set(deviceKey, log);
    }
    log.push({ identifier, value: entry.value, time: entry.time ?? now, id });
  }

  latestOf(deviceKey: string): Record<string, PropertyRecord> {
    const values = this.latest.get(deviceKey);
    if (!values) return {};
    return Object.fromEntries(
      Object.entries(values).map(([identifier, record]) => [identifier, { ...record }]),
    );
  }

  historyOfDevice(deviceKey: string, identifier?: string): PropertyHistoryRecord[] {
    const all = this.history.get(deviceKey)?.toArray() ?? [];
    return (identifier === undefined ? all : all.filter((record) => record.identifier === identifier)).map(
      (record) => ({ ...record }),
    );
  }

  eventsOf(deviceKey: string): EventRecord[] {
    return this.events.get(deviceKey)?.toArray() ?? [];
  }

  private historyOf(deviceKey: string): RingBuffer<PropertyHistoryRecord> {
    let history = this.history.get(deviceKey);
    if (!history) {
      history = new RingBuffer<PropertyHistoryRecord>(this.historyLimit);
      this.history.set(deviceKey, history);
    }
    return history;
  }
}
