// Names for what a membership event does, from the membership before it and
// the one it sets. This says nothing about whether it is allowed; the auth
// rules decide that.
import type { Membership } from '../types.js';

export type MembershipChangeKind =
  /** Someone becomes joined without having been invited. */
  | 'join'
  | 'accept_invite'
  /** join → join: a display name or avatar change. */
  | 'profile_change'
  | 'invite'
  | 'knock'
  /** The user leaves a room they had joined. */
  | 'leave'
  | 'reject_invite'
  | 'retract_knock'
  /** Someone else removes a joined user. */
  | 'kick'
  /** Someone else withdraws a pending invite. */
  | 'revoke_invite'
  /** Someone else turns down a knock. */
  | 'reject_knock'
  | 'ban'
  | 'unban'
  /** A leave for someone who had already left or never had a membership. */
  | 'no_change';

export interface MembershipTransition {
  readonly sender: string;
  /** The `state_key` of the member event. */
  readonly target: string;
  /** The target's membership before the event; undefined when they had none. */
  readonly previous: Membership | undefined;
  readonly next: Membership;
}

function describeLeave(previous: Membership | undefined, bySelf: boolean): MembershipChangeKind {
  switch (previous) {
    case 'ban':
      return 'unban';
    case 'join':
      return bySelf ? 'leave' : 'kick';
    case 'invite':
      return bySelf ? 'reject_invite' : 'revoke_invite';
    case 'knock':
      return bySelf ? 'retract_knock' : 'reject_knock';
    case 'leave':
    case undefined:
      return 'no_change';
  }
}

export function describeMembershipChange(transition: MembershipTransition): MembershipChangeKind {
  switch (transition.next) {
    case 'join':
      if (transition.previous === 'join') return 'profile_change';
      return transition.previous === 'invite' ? 'accept_invite' : 'join';
    case 'invite':
      return 'invite';
    case 'knock':
      return 'knock';
    case 'ban':
      return 'ban';
    case 'leave':
      return describeLeave(transition.previous, transition.sender === transition.target);
  }
}
