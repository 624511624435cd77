import type { TimedValue } from '../protocol';
import { RingBuffer } from './ring-buffer';
import type { EventRecord, PropertyRecord } from './types';

/** What the platform remembers per device across sessions: latest property values and the event log. */
export class DeviceStore {
  private readonly latest = new Map<string, Record<string, PropertyRecord>>();
  private readonly events = new Map<string, RingBuffer<EventRecord>>();

  constructor(private readonly eventLogLimit: number) {}

  recordProperties(deviceKey: string, params: Record<string, TimedValue>, now: number): void {
    let values = this.latest.get(deviceKey);
    if (!values) {
      values = {};
      this.latest.set(deviceKey, values);
    }
    for (const identifier of Object.keys(params)) {
      const entry = params[identifier]!;
      values[identifier] = { value: entry.value, time: entry.time ?? now };
    }
  }

  recordEvents(deviceKey: string, params: Record<string, TimedValue>, id: string, now: number): void {
    let log = this.events.get(deviceKey);
    if (!log) {
      log = new RingBuffer<EventRecord>(this.eventLogLimit);
      this.events.set(deviceKey, log);
    }
    for (const identifier of Object.keys(params)) {
      const entry = params[identifier]!;
      log.push({ identifier, value: entry.value, time: entry.time ?? now, id });
    }
  }

  latestOf(deviceKey: string): Record<string, PropertyRecord> {
    const values = this.latest.get(deviceKey);
    if (!values) return {};
    return Object.fromEntries(
      Object.entries(values).map(([identifier, record]) => [identifier, { ...record }]),
    );
  }

  eventsOf(deviceKey: string): EventRecord[] {
    return this.events.get(deviceKey)?.toArray() ?? [];
  }
}
