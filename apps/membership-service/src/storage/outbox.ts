// The federation outbox: one row per (destination, event), deleted when
// delivered. A destination is handed to one claimer at a time: it is
// claimable when none of its rows is under an unexpired lease and its oldest
// row is due. The claim then leases its oldest due rows, in ID order, so
// each destination sees its events in order and one transaction at a time.
// Failed rows get a later `next_attempt_ts`; as they stay the oldest rows,
// they hold back the whole destination (per-destination backoff).

import { checkInteger, checkLimit, checkNonEmptyText, outboxItemFromRow } from './rows.js';
import type { Dialect, SqlExecutor } from './sql.js';
import { chunks, placeholders, toInt, toIntOrNull, toStr } from './sql.js';
import type { ClaimOutboxOptions, OutboxBatch, OutboxStats } from './types.js';

/** A federation transaction carries at most 50 PDUs. */
export const MAX_OUTBOX_BATCH = 50;

/**
 * Destinations a claim examines. When every one of them is held by other
 * claimers the claim returns null and the caller tries again later.
 */
const CLAIM_CANDIDATES = 32;

const CLAIMABLE_DESTINATIONS = `
  SELECT h.destination AS destination
    FROM outbox h
    JOIN (SELECT destination, MIN(id) AS head_id FROM outbox GROUP BY destination) m ON h.id = m.head_id
   WHERE h.next_attempt_ts <= $1
     AND NOT EXISTS (SELECT 1 FROM outbox a WHERE a.destination = h.destination AND a.claimed_until > $1)
   ORDER BY h.id`;

export async function claimOutboxBatch(
  exec: SqlExecutor,
  dialect: Dialect,
  options: ClaimOutboxOptions,
): Promise<OutboxBatch | null> {
  checkLimit('limit', options.limit, MAX_OUTBOX_BATCH);
  checkInteger('now', options.now);
  checkLimit('leaseMs', options.leaseMs, Number.MAX_SAFE_INTEGER);
  const candidates =
    options.destination !== undefined
      ? [options.destination]
      : (await exec.query(`${CLAIMABLE_DESTINATIONS} LIMIT ${CLAIM_CANDIDATES}`, [options.now])).map((r) =>
          toStr(r['destination']),
        );
  for (const destination of candidates) {
    const batch = await claimDestination(exec, dialect, destination, options);
    if (batch) return batch;
  }
  return null;
}

async function claimDestination(
  exec: SqlExecutor,
  dialect: Dialect,
  destination: string,
  options: ClaimOutboxOptions,
): Promise<OutboxBatch | null> {
  checkNonEmptyText('destination', destination);
  if (!(await dialect.tryLockDestination(exec, destination))) return null;
  // Checked again under the destination lock: a claimer that held it until
  // just now may have leased rows after our candidate query ran.
  const gate = await exec.query(
    `SELECT (SELECT next_attempt_ts FROM outbox WHERE destination = $1 ORDER BY id LIMIT 1) AS head_due,
            (SELECT COUNT(*) FROM outbox WHERE destination = $1 AND claimed_until > $2) AS leased`,
    [destination, options.now],
  );
  const headDue = toIntOrNull(gate[0]?.['head_due']);
  if (headDue === null || headDue > options.now || toInt(gate[0]?.['leased']) > 0) return null;
  const picked = await exec.query(
    `SELECT id FROM outbox
      WHERE destination = $1 AND next_attempt_ts <= $2 AND (claimed_until IS NULL OR claimed_until <= $2)
      ORDER BY id LIMIT $3${dialect.skipLocked}`,
    [destination, options.now, options.limit],
  );
  const ids = picked.map((r) => toInt(r['id']));
  if (ids.length === 0) return null;
  const leaseUntil = options.now + options.leaseMs;
  await exec.execute(`UPDATE outbox SET claimed_until = $1 WHERE id IN (${placeholders(ids.length, 1)})`, [
    leaseUntil,
    ...ids,
  ]);
  const rows = await exec.query(
    `SELECT o.id AS id, o.destination AS destination, o.room_id AS room_id, o.event_id AS event_id,
            o.created_ts AS created_ts, o.attempts AS attempts, o.next_attempt_ts AS next_attempt_ts,
            o.claimed_until AS claimed_until, e.json AS json
       FROM outbox o JOIN events e ON e.event_id = o.event_id
      WHERE o.id IN (${placeholders(ids.length, 0)})
      ORDER BY o.id`,
    ids,
  );
  return { destination, leaseUntil, items: rows.map(outboxItemFromRow) };
}

export async function ackOutbox(exec: SqlExecutor, ids: readonly number[]): Promise<number> {
  let deleted = 0;
  for (const part of chunks([...new Set(ids)])) {
    part.forEach((id) => checkInteger('outbox id', id));
    deleted += await exec.execute(`DELETE FROM outbox WHERE id IN (${placeholders(part.length, 0)})`, part);
  }
  return deleted;
}

export async function retryOutboxLater(
  exec: SqlExecutor,
  ids: readonly number[],
  nextAttemptTs: number,
): Promise<number> {
  checkInteger('nextAttemptTs', nextAttemptTs);
  let updated = 0;
  for (const part of chunks([...new Set(ids)])) {
    part.forEach((id) => checkInteger('outbox id', id));
    updated += await exec.execute(
      `UPDATE outbox SET attempts = attempts + 1, next_attempt_ts = $1, claimed_until = NULL
        WHERE id IN (${placeholders(part.length, 1)})`,
      [nextAttemptTs, ...part],
    );
  }
  return updated;
}

export async function pendingOutboxDestinations(exec: SqlExecutor, now: number): Promise<string[]> {
  checkInteger('now', now);
  const rows = await exec.query(CLAIMABLE_DESTINATIONS, [now]);
  return rows.map((r) => toStr(r['destination']));
}

export async function outboxStats(exec: SqlExecutor, now: number): Promise<OutboxStats> {
  checkInteger('now', now);
  const rows = await exec.query(
    `SELECT COUNT(*) AS depth,
            COUNT(DISTINCT destination) AS destinations,
            COUNT(CASE WHEN claimed_until > $1 THEN 1 END) AS in_flight,
            MIN(created_ts) AS oldest
       FROM outbox`,
    [now],
  );
  const row = rows[0] ?? {};
  const oldest = toIntOrNull(row['oldest']);
  return {
    depth: toInt(row['depth']),
    destinations: toInt(row['destinations']),
    inFlight: toInt(row['in_flight']),
    oldestAgeMs: oldest === null ? null : now - oldest,
  };
}
