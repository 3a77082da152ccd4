// What room endpoints need to know about a room before anything else: is it
// a room this server is in, its version, and its server ACL.
import { isJsonObject } from '@membrane/canonical-json';
import { findRoomVersion, serverNameOf } from '@membrane/events';
import type { RoomVersion } from '@membrane/events';
import { MatrixError } from '@membrane/matrix-errors';
import { Membership } from '@membrane/proto';
import type { MembershipClient } from './membership-client.js';
import { isServerAllowedByAcl, parseServerAcl } from './server-acl.js';
import type { ServerAcl } from './server-acl.js';

export interface RoomSnapshot {
  readonly roomId: string;
  readonly version: RoomVersion;
  /** True when one of our users is joined: we hold the room's state. */
  readonly resident: boolean;
  /** Servers with at least one joined member. */
  readonly joinedServers: ReadonlySet<string>;
  /** The current `m.room.server_acl`, if any. */
  readonly acl?: ServerAcl;
}

/** The room's current version, residency and ACL; undefined when the membership service does not know it. */
export async function lookupRoom(membership: MembershipClient, roomId: string, ourServerName: string): Promise<RoomSnapshot | undefined> {
  let state;
  try {
    state = await membership.queryRoomState({ roomId });
  } catch (err) {
    if (err instanceof MatrixError && err.status === 404) return undefined;
    throw err;
  }
  const version = findRoomVersion(state.roomVersion);
  if (version === undefined) throw MatrixError.unsupportedRoomVersion(state.roomVersion);
  const joinedServers = new Set<string>();
  for (const member of state.members) {
    const server = member.membership === Membership.JOIN ? serverNameOf(member.userId) : undefined;
    if (server !== undefined) joinedServers.add(server);
  }
  const resident = joinedServers.has(ourServerName);
  let acl: ServerAcl | undefined;
  for (const json of state.stateEventsJson) {
    // Cheap pre-filter: most state events are not the ACL.
    if (!json.includes('m.room.server_acl')) continue;
    const event: unknown = JSON.parse(json);
    if (isJsonObject(event) && event['type'] === 'm.room.server_acl' && event['state_key'] === '') acl = parseServerAcl(event['content']);
  }
  return { roomId, version, resident, joinedServers, ...(acl === undefined ? {} : { acl }) };
}

/** The room, which we must be in, or 404 M_NOT_FOUND. */
export async function requireResidentRoom(membership: MembershipClient, roomId: string, ourServerName: string): Promise<RoomSnapshot> {
  const room = await lookupRoom(membership, roomId, ourServerName);
  if (room === undefined || !room.resident) throw MatrixError.notFound(`Unknown room ${roomId}`);
  return room;
}

/** 403 M_FORBIDDEN when the room's server ACL denies `origin` (Synapse's wording). */
export function assertServerAllowed(room: RoomSnapshot | undefined, origin: string): void {
  if (room?.acl !== undefined && !isServerAllowedByAcl(origin, room.acl)) throw MatrixError.forbidden('Server is banned from room');
}

/**
 * Reads of room data (events, state, auth chains) are for servers in the
 * room: a joined member of the origin, and not denied by the ACL. History
 * visibility per event is not applied yet.
 */
export async function requireRoomVisibleTo(membership: MembershipClient, roomId: string, ourServerName: string, origin: string): Promise<RoomSnapshot> {
  const room = await requireResidentRoom(membership, roomId, ourServerName);
  assertServerAllowed(room, origin);
  if (!room.joinedServers.has(origin)) throw MatrixError.forbidden('Host not in room.');
  return room;
}
