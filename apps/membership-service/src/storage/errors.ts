// Errors the storage layer raises on purpose. Driver errors (constraint
// violations, lost connections) pass through unchanged.

export type StorageErrorCode =
  /** Bad input (a limit out of range, a NUL character, a non-integer timestamp). */
  | 'INVALID_ARGUMENT'
  /** A write names another room than the transaction's. */
  | 'ROOM_MISMATCH'
  /** A referenced row (event, state group) does not exist. */
  | 'NOT_FOUND'
  /** `read`/`withRoomTransaction` called inside a room transaction. */
  | 'NESTED_TRANSACTION'
  /** A transaction handle used after its transaction ended. */
  | 'TRANSACTION_ENDED'
  /** The storage was closed. */
  | 'CLOSED'
  /** The database holds migrations this code does not know. */
  | 'SCHEMA_TOO_NEW';

export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    readonly code: StorageErrorCode,
    message: string,
  ) {
    super(message);
  }
}
