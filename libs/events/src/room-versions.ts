// The room-version registry: every behaviour that differs between room
// versions is a named field here, so code asks "does this version do X"
// instead of comparing version strings.
// Source of the facts: the Matrix spec, content/rooms/v1.md … v12.md.

/** How events are identified and how they cite other events. */
export type EventFormat =
  /** v1, v2: `event_id` carried in the PDU; prev/auth events are `[id, {sha256}]` pairs. */
  | 'v1'
  /** v3: ID is `$` + reference hash in standard unpadded base64; plain ID lists. */
  | 'v3'
  /** v4+: as v3 but URL-safe unpadded base64. */
  | 'v4';

/** Which redaction algorithm applies (named after the version that introduced it). */
export type RedactionAlgorithm = 'v1' | 'v6' | 'v8' | 'v9' | 'v11';

export type StateResolutionAlgorithm = 'v1' | 'v2' | 'v2.1';

export interface RoomVersion {
  readonly id: string;
  readonly eventFormat: EventFormat;
  /** v12 room IDs are `!` + the create event's reference hash; earlier ones are `!opaque:server`. */
  readonly roomIdFromCreateEvent: boolean;
  readonly redaction: RedactionAlgorithm;
  readonly stateResolution: StateResolutionAlgorithm;
  /** v6+: canonical JSON is enforced (no floats, integers within ±(2^53-1)). */
  readonly strictCanonicalJson: boolean;
  /** v5+: a signing key is only valid for events up to its `valid_until_ts`. */
  readonly enforceKeyValidity: boolean;
  /** v1–v5: the special auth rule for `m.room.aliases`. */
  readonly specialAliasesAuthRule: boolean;
  /** v1–v2: redactions are checked by auth rule (not at application time). */
  readonly redactionAuthRule: boolean;
  /** v6+: `notifications` is part of the power levels. */
  readonly notificationsPowerLevels: boolean;
  /** v7+: the `knock` membership and join rule. */
  readonly knock: boolean;
  /** v8+: the `restricted` join rule and `join_authorised_via_users_server`. */
  readonly restrictedJoin: boolean;
  /** v10+: the `knock_restricted` join rule. */
  readonly knockRestricted: boolean;
  /** v10+: power-level values must be JSON integers (no numeric strings). */
  readonly integerPowerLevels: boolean;
  /** v1–v5: float power levels are tolerated (truncated). */
  readonly floatPowerLevelsTolerated: boolean;
  /** v11+: the creator is the create event's `sender` (no `content.creator`). */
  readonly creatorIsCreateSender: boolean;
  /** v12: creators (sender + additional_creators) have infinite power. */
  readonly privilegedCreators: boolean;
  /** v1–v11 cite the create event in `auth_events`; v12 must not. */
  readonly createEventInAuthEvents: boolean;
  /** v11+: `redacts` lives in the content of `m.room.redaction`. */
  readonly redactsInContent: boolean;
  /** v11+: identifier length limits are checked in bytes strictly (Synapse behaviour). */
  readonly strictByteLimits: boolean;
  /** Largest allowed `depth`. */
  readonly maxDepth: number;
}

const MAX_DEPTH_V1 = Number.MAX_SAFE_INTEGER; // the spec says 2^63-1; JSON numbers here stop at 2^53-1
const MAX_DEPTH_V6 = Number.MAX_SAFE_INTEGER; // 2^53 - 1

const V1: RoomVersion = {
  id: '1',
  eventFormat: 'v1',
  roomIdFromCreateEvent: false,
  redaction: 'v1',
  stateResolution: 'v1',
  strictCanonicalJson: false,
  enforceKeyValidity: false,
  specialAliasesAuthRule: true,
  redactionAuthRule: true,
  notificationsPowerLevels: false,
  knock: false,
  restrictedJoin: false,
  knockRestricted: false,
  integerPowerLevels: false,
  floatPowerLevelsTolerated: true,
  creatorIsCreateSender: false,
  privilegedCreators: false,
  createEventInAuthEvents: true,
  redactsInContent: false,
  strictByteLimits: false,
  maxDepth: MAX_DEPTH_V1,
};
const V2: RoomVersion = { ...V1, id: '2', stateResolution: 'v2' };
const V3: RoomVersion = { ...V2, id: '3', eventFormat: 'v3', redactionAuthRule: false };
const V4: RoomVersion = { ...V3, id: '4', eventFormat: 'v4' };
const V5: RoomVersion = { ...V4, id: '5', enforceKeyValidity: true };
const V6: RoomVersion = {
  ...V5,
  id: '6',
  redaction: 'v6',
  strictCanonicalJson: true,
  specialAliasesAuthRule: false,
  notificationsPowerLevels: true,
  floatPowerLevelsTolerated: false,
  maxDepth: MAX_DEPTH_V6,
};
const V7: RoomVersion = { ...V6, id: '7', knock: true };
const V8: RoomVersion = { ...V7, id: '8', redaction: 'v8', restrictedJoin: true };
const V9: RoomVersion = { ...V8, id: '9', redaction: 'v9' };
const V10: RoomVersion = { ...V9, id: '10', knockRestricted: true, integerPowerLevels: true };
const V11: RoomVersion = {
  ...V10,
  id: '11',
  redaction: 'v11',
  creatorIsCreateSender: true,
  redactsInContent: true,
  strictByteLimits: true,
};
const V12: RoomVersion = {
  ...V11,
  id: '12',
  roomIdFromCreateEvent: true,
  stateResolution: 'v2.1',
  privilegedCreators: true,
  createEventInAuthEvents: false,
};

const REGISTRY: ReadonlyMap<string, RoomVersion> = new Map(
  [V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12].map((v) => [v.id, v]),
);

/** Room versions this implementation supports, oldest first. */
export const SUPPORTED_ROOM_VERSIONS: readonly string[] = [...REGISTRY.keys()];

/** The version new rooms get unless asked otherwise (what Synapse still defaults to). */
export const DEFAULT_ROOM_VERSION = '11';

export function findRoomVersion(id: string): RoomVersion | undefined {
  return REGISTRY.get(id);
}

/** Like `findRoomVersion`, but an unknown version is an error. */
export function getRoomVersion(id: string): RoomVersion {
  const version = REGISTRY.get(id);
  if (version === undefined) throw new UnsupportedRoomVersionError(id);
  return version;
}

export class UnsupportedRoomVersionError extends Error {
  constructor(readonly roomVersion: string) {
    super(`unsupported room version ${JSON.stringify(roomVersion)}`);
    this.name = 'UnsupportedRoomVersionError';
  }
}
