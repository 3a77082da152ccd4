// What changed for one user since a sync token, found without reading each
// room: the memberships table says which rooms the user's membership changed
// in, and one walk over the output stream (restricted to the user's joined
// rooms) says which of the others have new events.
import type { MembershipRecord, ReadTx } from '../storage/index.js';

/** Events per page of the stream walk. */
const NEWS_PAGE = 200;

/** Longest chain of the user's own member events followed back (profile changes in a row). */
const MAX_MEMBER_CHAIN = 20;

/**
 * The rooms among `roomIds` with at least one event in (`since`, `upTo`].
 * A room drops out of the walk as soon as it is found, so each page either
 * finds a new room or is the last one: at most `roomIds.length + 1` pages,
 * however busy a single room is.
 */
export async function roomsWithNews(tx: ReadTx, roomIds: readonly string[], since: number, upTo: number): Promise<Set<string>> {
  const found = new Set<string>();
  let remaining = [...new Set(roomIds)];
  let cursor = since;
  for (let page = 0; page <= roomIds.length && remaining.length > 0 && cursor < upTo; page += 1) {
    const events = await tx.eventsSince(cursor, NEWS_PAGE, remaining);
    for (const event of events) if (event.position <= upTo) found.add(event.roomId);
    const last = events[events.length - 1];
    if (last === undefined || events.length < NEWS_PAGE) break;
    cursor = last.position;
    remaining = remaining.filter((id) => !found.has(id));
  }
  return found;
}

function membershipIn(json: string): string | undefined {
  const content = (JSON.parse(json) as { content?: { membership?: unknown } }).content;
  return typeof content?.membership === 'string' ? content.membership : undefined;
}

/**
 * For a `join` row that changed after `since`: true when the user was
 * already joined at `since` (the change is a profile update, e.g. a new
 * display name), so the room continues incrementally; false when the join
 * is new to a client at `since` (then the room is sent as in an initial
 * sync). Follows the user's member events back through the state before
 * each; an unknown history counts as a new join (sending more, never less).
 */
export async function wasJoinedAt(tx: ReadTx, row: MembershipRecord, since: number): Promise<boolean> {
  let eventId = row.eventId;
  for (let step = 0; step < MAX_MEMBER_CHAIN; step += 1) {
    const groups = await tx.getEventStateGroups(eventId);
    if (groups === null) return false;
    const [entry] = (await tx.getStateGroupEntries(groups.beforeGroupId, [{ type: 'm.room.member', stateKey: row.userId }])) ?? [];
    if (entry === undefined) return false;
    const previous = await tx.getEvent(entry.eventId);
    if (previous === null || membershipIn(previous.json) !== 'join') return false;
    if (previous.position <= since) return true;
    eventId = previous.eventId;
  }
  return false;
}
