// What a local intent does, given what we know of the user's membership.
// These are policy decisions made before any event is built; the room
// version's auth rules still check every event that is built afterwards.
import { MatrixError } from '@membrane/matrix-errors';
import type { Membership } from '@membrane/events';

/** What storage knows of one user in one room. */
export interface MembershipRecord {
  readonly membership: Membership;
  readonly eventId: string;
  readonly forgotten: boolean;
}

/** Whether our server takes part in the room (has its state) or only holds an invite/knock for it. */
export type RoomPresence = 'resident' | 'outsider';

export type LeaveDecision =
  /** Already left: answer 200 with no new event (idempotent leave). */
  | { readonly kind: 'already-left'; readonly eventId: string }
  /** Build and send a leave event in a room we are resident in. */
  | { readonly kind: 'send-leave'; readonly from: 'join' | 'invite' | 'knock' }
  /** Reject an invite / rescind a knock for a room on another server. */
  | { readonly kind: 'remote-leave'; readonly from: 'invite' | 'knock' };

/**
 * Decides what `/leave` does. A user who never had a membership, or who is
 * banned, is refused: the spec's auth rules would reject a self-leave from
 * those states anyway, and the error is clearer here.
 */
export function decideLeave(
  userId: string,
  roomId: string,
  current: MembershipRecord | undefined,
  presence: RoomPresence,
): LeaveDecision {
  if (current === undefined) {
    throw MatrixError.forbidden(`User ${userId} is not in room ${roomId}`);
  }
  switch (current.membership) {
    case 'leave':
      return { kind: 'already-left', eventId: current.eventId };
    case 'ban':
      throw MatrixError.forbidden(`User ${userId} is banned from room ${roomId}`);
    case 'join':
      return { kind: 'send-leave', from: 'join' };
    case 'invite':
    case 'knock':
      return presence === 'resident'
        ? { kind: 'send-leave', from: current.membership }
        : { kind: 'remote-leave', from: current.membership };
  }
}

export type ForgetDecision = { readonly kind: 'forget' } | { readonly kind: 'nothing-to-do' };

/**
 * Decides what `/forget` does. Forgetting needs the user to be out of the room
 * (left or banned); an unknown or already-forgotten room is a quiet success.
 */
export function decideForget(userId: string, roomId: string, current: MembershipRecord | undefined): ForgetDecision {
  if (current === undefined || current.forgotten) return { kind: 'nothing-to-do' };
  if (current.membership === 'leave' || current.membership === 'ban') return { kind: 'forget' };
  // Same errcode and wording as the spec's example for this case.
  throw MatrixError.unknown(`User ${userId} is in room ${roomId}`);
}

/**
 * Policy for kicks beyond the auth rules: the auth rules let a powerful user
 * "kick" someone who has already left or was never there, which creates a
 * confusing leave event; we refuse that.
 */
export function assertKickable(targetId: string, roomId: string, target: MembershipRecord | undefined): void {
  const membership = target?.membership;
  if (membership === 'join' || membership === 'invite' || membership === 'knock') return;
  throw MatrixError.forbidden(`User ${targetId} is not in room ${roomId}`);
}

/** Unban only makes sense for a banned user. */
export function assertUnbannable(targetId: string, roomId: string, target: MembershipRecord | undefined): void {
  if (target?.membership === 'ban') return;
  throw MatrixError.forbidden(`User ${targetId} is not banned from room ${roomId}`);
}

/** An invite to someone already joined or banned is refused before auth, with the reason a client can show. */
export function assertInvitable(targetId: string, roomId: string, target: MembershipRecord | undefined): void {
  if (target?.membership === 'join') throw MatrixError.forbidden(`${targetId} is already in the room.`);
  if (target?.membership === 'ban') throw MatrixError.forbidden(`${targetId} is banned from room ${roomId}`);
}
