// Choosing who authorises a remote user's join to a restricted room
// (spec: client-server "Restricted rooms", server-server make_join): the
// resident server checks the join rule's `allow` conditions itself and names
// one of its own joined users with invite power in
// `join_authorised_via_users_server`; the auth rules then check that user.
import { MatrixError } from '@membrane/matrix-errors';

export type RoomMembershipAnswer = 'joined' | 'not-joined' | 'unknown-room';

export interface RestrictedJoinInput {
  readonly userId: string;
  /** The `allow` list of the room's `m.room.join_rules` content. */
  readonly allow: unknown;
  /** Is the joining user joined to this room, as far as this server knows? */
  readonly membershipIn: (roomId: string) => RoomMembershipAnswer;
  /** Our users joined to the room, with their power levels. */
  readonly localMembers: readonly { readonly userId: string; readonly powerLevel: number }[];
  readonly invitePowerLevel: number;
}

/** The `m.room_membership` room IDs of an `allow` list; other condition types are not understood and never match. */
export function allowedRoomIds(allow: unknown): string[] {
  if (!Array.isArray(allow)) return [];
  return allow.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { type, room_id: roomId } = entry as { type?: unknown; room_id?: unknown };
    return type === 'm.room_membership' && typeof roomId === 'string' ? [roomId] : [];
  });
}

/** Returns the local user who authorises the join, or throws the Matrix error a peer expects. */
export function chooseJoinAuthoriser(input: RestrictedJoinInput): string {
  const rooms = allowedRoomIds(input.allow);
  const answers = rooms.map((roomId) => input.membershipIn(roomId));
  if (!answers.includes('joined')) {
    if (answers.includes('unknown-room')) {
      throw new MatrixError(400, 'M_UNABLE_TO_GRANT_JOIN', 'This server cannot tell whether the user may join: it is not in the rooms the join rule names');
    }
    throw MatrixError.forbidden(`${input.userId} does not meet the room's join conditions`);
  }
  // Highest power first, then by user ID, so the choice is stable.
  const candidates = input.localMembers
    .filter((m) => m.powerLevel >= input.invitePowerLevel)
    .sort((a, b) => b.powerLevel - a.powerLevel || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  const chosen = candidates[0];
  if (chosen === undefined) throw new MatrixError(400, 'M_UNABLE_TO_AUTHORISE_JOIN', 'No user of this server can authorise the join');
  return chosen.userId;
}
