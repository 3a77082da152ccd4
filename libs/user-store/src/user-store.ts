// The users of a gateway that has no homeserver behind it: local accounts,
// their devices and access tokens, in one SQLite file. The gateway reads it
// on every request; the admin CLI writes it while the gateway runs (WAL).
// A store belongs to one server name, fixed when it is created, so a token
// issued for `@alice:a` can never authenticate `@alice:b`.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { isValidLocalpart, localpartOf, userIdOf } from './identifiers.js';
import { hashPassword, verifyPassword } from './password.js';
import { generateAccessToken, generateDeviceId, hashAccessToken } from './tokens.js';

export type UserStoreErrorCode = 'USER_EXISTS' | 'INVALID_LOCALPART' | 'SERVER_NAME_MISMATCH' | 'SERVER_NAME_REQUIRED' | 'UNKNOWN_USER' | 'INVALID_DEVICE_ID';

export class UserStoreError extends Error {
  constructor(
    readonly code: UserStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'UserStoreError';
  }
}

export interface UserRecord {
  readonly localpart: string;
  readonly userId: string;
  readonly createdTs: number;
  /** False for users that can only use tokens issued by the admin CLI. */
  readonly hasPassword: boolean;
}

export interface IssuedToken {
  readonly userId: string;
  readonly deviceId: string;
  /** The only time the token value is available. */
  readonly accessToken: string;
}

export interface TokenOwner {
  readonly userId: string;
  readonly localpart: string;
  readonly deviceId: string;
}

export interface OpenUserStoreOptions {
  /** The SQLite file; created with its directory when missing. */
  readonly path: string;
  /**
   * The server name users belong to. Required for a new store; for an
   * existing one it must match the name recorded at creation, or be omitted.
   */
  readonly serverName?: string | undefined;
  readonly clock?: () => number;
}

/** Where a gateway and the admin CLI find the store by default. */
export function defaultUserStorePath(dataDir: string): string {
  return join(dataDir, 'users.sqlite');
}

const SCHEMA_VERSION = 1;
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS users (
    localpart TEXT PRIMARY KEY,
    password_hash TEXT,
    created_ts INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS devices (
    localpart TEXT NOT NULL REFERENCES users(localpart) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    display_name TEXT,
    created_ts INTEGER NOT NULL,
    PRIMARY KEY (localpart, device_id)
  );
  CREATE TABLE IF NOT EXISTS access_tokens (
    token_hash TEXT PRIMARY KEY,
    localpart TEXT NOT NULL,
    device_id TEXT NOT NULL,
    created_ts INTEGER NOT NULL,
    FOREIGN KEY (localpart, device_id) REFERENCES devices(localpart, device_id) ON DELETE CASCADE
  );
  CREATE INDEX IF NOT EXISTS access_tokens_by_device ON access_tokens (localpart, device_id);
`;

const MAX_DEVICE_ID_LENGTH = 255;

interface UserRow {
  localpart: string;
  password_hash: string | null;
  created_ts: number;
}

export class UserStore {
  private readonly statements = new Map<string, Statement>();

  private constructor(
    private readonly db: SqliteDatabase,
    readonly serverName: string,
    private readonly clock: () => number,
  ) {}

  static open(options: OpenUserStoreOptions): UserStore {
    mkdirSync(dirname(options.path), { recursive: true });
    const db = new Database(options.path, { timeout: 5_000 });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      const serverName = db.transaction(() => {
        db.exec(SCHEMA);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
        return bindServerName(db, options.serverName);
      }).immediate();
      return new UserStore(db, serverName, options.clock ?? Date.now);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  userIdOf(localpart: string): string {
    return userIdOf(localpart, this.serverName);
  }

  /** Creates a user; without a password the user can only use issued tokens. */
  async createUser(localpartOrUserId: string, options: { password?: string | undefined } = {}): Promise<UserRecord> {
    const localpart = this.requireLocalpart(localpartOrUserId);
    if (!isValidLocalpart(localpart, this.serverName)) {
      throw new UserStoreError('INVALID_LOCALPART', `"${localpart}" is not a valid localpart: use a-z, 0-9 and . _ = - / + (user ID at most 255 bytes)`);
    }
    const passwordHash = options.password === undefined ? null : await hashPassword(options.password);
    const createdTs = this.clock();
    const inserted = this.statement(
      'INSERT INTO users (localpart, password_hash, created_ts) VALUES (?, ?, ?) ON CONFLICT (localpart) DO NOTHING',
    ).run(localpart, passwordHash, createdTs);
    if (inserted.changes === 0) throw new UserStoreError('USER_EXISTS', `User ${this.userIdOf(localpart)} already exists`);
    return { localpart, userId: this.userIdOf(localpart), createdTs, hasPassword: passwordHash !== null };
  }

  getUser(localpartOrUserId: string): UserRecord | undefined {
    const localpart = localpartOf(localpartOrUserId, this.serverName);
    if (localpart === undefined) return undefined;
    const row = this.statement('SELECT localpart, password_hash, created_ts FROM users WHERE localpart = ?').get(localpart) as UserRow | undefined;
    return row === undefined ? undefined : this.recordOf(row);
  }

  listUsers(): UserRecord[] {
    const rows = this.statement('SELECT localpart, password_hash, created_ts FROM users ORDER BY localpart').all() as UserRow[];
    return rows.map((row) => this.recordOf(row));
  }

  /**
   * The user when the password matches. Unknown users and users without a
   * password cost one hash too, so timing does not tell which users exist.
   */
  async checkPassword(localpartOrUserId: string, password: string): Promise<UserRecord | undefined> {
    const localpart = localpartOf(localpartOrUserId, this.serverName);
    const row =
      localpart === undefined
        ? undefined
        : (this.statement('SELECT localpart, password_hash, created_ts FROM users WHERE localpart = ?').get(localpart) as UserRow | undefined);
    if (row?.password_hash === undefined || row.password_hash === null) {
      await verifyPassword(password, await dummyHash());
      return undefined;
    }
    return (await verifyPassword(password, row.password_hash)) ? this.recordOf(row) : undefined;
  }

  /** A new access token on the given device (created when unknown) or on a new device. */
  issueAccessToken(localpartOrUserId: string, options: { deviceId?: string | undefined; displayName?: string | undefined } = {}): IssuedToken {
    const localpart = this.requireLocalpart(localpartOrUserId);
    const deviceId = options.deviceId ?? generateDeviceId();
    if (deviceId.length === 0 || deviceId.length > MAX_DEVICE_ID_LENGTH) {
      throw new UserStoreError('INVALID_DEVICE_ID', `A device ID must have 1 to ${MAX_DEVICE_ID_LENGTH} characters`);
    }
    const accessToken = generateAccessToken();
    const now = this.clock();
    this.db.transaction(() => {
      const user = this.statement('SELECT 1 FROM users WHERE localpart = ?').get(localpart);
      if (user === undefined) throw new UserStoreError('UNKNOWN_USER', `User ${this.userIdOf(localpart)} does not exist`);
      this.statement(
        'INSERT INTO devices (localpart, device_id, display_name, created_ts) VALUES (?, ?, ?, ?) ON CONFLICT (localpart, device_id) DO NOTHING',
      ).run(localpart, deviceId, options.displayName ?? null, now);
      this.statement('INSERT INTO access_tokens (token_hash, localpart, device_id, created_ts) VALUES (?, ?, ?, ?)').run(hashAccessToken(accessToken), localpart, deviceId, now);
    }).immediate();
    return { userId: this.userIdOf(localpart), deviceId, accessToken };
  }

  findAccessToken(accessToken: string): TokenOwner | undefined {
    const row = this.statement('SELECT localpart, device_id FROM access_tokens WHERE token_hash = ?').get(hashAccessToken(accessToken)) as
      | { localpart: string; device_id: string }
      | undefined;
    return row === undefined ? undefined : { localpart: row.localpart, userId: this.userIdOf(row.localpart), deviceId: row.device_id };
  }

  /** Removes a device and every token issued on it (what `/logout` does). */
  removeDevice(localpartOrUserId: string, deviceId: string): void {
    const localpart = this.requireLocalpart(localpartOrUserId);
    this.statement('DELETE FROM devices WHERE localpart = ? AND device_id = ?').run(localpart, deviceId);
  }

  /** Removes every device and token of a user (what `/logout/all` does). */
  removeAllDevices(localpartOrUserId: string): void {
    const localpart = this.requireLocalpart(localpartOrUserId);
    this.statement('DELETE FROM devices WHERE localpart = ?').run(localpart);
  }

  close(): void {
    this.db.close();
  }

  /**
   * Prepared once and reused: the gateway looks a token up on every request,
   * and preparing the statement again each time was a visible share of it.
   */
  private statement(sql: string): Statement {
    let prepared = this.statements.get(sql);
    if (prepared === undefined) {
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  private requireLocalpart(localpartOrUserId: string): string {
    const localpart = localpartOf(localpartOrUserId, this.serverName);
    if (localpart === undefined) throw new UserStoreError('SERVER_NAME_MISMATCH', `${localpartOrUserId} does not belong to ${this.serverName}`);
    return localpart;
  }

  private recordOf(row: UserRow): UserRecord {
    return { localpart: row.localpart, userId: this.userIdOf(row.localpart), createdTs: row.created_ts, hasPassword: row.password_hash !== null };
  }
}

function bindServerName(db: SqliteDatabase, requested: string | undefined): string {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'server_name'").get() as { value: string } | undefined;
  if (row !== undefined) {
    if (requested !== undefined && requested !== row.value) {
      throw new UserStoreError('SERVER_NAME_MISMATCH', `This user store belongs to server ${row.value}, not ${requested}`);
    }
    return row.value;
  }
  if (requested === undefined) throw new UserStoreError('SERVER_NAME_REQUIRED', 'A new user store needs a server name');
  db.prepare("INSERT INTO meta (key, value) VALUES ('server_name', ?)").run(requested);
  return requested;
}

let dummy: Promise<string> | undefined;

function dummyHash(): Promise<string> {
  dummy ??= hashPassword('no user has this password');
  return dummy;
}
