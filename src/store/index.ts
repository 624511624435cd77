export { Journal, type JournalOptions } from './journal';
export { StoreError } from './store-error';
export type { NewValue, StoredKind, StoredValue } from './records';
