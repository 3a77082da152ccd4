// The small surface the shared queries need from a database connection, and
// the few places where the engines differ. Queries are written once with
// PostgreSQL-style `$1` placeholders; the SQLite executor rewrites them.

export type SqlValue = string | number | boolean | null;
export type SqlRow = Record<string, unknown>;

export interface SqlExecutor {
  /** Runs a statement and returns its rows (statements with RETURNING included). */
  query(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Runs a statement and returns how many rows it changed. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface Dialect {
  readonly engine: 'sqlite' | 'postgres';
  /** Appended to a SELECT to lock its rows and skip rows other transactions hold. */
  readonly skipLocked: string;
  /**
   * Called before the first event insert of a transaction; held until the
   * end of it, so positions become visible in the order they were taken.
   */
  lockStreamOrder(exec: SqlExecutor): Promise<void>;
  /** Tries to own a destination of the outbox for the rest of the transaction. */
  tryLockDestination(exec: SqlExecutor, destination: string): Promise<boolean>;
}

/** `$1, $2, ...` starting after `offset` parameters already used. */
export function placeholders(count: number, offset: number): string {
  return Array.from({ length: count }, (_, i) => `$${offset + i + 1}`).join(', ');
}

/** Splits a list so that IN (...) lists stay well under every engine's parameter limit. */
export function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Rewrites `$n` placeholders into SQLite's anonymous `?` and returns, for each
 * `?`, the index of the parameter it takes (so `$1` may appear twice).
 */
export function toAnonymousPlaceholders(sql: string): { sql: string; order: number[] } {
  const order: number[] = [];
  const rewritten = sql.replace(/\$(\d+)/g, (_, n: string) => {
    order.push(Number(n) - 1);
    return '?';
  });
  return { sql: rewritten, order };
}

export function toInt(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new TypeError(`expected an integer column, got ${String(value)}`);
  return n;
}

export function toIntOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : toInt(value);
}

export function toBool(value: unknown): boolean {
  return value === true || value === 1 || value === 1n || value === '1' || value === 't';
}

export function toStr(value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`expected a text column, got ${typeof value}`);
  return value;
}

export function toStrOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : toStr(value);
}
