// Who may see a room event: the history visibility algorithm of the
// Client-Server spec ("History visibility"), as pure decisions over the state
// at the event. Where the spec leaves room, Synapse's observable behaviour is
// followed (a user always sees their own membership events).
import type { Membership } from '@membrane/events';

export type HistoryVisibility = 'world_readable' | 'shared' | 'invited' | 'joined';

export const HISTORY_VISIBILITIES: readonly HistoryVisibility[] = ['world_readable', 'shared', 'invited', 'joined'];

/**
 * The visibility an `m.room.history_visibility` content sets. A room without
 * one, or with a value this server does not know, is `shared` (the spec's
 * default for a missing or unrecognised value).
 */
export function historyVisibilityOf(content: unknown): HistoryVisibility {
  if (typeof content !== 'object' || content === null) return 'shared';
  const value = (content as Record<string, unknown>)['history_visibility'];
  return typeof value === 'string' && (HISTORY_VISIBILITIES as readonly string[]).includes(value) ? (value as HistoryVisibility) : 'shared';
}

/** What the algorithm needs to know about one event and one viewer. */
export interface VisibilityQuestion {
  /** The history visibility in force when the event was sent (state before it). */
  readonly visibility: HistoryVisibility;
  /**
   * For an `m.room.history_visibility` event: the visibility it sets. The
   * event is visible if either the old or the new setting allows it.
   */
  readonly visibilityAfter?: HistoryVisibility;
  /** The viewer's membership in the state before the event (absent: none). */
  readonly membershipAtEvent: Membership | undefined;
  /** The event is an `m.room.member` event about the viewer (their own join, leave, invite...). */
  readonly isViewersOwnMembership: boolean;
  /**
   * The viewer is or was a member and reads as such (joined now, or reading
   * the room as it was at their leave); false when merely peeking.
   */
  readonly viewerIsMember: boolean;
}

function allowedUnder(visibility: HistoryVisibility, q: VisibilityQuestion): boolean {
  if (visibility === 'world_readable') return true;
  if (q.membershipAtEvent === 'join') return true;
  if (q.isViewersOwnMembership) return true;
  switch (visibility) {
    case 'shared':
      return q.viewerIsMember;
    case 'invited':
      return q.membershipAtEvent === 'invite';
    case 'joined':
      return false;
  }
}

/** True when the viewer may see the event. */
export function isEventVisible(q: VisibilityQuestion): boolean {
  if (allowedUnder(q.visibility, q)) return true;
  return q.visibilityAfter !== undefined && allowedUnder(q.visibilityAfter, q);
}

/**
 * The newest stream position a user may read in a room, given their current
 * membership: everything while joined (or invited/knocking, whose reads are
 * governed per event), and nothing after their leave or ban.
 * `null` means "no bound".
 */
export function readableUpTo(membership: { readonly membership: Membership; readonly position: number } | undefined): number | null {
  if (membership === undefined) return null;
  return membership.membership === 'leave' || membership.membership === 'ban' ? membership.position : null;
}
