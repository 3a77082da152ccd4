// The invariants of the membership service's storage, each a read-only query
// plus what it means when rows come back. Large tables are read in pages so
// that progress can be shown and memory stays flat.
import type { ReadOnlyDatabase, Row } from './database.js';

export interface Finding {
  readonly check: string;
  readonly message: string;
}

export interface Check {
  readonly name: string;
  readonly description: string;
  run(db: ReadOnlyDatabase, progress: (rows: number) => void): Promise<Finding[]>;
}

const PAGE = 2_000;

function text(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

/** `content.membership` of an event's JSON, or a description of why there is none. */
export function membershipOfEventJson(json: unknown): string | undefined {
  if (typeof json !== 'string') return undefined;
  try {
    const event = JSON.parse(json) as { content?: { membership?: unknown } };
    const membership = event.content?.membership;
    return typeof membership === 'string' ? membership : undefined;
  } catch {
    return undefined;
  }
}

const membershipsPointToMemberEvents: Check = {
  name: 'membership-events',
  description: 'every membership row points to a stored m.room.member event of that room and user with the same membership',
  async run(db, progress) {
    const findings: Finding[] = [];
    let after: [string, string] = ['', ''];
    let seen = 0;
    for (;;) {
      const rows = await db.query(
        `SELECT m.room_id, m.user_id, m.membership, m.event_id,
                e.event_id AS stored_id, e.room_id AS event_room, e.type AS event_type, e.state_key AS event_state_key, e.json
           FROM memberships m LEFT JOIN events e ON e.event_id = m.event_id
          WHERE m.room_id > $1 OR (m.room_id = $2 AND m.user_id > $3)
          ORDER BY m.room_id, m.user_id LIMIT ${PAGE}`,
        [after[0], after[0], after[1]],
      );
      for (const row of rows) findings.push(...membershipRowProblems(row));
      seen += rows.length;
      progress(seen);
      const last = rows.at(-1);
      if (last === undefined || rows.length < PAGE) return findings;
      after = [text(last['room_id']), text(last['user_id'])];
    }
  },
};

function membershipRowProblems(row: Row): Finding[] {
  const where = `room ${text(row['room_id'])} user ${text(row['user_id'])} (${text(row['membership'])}, ${text(row['event_id'])})`;
  const problem = (message: string): Finding[] => [{ check: membershipsPointToMemberEvents.name, message: `${where}: ${message}` }];
  if (row['stored_id'] === null || row['stored_id'] === undefined) return problem('the event is not stored');
  if (row['event_room'] !== row['room_id']) return problem(`the event belongs to room ${text(row['event_room'])}`);
  if (row['event_type'] !== 'm.room.member') return problem(`the event has type ${text(row['event_type'])}`);
  if (row['event_state_key'] !== row['user_id']) return problem(`the event is about ${text(row['event_state_key'])}`);
  const membership = membershipOfEventJson(row['json']);
  if (membership !== row['membership']) return problem(`the event's content.membership is ${String(membership)}`);
  return [];
}

/** A check whose query returns exactly the offending rows. */
function offendingRowsCheck(name: string, description: string, sql: string, describeRow: (row: Row) => string): Check {
  return {
    name,
    description,
    async run(db, progress) {
      const rows = await db.query(sql);
      progress(rows.length);
      return rows.map((row) => ({ check: name, message: describeRow(row) }));
    },
  };
}

const currentStatePointsToEvents = offendingRowsCheck(
  'current-state-events',
  'every current_state row points to a stored event of that room, type and state_key',
  `SELECT cs.room_id, cs.type, cs.state_key, cs.event_id, e.event_id AS stored_id, e.room_id AS event_room, e.type AS event_type, e.state_key AS event_state_key
     FROM current_state cs LEFT JOIN events e ON e.event_id = cs.event_id
    WHERE e.event_id IS NULL OR e.room_id <> cs.room_id OR e.type <> cs.type OR e.state_key IS NULL OR e.state_key <> cs.state_key
    ORDER BY cs.room_id, cs.type, cs.state_key`,
  (row) => {
    const where = `room ${text(row['room_id'])} (${text(row['type'])}, ${JSON.stringify(row['state_key'])}) → ${text(row['event_id'])}`;
    if (row['stored_id'] === null) return `${where}: the event is not stored`;
    return `${where}: the stored event is (${text(row['event_type'])}, ${JSON.stringify(row['event_state_key'])}) in ${text(row['event_room'])}`;
  },
);

// Out-of-band events (a leave recorded locally when no server could be reached)
// are outliers of rooms we never joined, so they need no create event.
const roomsHaveCreateEvents = offendingRowsCheck(
  'create-events',
  'every room with (non-outlier) events has a stored m.room.create event',
  `SELECT DISTINCT e.room_id FROM events e
    WHERE e.outlier = FALSE
      AND NOT EXISTS (SELECT 1 FROM events c WHERE c.room_id = e.room_id AND c.type = 'm.room.create' AND c.state_key = '')
    ORDER BY e.room_id`,
  (row) => `room ${text(row['room_id'])}: no m.room.create event is stored`,
);

const forwardExtremitiesExist = offendingRowsCheck(
  'forward-extremities',
  'every forward extremity is a stored event of its room',
  `SELECT fe.room_id, fe.event_id, e.room_id AS event_room
     FROM forward_extremities fe LEFT JOIN events e ON e.event_id = fe.event_id
    WHERE e.event_id IS NULL OR e.room_id <> fe.room_id
    ORDER BY fe.room_id, fe.event_id`,
  (row) =>
    row['event_room'] === null
      ? `room ${text(row['room_id'])}: forward extremity ${text(row['event_id'])} is not stored`
      : `room ${text(row['room_id'])}: forward extremity ${text(row['event_id'])} belongs to room ${text(row['event_room'])}`,
);

const outboxReferencesEvents = offendingRowsCheck(
  'outbox-events',
  'every outbox row references a stored event of its room',
  `SELECT o.id, o.destination, o.room_id, o.event_id, e.room_id AS event_room
     FROM outbox o LEFT JOIN events e ON e.event_id = o.event_id
    WHERE e.event_id IS NULL OR e.room_id <> o.room_id
    ORDER BY o.id`,
  (row) =>
    `outbox ${text(row['id'])} to ${text(row['destination'])}: event ${text(row['event_id'])} ` +
    (row['event_room'] === null ? 'is not stored' : `belongs to room ${text(row['event_room'])}, not ${text(row['room_id'])}`),
);

// The counts are kept by triggers (migration 2) and decide which servers hear
// of a room's events, so a drift would silently lose or misroute federation.
const joinedServerCountsMatch = offendingRowsCheck(
  'joined-server-counts',
  'room_joined_servers holds exactly the joined members per room and server',
  `SELECT c.room_id, c.server_name, c.joined AS counted, s.joined AS stored
     FROM (SELECT room_id, server_name, COUNT(*) AS joined FROM memberships WHERE membership = 'join' GROUP BY room_id, server_name) c
     LEFT JOIN room_joined_servers s ON s.room_id = c.room_id AND s.server_name = c.server_name
    WHERE s.joined IS NULL OR s.joined <> c.joined
   UNION ALL
   SELECT s.room_id, s.server_name, 0 AS counted, s.joined AS stored FROM room_joined_servers s
    WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.room_id = s.room_id AND m.server_name = s.server_name AND m.membership = 'join')
   ORDER BY 1, 2`,
  (row) => `room ${text(row['room_id'])} server ${text(row['server_name'])}: ${text(row['counted'])} joined members, but the count says ${row['stored'] === null ? 'nothing' : text(row['stored'])}`,
);

export const CHECKS: readonly Check[] = [
  membershipsPointToMemberEvents,
  currentStatePointsToEvents,
  roomsHaveCreateEvents,
  forwardExtremitiesExist,
  outboxReferencesEvents,
  joinedServerCountsMatch,
];

/** Fails clearly when the database was not made by the membership service. */
export async function assertMembershipSchema(db: ReadOnlyDatabase): Promise<number> {
  let rows: Row[];
  try {
    rows = await db.query('SELECT MAX(version) AS version FROM schema_migrations');
  } catch (err) {
    throw new Error(`not a membership service database (${err instanceof Error ? err.message : String(err)})`);
  }
  const version = Number(rows[0]?.['version']);
  if (!Number.isInteger(version) || version < 1) throw new Error('not a membership service database (no schema version recorded)');
  return version;
}
