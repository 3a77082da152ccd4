// Knocks our users sent to rooms this server is not in (`sent_knocks`,
// migration 4), written once for both engines. Kept apart from
// `received_invites`: an invite is something another server offered us, a
// knock something we asked of it, and each ends on its own terms.

import { checkInteger, checkNonEmptyText, checkText } from './rows.js';
import type { SqlExecutor, SqlRow } from './sql.js';
import { toInt, toStr } from './sql.js';
import type { NewSentKnock, SentKnock } from './types.js';

const COLUMNS = 'room_id, user_id, event_id, knock_room_state_json, servers_json, sent_ts';

function sentKnockFromRow(row: SqlRow): SentKnock {
  const servers: unknown = JSON.parse(toStr(row['servers_json']));
  if (!Array.isArray(servers) || !servers.every((s): s is string => typeof s === 'string')) {
    throw new TypeError('sent_knocks.servers_json is not an array of strings');
  }
  return {
    roomId: toStr(row['room_id']),
    userId: toStr(row['user_id']),
    eventId: toStr(row['event_id']),
    knockRoomStateJson: toStr(row['knock_room_state_json']),
    servers,
    sentTs: toInt(row['sent_ts']),
  };
}

export async function getSentKnock(db: SqlExecutor, roomId: string, userId: string): Promise<SentKnock | null> {
  const rows = await db.query(`SELECT ${COLUMNS} FROM sent_knocks WHERE room_id = $1 AND user_id = $2`, [roomId, userId]);
  return rows[0] ? sentKnockFromRow(rows[0]) : null;
}

export async function putSentKnock(db: SqlExecutor, roomId: string, knock: NewSentKnock): Promise<void> {
  checkNonEmptyText('userId', knock.userId);
  checkNonEmptyText('eventId', knock.eventId);
  checkText('knockRoomStateJson', knock.knockRoomStateJson);
  checkInteger('sentTs', knock.sentTs);
  knock.servers.forEach((s) => checkNonEmptyText('server', s));
  await db.execute(
    `INSERT INTO sent_knocks (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (room_id, user_id) DO UPDATE
       SET event_id = excluded.event_id, knock_room_state_json = excluded.knock_room_state_json,
           servers_json = excluded.servers_json, sent_ts = excluded.sent_ts`,
    [roomId, knock.userId, knock.eventId, knock.knockRoomStateJson, JSON.stringify(knock.servers), knock.sentTs],
  );
}

export async function deleteSentKnock(db: SqlExecutor, roomId: string, userId: string): Promise<boolean> {
  return (await db.execute('DELETE FROM sent_knocks WHERE room_id = $1 AND user_id = $2', [roomId, userId])) > 0;
}
