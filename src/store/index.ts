export { Journal, StoreError, type JournalOptions } from './journal';
export type { NewValue, StoredKind, StoredValue } from './records';
