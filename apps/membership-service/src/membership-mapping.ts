// Memberships between storage/event strings and the contract's enum, for
// the gRPC handlers and the client-read answers alike.
import type { Membership as EventMembership } from '@membrane/events';
import { MatrixError } from '@membrane/matrix-errors';
import { Membership } from '@membrane/proto';
import type { StoredMembership } from './storage/index.js';

const TO_PROTO: Readonly<Record<StoredMembership, Membership>> = {
  join: Membership.JOIN,
  invite: Membership.INVITE,
  leave: Membership.LEAVE,
  ban: Membership.BAN,
  knock: Membership.KNOCK,
};

/** True for the five membership values (`content.membership` of a member event may hold anything). */
export function isStoredMembership(value: unknown): value is StoredMembership {
  return typeof value === 'string' && Object.hasOwn(TO_PROTO, value);
}

export function membershipToProto(membership: StoredMembership | undefined): Membership {
  return membership === undefined ? Membership.UNSPECIFIED : TO_PROTO[membership];
}

export function membershipFromProto(membership: Membership): EventMembership {
  const found = (Object.entries(TO_PROTO) as [EventMembership, Membership][]).find(([, value]) => value === membership);
  if (found === undefined) throw MatrixError.invalidParam('A membership is required');
  return found[0];
}
