// The initial events of a new room, in the order they are sent, following the
// Client-Server API's description of /createRoom presets.
import type { JsonObject } from '@membrane/canonical-json';
import type { RoomVersion } from '@membrane/events';
import { MatrixError } from '@membrane/matrix-errors';

export type RoomPreset = 'private_chat' | 'trusted_private_chat' | 'public_chat';
export type JoinRule = 'public' | 'invite' | 'knock' | 'restricted' | 'knock_restricted' | 'private';
export type HistoryVisibility = 'world_readable' | 'shared' | 'invited' | 'joined';

export interface RoomCreationRequest {
  readonly creator: string;
  readonly preset?: RoomPreset;
  /** `public` selects the public_chat preset when no preset is given (spec). */
  readonly visibility?: 'public' | 'private';
  readonly name?: string;
  readonly topic?: string;
  readonly invitees?: readonly string[];
  readonly joinRule?: JoinRule;
  /** Rooms whose members may join a `restricted` / `knock_restricted` room. */
  readonly allowRooms?: readonly string[];
  readonly historyVisibility?: HistoryVisibility;
}

/** An event to be built: everything but the room-version-specific envelope. */
export interface ProtoEvent {
  readonly type: string;
  readonly stateKey?: string;
  readonly sender: string;
  readonly content: JsonObject;
}

interface PresetSettings {
  readonly joinRule: JoinRule;
  readonly historyVisibility: HistoryVisibility;
  readonly guestAccess: 'can_join' | 'forbidden';
  readonly inviteesAreAdmins: boolean;
  readonly invitePowerLevel: number;
}

// Private presets let any member invite (invite level 0), as Synapse does.
const PRESETS: Readonly<Record<RoomPreset, PresetSettings>> = {
  private_chat: { joinRule: 'invite', historyVisibility: 'shared', guestAccess: 'can_join', inviteesAreAdmins: false, invitePowerLevel: 0 },
  trusted_private_chat: { joinRule: 'invite', historyVisibility: 'shared', guestAccess: 'can_join', inviteesAreAdmins: true, invitePowerLevel: 0 },
  public_chat: { joinRule: 'public', historyVisibility: 'shared', guestAccess: 'forbidden', inviteesAreAdmins: false, invitePowerLevel: 50 },
};

const ADMIN = 100;

export function presetFor(request: RoomCreationRequest): RoomPreset {
  return request.preset ?? (request.visibility === 'public' ? 'public_chat' : 'private_chat');
}

/**
 * The state events of a new room (create, creator join, power levels, join
 * rules, history visibility, guest access, name, topic), followed by the
 * invites. The create event has no `room_id` decision here: the caller adds
 * it (v12 derives the room ID from the create event itself).
 */
export function planRoomCreation(request: RoomCreationRequest, version: RoomVersion): ProtoEvent[] {
  const settings = PRESETS[presetFor(request)];
  const creator = request.creator;
  const invitees = [...new Set(request.invitees ?? [])].filter((u) => u !== creator);
  const joinRule = request.joinRule ?? settings.joinRule;
  if ((joinRule === 'knock' || joinRule === 'knock_restricted') && !version.knock) {
    throw MatrixError.invalidParam(`Room version ${version.id} does not support the ${joinRule} join rule`);
  }
  if ((joinRule === 'restricted' && !version.restrictedJoin) || (joinRule === 'knock_restricted' && !version.knockRestricted)) {
    throw MatrixError.invalidParam(`Room version ${version.id} does not support the ${joinRule} join rule`);
  }
  const admins = settings.inviteesAreAdmins ? invitees : [];
  const joinRulesContent: JsonObject = { join_rule: joinRule };
  if (request.allowRooms !== undefined && (joinRule === 'restricted' || joinRule === 'knock_restricted')) {
    joinRulesContent['allow'] = request.allowRooms.map((roomId) => ({ type: 'm.room_membership', room_id: roomId }));
  }

  const createContent: JsonObject = { room_version: version.id };
  if (!version.creatorIsCreateSender) createContent['creator'] = creator;
  if (version.privilegedCreators && admins.length > 0) createContent['additional_creators'] = [...admins];

  // v12 creators have infinite power and must not be listed in `users`.
  const listedAdmins = version.privilegedCreators ? [] : [creator, ...admins];
  const users: JsonObject = {};
  for (const user of listedAdmins) users[user] = ADMIN;

  const stateEvents: ProtoEvent[] = [
    { type: 'm.room.create', stateKey: '', sender: creator, content: createContent },
    { type: 'm.room.member', stateKey: creator, sender: creator, content: { membership: 'join' } },
    { type: 'm.room.power_levels', stateKey: '', sender: creator, content: initialPowerLevels(users, settings.invitePowerLevel, version) },
    { type: 'm.room.join_rules', stateKey: '', sender: creator, content: joinRulesContent },
    {
      type: 'm.room.history_visibility',
      stateKey: '',
      sender: creator,
      content: { history_visibility: request.historyVisibility ?? settings.historyVisibility },
    },
    { type: 'm.room.guest_access', stateKey: '', sender: creator, content: { guest_access: settings.guestAccess } },
  ];
  if (request.name !== undefined) stateEvents.push({ type: 'm.room.name', stateKey: '', sender: creator, content: { name: request.name } });
  if (request.topic !== undefined) stateEvents.push({ type: 'm.room.topic', stateKey: '', sender: creator, content: { topic: request.topic } });
  const invites = invitees.map<ProtoEvent>((invitee) => ({
    type: 'm.room.member',
    stateKey: invitee,
    sender: creator,
    content: { membership: 'invite' },
  }));
  return [...stateEvents, ...invites];
}

function initialPowerLevels(users: JsonObject, invite: number, version: RoomVersion): JsonObject {
  return {
    users,
    users_default: 0,
    events: {
      'm.room.name': 50,
      'm.room.power_levels': ADMIN,
      'm.room.history_visibility': ADMIN,
      'm.room.canonical_alias': 50,
      'm.room.avatar': 50,
      // Above every other admin-level event so upgrades stay with creators in v12 (MSC4289).
      'm.room.tombstone': version.privilegedCreators ? 150 : ADMIN,
      'm.room.server_acl': ADMIN,
      'm.room.encryption': ADMIN,
    },
    events_default: 0,
    state_default: 50,
    ban: 50,
    kick: 50,
    redact: 50,
    invite,
  };
}
