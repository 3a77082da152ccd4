// Who may read a room, and which version of it: a joined member reads the
// room as it is; a user who left or was banned (and did not forget) reads it
// frozen at that leave; anyone reads a world_readable room as it is; everyone
// else, and every room this server does not know, gets 403 (an unknown room
// looks like one the user may not read, so existence is not revealed).
import { MatrixError } from '@membrane/matrix-errors';
import { historyVisibilityOf, readableUpTo } from '@membrane/views';
import type { MembershipRecord, ReadTx, RoomRecord } from '../storage/index.js';

export interface RoomReader {
  readonly room: RoomRecord;
  readonly viewerUserId: string;
  /** The viewer's membership row, if any. */
  readonly membership: MembershipRecord | null;
  /**
   * Where the viewer's view of the room stops: the stream position of their
   * leave or ban (included); null when they read the room as it is now.
   */
  readonly upTo: number | null;
  /**
   * The state group of the state they see after their leave (the state
   * after the leave event); null when they see the current state.
   */
  readonly frozenStateGroupId: number | null;
  /**
   * Reads as a member: joined, or frozen at a leave from a join. False for
   * peekers at a world_readable room and for users who left without ever
   * joining (a rejected invite), who see no `shared` history.
   */
  readonly viewerIsMember: boolean;
}

/** Why a read was refused: the caller decides the error (403, or 404 for /event). */
export type ReadRefusal = 'forgotten' | 'not-readable';

export function notReadable(userId: string, roomId: string): MatrixError {
  return MatrixError.forbidden(`User ${userId} not in room ${roomId}, and room previews are disabled`);
}

async function isWorldReadable(tx: ReadTx, roomId: string): Promise<boolean> {
  const [event] = await tx.getCurrentStateEvents(roomId, [{ type: 'm.room.history_visibility', stateKey: '' }]);
  if (event === undefined) return false;
  return historyVisibilityOf((JSON.parse(event.json) as { content?: unknown }).content) === 'world_readable';
}

/**
 * True when the user was joined just before their leave. The spec shows
 * `shared` history to users who joined after it was sent: someone who
 * leaves from a join has, for every event up to that leave; someone who
 * only rejected an invite or withdrew a knock has not (an earlier join and
 * leave is not looked for, which errs on the side of showing less).
 */
export async function wasJoinedBefore(tx: ReadTx, beforeGroupId: number, userId: string): Promise<boolean> {
  const [entry] = (await tx.getStateGroupEntries(beforeGroupId, [{ type: 'm.room.member', stateKey: userId }])) ?? [];
  if (entry === undefined) return false;
  const event = await tx.getEvent(entry.eventId);
  return event !== null && (JSON.parse(event.json) as { content?: { membership?: unknown } }).content?.membership === 'join';
}

/** The viewer's reading of the room, or why they may not read it. */
export async function findReader(tx: ReadTx, roomId: string, viewerUserId: string): Promise<RoomReader | ReadRefusal> {
  const room = await tx.getRoom(roomId);
  if (room === null) return 'not-readable';
  const membership = await tx.getMembership(roomId, viewerUserId);
  const base = { room, viewerUserId, membership };
  if (membership?.membership === 'join') return { ...base, upTo: null, frozenStateGroupId: null, viewerIsMember: true };
  const upTo = readableUpTo(membership ?? undefined);
  if (membership !== null && upTo !== null) {
    if (membership.forgotten) return 'forgotten';
    const leave = await tx.getEvent(membership.eventId);
    const groups = leave === null || leave.outlier ? null : await tx.getEventStateGroups(membership.eventId);
    // A leave recorded without the room's state (a rejected remote invite, an
    // out-of-band leave) leaves nothing to show.
    if (groups === null) return 'not-readable';
    return { ...base, upTo, frozenStateGroupId: groups.afterGroupId, viewerIsMember: await wasJoinedBefore(tx, groups.beforeGroupId, viewerUserId) };
  }
  if (await isWorldReadable(tx, roomId)) return { ...base, upTo: null, frozenStateGroupId: null, viewerIsMember: false };
  return 'not-readable';
}

/** The viewer's reading of the room; 403 M_FORBIDDEN when they may not read it. */
export async function requireReader(tx: ReadTx, roomId: string, viewerUserId: string): Promise<RoomReader> {
  const reader = await findReader(tx, roomId, viewerUserId);
  if (typeof reader === 'string') throw notReadable(viewerUserId, roomId);
  return reader;
}
