// Public surface of the storage layer; the service imports only this file.

export { openStorage } from './open-storage.js';
export { StorageError } from './errors.js';
export type { StorageErrorCode } from './errors.js';
export { MAX_OUTBOX_BATCH } from './outbox.js';
export { MAX_EVENTS_PER_PAGE } from './read-tx.js';
export { MAX_CHAIN_LENGTH } from './state-groups.js';
export type * from './types.js';
