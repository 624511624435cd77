// Placeholder until the batch-post module lands; replaced by it.
import { buildRequest, serializeMessage } from './messages';
export interface HistoryValue {
  value: unknown;
  time: number;
}
export interface HistoryEntry {
  properties?: Record<string, HistoryValue[]>;
  events?: Record<string, HistoryValue[]>;
}
export function buildHistoryPost(id: string, entries: HistoryEntry[]): string {
  return serializeMessage(buildRequest(id, entries)).toString();
}
