// The storage interface of the membership service. One contract, two engines
// (SQLite embedded, PostgreSQL shared by replicas); see README.md in this
// directory for the schema and the locking model.
//
// Conventions:
// - Timestamps are integer milliseconds since the epoch, passed in by the
//   caller (storage never reads the clock, so tests control time).
// - Stream positions, outbox ids and state group ids are positive safe integers.
// - JSON columns hold text exactly as given (event JSON is stored byte for
//   byte, so the canonical form survives); storage never parses it.
// - Every method returns fresh objects; mutating them changes nothing stored.

/** Where the data lives. */
export type StorageConfig = SqliteStorageConfig | PostgresStorageConfig;

export interface SqliteStorageConfig {
  readonly engine: 'sqlite';
  /** Database file (its directory is created if missing); WAL files live beside it. */
  readonly path: string;
  /** How long a write waits for another process's write lock. Default 5000. */
  readonly busyTimeoutMs?: number;
  /**
   * `full` survives power loss (nothing is reported or read before the WAL
   * is flushed to disk, off the event loop); `normal` only process crashes.
   * Default `full`.
   */
  readonly synchronous?: 'full' | 'normal';
}

export interface PostgresStorageConfig {
  readonly engine: 'postgres';
  /** `postgres://user:password@host:port/database` */
  readonly url: string;
  /** Schema holding the tables (created if missing). Default: the server's search_path. */
  readonly schema?: string;
  /** Connections in the pool. Default 10. */
  readonly poolSize?: number;
  /** Longest wait for a row or advisory lock before the statement fails. Default 30000. */
  readonly lockTimeoutMs?: number;
  /** Longest wait for a free pooled connection. Default 30000. */
  readonly connectTimeoutMs?: number;
}

export type StorageEngine = StorageConfig['engine'];

/** Membership values of `m.room.member` content (same union as `@membrane/events`). */
export type StoredMembership = 'invite' | 'join' | 'knock' | 'leave' | 'ban';

export interface AppliedMigration {
  readonly version: number;
  readonly name: string;
  readonly appliedTs: number;
}

// ---------------------------------------------------------------- rooms

export interface RoomRecord {
  readonly roomId: string;
  readonly roomVersion: string;
  readonly createdTs: number;
  /** State group of the room's current state, as last set by `setCurrentStateGroup`. */
  readonly currentStateGroupId: number | null;
}

export interface NewRoom {
  readonly roomVersion: string;
  readonly createdTs: number;
}

// ---------------------------------------------------------------- events

/** An event to persist. `roomId` must equal the transaction's room. */
export interface NewEvent {
  readonly eventId: string;
  readonly roomId: string;
  readonly type: string;
  /** `null` for non-state events; `''` is a valid state key. */
  readonly stateKey: string | null;
  readonly sender: string;
  readonly depth: number;
  readonly originServerTs: number;
  /** The PDU as canonical JSON text, stored unchanged. */
  readonly json: string;
  /** Why the event was rejected by the auth rules; `null`/absent if accepted. */
  readonly rejectedReason?: string | null;
  /** Stored without its place in the DAG (e.g. auth chain, remote invite). */
  readonly outlier?: boolean;
  /** Accepted but failed the check against current state: not relayed. */
  readonly softFailed?: boolean;
}

export interface StoredEvent {
  readonly eventId: string;
  readonly roomId: string;
  /** Global, monotonic position in the output stream (across rooms). */
  readonly position: number;
  readonly type: string;
  readonly stateKey: string | null;
  readonly sender: string;
  readonly depth: number;
  readonly originServerTs: number;
  readonly json: string;
  readonly rejectedReason: string | null;
  readonly outlier: boolean;
  readonly softFailed: boolean;
}

export interface InsertEventResult {
  /** Position of the stored row (the existing one when `inserted` is false). */
  readonly position: number;
  /** False when an event with this ID was already stored (nothing changed). */
  readonly inserted: boolean;
}

/** Flags that may change after an event is stored (e.g. an outlier gaining state). */
export interface EventStatusUpdate {
  readonly outlier?: boolean;
  readonly softFailed?: boolean;
  readonly rejectedReason?: string | null;
}

// ---------------------------------------------------------------- state

export interface StateKeyPair {
  readonly type: string;
  readonly stateKey: string;
}

export interface StateEntry extends StateKeyPair {
  readonly eventId: string;
}

/** Selects current state: one key, or every state key of a type when `stateKey` is absent. */
export interface StateFilter {
  readonly type: string;
  readonly stateKey?: string;
}

/**
 * A new state snapshot, either complete (`prevGroupId: null`, `entries` is the
 * whole state) or as a change to an earlier snapshot of the same room.
 */
export interface NewStateGroup {
  readonly prevGroupId: number | null;
  /** Entries added or replaced relative to `prevGroupId` (all entries when it is null). */
  readonly entries: readonly StateEntry[];
  /** Keys removed relative to `prevGroupId`. */
  readonly removed?: readonly StateKeyPair[];
}

/** The state snapshots around one event: before it, and after it is applied. */
export interface EventStateGroups {
  readonly beforeGroupId: number;
  readonly afterGroupId: number;
}

// ---------------------------------------------------------------- memberships

export interface MembershipUpdate {
  readonly userId: string;
  readonly membership: StoredMembership;
  /** The `m.room.member` event; it must already be stored (its position is recorded). */
  readonly eventId: string;
  /** Sets the forgotten flag; when absent an existing flag is kept (new rows: false). */
  readonly forgotten?: boolean;
}

export interface MembershipRecord {
  readonly roomId: string;
  readonly userId: string;
  /** The part of the user ID after the first `:`. */
  readonly serverName: string;
  readonly membership: StoredMembership;
  readonly eventId: string;
  readonly forgotten: boolean;
  /** Stream position of `eventId`. */
  readonly position: number;
}

export interface RoomsForUserQuery {
  /** Only these memberships; all when absent. */
  readonly memberships?: readonly StoredMembership[];
  /** Forgotten rooms: `exclude` (default), `include`, or `only`. */
  readonly forgotten?: 'exclude' | 'include' | 'only';
}

export interface ServerMemberCount {
  readonly serverName: string;
  readonly joined: number;
}

// ---------------------------------------------------------------- idempotency

export interface IdempotencyRecord {
  readonly key: string;
  readonly resultJson: string;
  readonly createdTs: number;
}

export interface PutIdempotencyResult {
  /** False when the key already existed; `record` is then the earlier one. */
  readonly stored: boolean;
  readonly record: IdempotencyRecord;
}

// ---------------------------------------------------------------- outbox

export interface OutboxItem {
  readonly id: number;
  readonly destination: string;
  readonly roomId: string;
  readonly eventId: string;
  /** The PDU to send (the stored event JSON). */
  readonly eventJson: string;
  readonly createdTs: number;
  /** Failed delivery attempts so far. */
  readonly attempts: number;
  readonly nextAttemptTs: number;
  readonly claimedUntil: number | null;
}

export interface ClaimOutboxOptions {
  /** Claim only this destination; otherwise the destination whose oldest due row is oldest. */
  readonly destination?: string;
  /** Rows in the batch, 1..50 (a federation transaction carries at most 50 PDUs). */
  readonly limit: number;
  /** The claim holds the rows until `now + leaseMs`; then they are claimable again. */
  readonly leaseMs: number;
  readonly now: number;
}

/** Rows of one destination, oldest first, leased to the caller. */
export interface OutboxBatch {
  readonly destination: string;
  readonly leaseUntil: number;
  readonly items: readonly OutboxItem[];
}

export interface OutboxStats {
  /** Rows not yet delivered. */
  readonly depth: number;
  /** Destinations with rows not yet delivered. */
  readonly destinations: number;
  /** Rows under an unexpired lease. */
  readonly inFlight: number;
  /** `now` minus the oldest row's `createdTs`; null when empty. */
  readonly oldestAgeMs: number | null;
}

// ---------------------------------------------------------------- received invites

export interface ReceivedInvite {
  readonly roomId: string;
  readonly userId: string;
  readonly inviteEventJson: string;
  readonly roomVersion: string;
  /** `invite_room_state` / stripped state as JSON text. */
  readonly strippedStateJson: string;
  /** Servers to try when rejecting, in order of preference. */
  readonly servers: readonly string[];
  readonly receivedTs: number;
}

export type NewReceivedInvite = Omit<ReceivedInvite, 'roomId'>;

// ---------------------------------------------------------------- sent knocks

/** A knock one of our users sent to a room this server is not in. */
export interface SentKnock {
  readonly roomId: string;
  readonly userId: string;
  /** The knock event (stored as an outlier); the row applies while the user's membership is this event. */
  readonly eventId: string;
  /** `knock_room_state` from the resident server: a JSON array of its state events (shown as stripped state), as text. */
  readonly knockRoomStateJson: string;
  /** Servers to rescind the knock through, in order of preference. */
  readonly servers: readonly string[];
  readonly sentTs: number;
}

export type NewSentKnock = Omit<SentKnock, 'roomId'>;

// ---------------------------------------------------------------- handles

/** Queries available everywhere: inside `read()` and inside a room transaction. */
export interface ReadTx {
  getRoom(roomId: string): Promise<RoomRecord | null>;

  getEvent(eventId: string): Promise<StoredEvent | null>;
  /** The stored events among `eventIds` (missing ones are absent from the map). */
  getEvents(eventIds: readonly string[]): Promise<ReadonlyMap<string, StoredEvent>>;
  /** Events of one room with position > `afterPosition`, ascending, at most `limit` (1..1000). */
  getRoomEventsAfter(roomId: string, afterPosition: number, limit: number): Promise<StoredEvent[]>;
  /**
   * Events of one room with `afterPosition` < position <= `atOrBeforePosition`
   * (`afterPosition` defaults to 0), descending, at most `limit` (1..1000).
   */
  getRoomEventsBackwards(roomId: string, atOrBeforePosition: number, limit: number, afterPosition?: number): Promise<StoredEvent[]>;
  /**
   * The ordered output stream: events with position > `afterPosition`,
   * ascending, at most `limit` (1..1000), optionally only from `roomIds`.
   * A reader that advances its cursor to the last position returned never
   * misses an event (positions become visible in increasing order).
   */
  eventsSince(afterPosition: number, limit: number, roomIds?: readonly string[]): Promise<StoredEvent[]>;
  /** Highest stored position; 0 when there are no events. */
  maxStreamPosition(): Promise<number>;

  /** Forward extremities of a room, sorted by event ID. */
  getForwardExtremities(roomId: string): Promise<string[]>;

  getCurrentStateEventId(roomId: string, type: string, stateKey: string): Promise<string | null>;
  /** Current state, sorted by (type, stateKey). */
  getCurrentState(roomId: string): Promise<StateEntry[]>;
  /** Stored events of the current state matching any filter (all state when absent), sorted by (type, stateKey). */
  getCurrentStateEvents(roomId: string, filters?: readonly StateFilter[]): Promise<StoredEvent[]>;

  /** Full state of a snapshot, sorted by (type, stateKey); null if unknown. */
  getStateGroup(groupId: number): Promise<StateEntry[] | null>;
  getEventStateGroups(eventId: string): Promise<EventStateGroups | null>;
  /**
   * The entries of some keys of a snapshot's state (keys absent from it are
   * left out), sorted by (type, stateKey); null if the group is unknown.
   * Costs a lookup per key, however large the state.
   */
  getStateGroupEntries(groupId: number, keys: readonly StateKeyPair[]): Promise<StateEntry[] | null>;
  /** The snapshots around each of `eventIds` that has them recorded. */
  getStateGroupsOfEvents(eventIds: readonly string[]): Promise<ReadonlyMap<string, EventStateGroups>>;
  /** State before/after an event (for `/state` and `/state_ids`); null if not recorded. */
  getStateAtEvent(eventId: string, at: 'before' | 'after'): Promise<StateEntry[] | null>;

  getMembership(roomId: string, userId: string): Promise<MembershipRecord | null>;
  /** Memberships of a user, sorted by room ID. */
  listRoomsForUser(userId: string, query?: RoomsForUserQuery): Promise<MembershipRecord[]>;
  /** Members of a room (only the given memberships if any), sorted by user ID. */
  listRoomMembers(roomId: string, memberships?: readonly StoredMembership[]): Promise<MembershipRecord[]>;
  /** Joined members per server (the room's federation destinations), sorted by server. */
  countJoinedMembersByServer(roomId: string): Promise<ServerMemberCount[]>;
  /** True when at least one user of `serverName` is joined to the room. */
  isServerInRoom(roomId: string, serverName: string): Promise<boolean>;

  getIdempotencyRecord(key: string): Promise<IdempotencyRecord | null>;

  getReceivedInvite(roomId: string, userId: string): Promise<ReceivedInvite | null>;
  /** Invites a user has received, oldest first. */
  listReceivedInvitesForUser(userId: string): Promise<ReceivedInvite[]>;

  /** A filter `userId` stored, as stored; null when that user has no filter with this ID. */
  getFilter(userId: string, filterId: string): Promise<string | null>;

  getSentKnock(roomId: string, userId: string): Promise<SentKnock | null>;
}

/**
 * Reads and writes of one room inside its serialized transaction. Writes are
 * scoped to `roomId`; reads may look at any room. The handle is dead once the
 * transaction ends (calls then throw).
 */
export interface RoomTx extends ReadTx {
  readonly roomId: string;

  /** Creates the room row; `created: false` (and the existing row) if it exists. */
  createRoom(room: NewRoom): Promise<{ readonly created: boolean; readonly room: RoomRecord }>;

  /**
   * Stores an event, idempotently by event ID. From the first insert until
   * commit, event-writing transactions of all rooms run one at a time on
   * PostgreSQL (this keeps the stream gap-free), so insert events late.
   */
  insertEvent(event: NewEvent): Promise<InsertEventResult>;
  /** Returns false when the event is not stored in this room. */
  updateEventStatus(eventId: string, update: EventStatusUpdate): Promise<boolean>;

  setForwardExtremities(eventIds: readonly string[]): Promise<void>;

  /** Upserts current-state entries. */
  setCurrentState(entries: readonly StateEntry[]): Promise<void>;
  deleteCurrentState(keys: readonly StateKeyPair[]): Promise<void>;
  /** Replaces the whole current state (e.g. after state resolution). */
  replaceCurrentState(entries: readonly StateEntry[]): Promise<void>;
  setCurrentStateGroup(groupId: number): Promise<void>;

  /**
   * Stores a state snapshot and returns its ID. A change with no entries and
   * no removals returns `prevGroupId` itself. Long chains of changes are
   * collapsed into a complete snapshot automatically.
   */
  storeStateGroup(group: NewStateGroup): Promise<number>;
  /** Records the snapshots around an event of this room (replacing earlier ones). */
  setEventStateGroups(eventId: string, groups: EventStateGroups): Promise<void>;

  upsertMembership(update: MembershipUpdate): Promise<MembershipRecord>;
  /** Returns false when the user has no membership row in this room. */
  setForgotten(userId: string, forgotten: boolean): Promise<boolean>;

  /** Put-if-absent. */
  putIdempotencyRecord(key: string, resultJson: string, createdTs: number): Promise<PutIdempotencyResult>;

  /**
   * Queues a stored event of this room for each destination (deduplicated
   * per destination and event). Returns how many rows were added.
   */
  enqueueOutbox(destinations: readonly string[], eventId: string, createdTs: number): Promise<number>;

  /** Stores (or replaces) the invite `userId` received for this room. */
  putReceivedInvite(invite: NewReceivedInvite): Promise<void>;
  /** Returns false when there was none. */
  deleteReceivedInvite(userId: string): Promise<boolean>;

  /** Stores (or replaces) the knock `userId` sent to this room. */
  putSentKnock(knock: NewSentKnock): Promise<void>;
  /** Returns false when there was none. */
  deleteSentKnock(userId: string): Promise<boolean>;
}

export interface Storage {
  readonly engine: StorageEngine;

  /**
   * Runs `fn` in a transaction that is serialized with every other
   * transaction on the same room: in-process by a queue per room, across
   * processes by a PostgreSQL advisory lock (SQLite: one queue for every
   * write of the file, and `BEGIN IMMEDIATE`). Commits when `fn` resolves;
   * rolls everything back when it throws. Resolves only once the commit is
   * durable (SQLite may commit several transactions together; each still
   * rolls back alone). Do not call `read` or `withRoomTransaction` from
   * inside `fn` (it throws): use `tx`.
   */
  withRoomTransaction<T>(roomId: string, fn: (tx: RoomTx) => Promise<T>): Promise<T>;

  /** Read-only queries over one consistent snapshot, outside any room lock. */
  read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T>;

  /**
   * Leases the oldest due rows of one destination. A destination is handed
   * to one claimer at a time (no other claim gets its rows while a lease is
   * unexpired), so delivery per destination is in order. Null when nothing
   * is due.
   */
  claimOutboxBatch(options: ClaimOutboxOptions): Promise<OutboxBatch | null>;
  /** Deletes delivered rows; returns how many existed. */
  ackOutbox(ids: readonly number[]): Promise<number>;
  /** Releases rows for a later attempt: `attempts + 1`, lease cleared. */
  retryOutboxLater(ids: readonly number[], nextAttemptTs: number): Promise<number>;
  /** Destinations a claim at `now` could return, oldest due row first. */
  pendingOutboxDestinations(now: number): Promise<string[]>;
  outboxStats(now: number): Promise<OutboxStats>;

  /**
   * Stores a client filter of `userId` (text kept exactly) and returns its ID:
   * a short decimal string, the same one again when this user already stored
   * the identical text.
   */
  putFilter(userId: string, filterJson: string, createdTs: number): Promise<string>;

  /** Deletes idempotency records created before `olderThanTs`; returns how many. */
  sweepIdempotencyRecords(olderThanTs: number): Promise<number>;

  /** Migrations recorded in `schema_migrations`, ascending. */
  appliedMigrations(): Promise<AppliedMigration[]>;

  /** Waits for running operations, then closes connections. Later calls throw. */
  close(): Promise<void>;
}
