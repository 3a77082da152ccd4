// Reading `m.room.power_levels` content the way each room version demands,
// and working out a user's level. Defaults: SPEC server-server §Definitions
// and `m.room.power_levels` schema; value formats: SPEC rooms fragments
// `v1-stringy-power-levels`, `v1-floaty-power-levels`, and v10's integer rule.
import type { RoomVersion } from '../room-versions.js';
import { hasOwn, isRecord, resolveRoomVersion } from './auth-types.js';
import type { AuthEvent, AuthState, RoomVersionLike } from './auth-types.js';
import { looksLikeUserId } from './ids.js';

export const POWER_LEVELS_EVENT_TYPE = 'm.room.power_levels';
export const CREATE_EVENT_TYPE = 'm.room.create';

/** The top-level integer properties of power levels content. */
export const POWER_LEVEL_NAMES = [
  'users_default',
  'events_default',
  'state_default',
  'ban',
  'redact',
  'kick',
  'invite',
] as const;
export type PowerLevelName = (typeof POWER_LEVEL_NAMES)[number];

/** What each top-level level is when the content (or the whole event) does not give it. */
export const DEFAULT_POWER_LEVELS: Readonly<Record<PowerLevelName, number>> = Object.freeze({
  users_default: 0,
  events_default: 0,
  state_default: 50,
  ban: 50,
  redact: 50,
  kick: 50,
  invite: 0,
});

/** Level of the room creator when the room has no power levels event (v1–v11). */
export const CREATOR_DEFAULT_POWER_LEVEL = 100;

/** Power levels content with every value turned into a number. Absent keys stay absent. */
export interface ParsedPowerLevels {
  readonly levels: Readonly<Partial<Record<PowerLevelName, number>>>;
  readonly events: ReadonlyMap<string, number>;
  /** Only read from v6 on, where `notifications` takes part in the auth rules. */
  readonly notifications: ReadonlyMap<string, number>;
  readonly users: ReadonlyMap<string, number>;
}

export type PowerLevelsParseResult =
  | { readonly ok: true; readonly powerLevels: ParsedPowerLevels }
  | { readonly ok: false; readonly reason: string };

// Spec format for stringy levels: optional whitespace, an optional sign, base-10 digits.
const INTEGER_STRING = /^\s*[+-]?[0-9]+\s*$/;

/** One level value as the room version reads it, or undefined when the version refuses it. */
function readLevelValue(value: unknown, version: RoomVersion): number | undefined {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value;
    // v1–v5 do not enforce canonical JSON, so a float means "truncate it".
    if (version.floatPowerLevelsTolerated && Number.isFinite(value)) return Math.trunc(value);
    return undefined;
  }
  if (typeof value === 'string' && !version.integerPowerLevels && INTEGER_STRING.test(value)) {
    const parsed = Number(value.trim());
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

function describeValue(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function readLevelMap(
  content: Readonly<Record<string, unknown>>,
  key: string,
  version: RoomVersion,
  problems: string[],
  acceptKey: (key: string) => boolean = () => true,
): Map<string, number> {
  const result = new Map<string, number>();
  if (!hasOwn(content, key)) return result;
  const raw = content[key];
  if (!isRecord(raw)) {
    problems.push(`"${key}" must be an object`);
    return result;
  }
  for (const [name, value] of Object.entries(raw)) {
    if (!acceptKey(name)) {
      problems.push(`"${key}" has a key that is not a user ID: ${describeValue(name)}`);
      continue;
    }
    const level = readLevelValue(value, version);
    if (level === undefined) problems.push(`"${key}.${name}" is not a valid power level: ${describeValue(value)}`);
    else result.set(name, level);
  }
  return result;
}

/** Reads every value it can, listing the ones the room version refuses. */
function readPowerLevels(content: unknown, version: RoomVersion): { powerLevels: ParsedPowerLevels; problems: string[] } {
  const problems: string[] = [];
  const record = isRecord(content) ? content : {};
  if (!isRecord(content)) problems.push('content must be an object');
  const levels: Partial<Record<PowerLevelName, number>> = {};
  for (const name of POWER_LEVEL_NAMES) {
    if (!hasOwn(record, name)) continue;
    const level = readLevelValue(record[name], version);
    if (level === undefined) problems.push(`"${name}" is not a valid power level: ${describeValue(record[name])}`);
    else levels[name] = level;
  }
  const powerLevels: ParsedPowerLevels = {
    levels,
    events: readLevelMap(record, 'events', version, problems),
    notifications: version.notificationsPowerLevels
      ? readLevelMap(record, 'notifications', version, problems)
      : new Map<string, number>(),
    users: readLevelMap(record, 'users', version, problems, looksLikeUserId),
  };
  return { powerLevels, problems };
}

/**
 * Parses power levels content under the room version's rules: integers
 * everywhere; v1–v9 also accept integer strings (`"100"`, `" +100 "`);
 * v1–v5 also accept floats, truncated. `users` keys must be user IDs.
 * Any value the version refuses makes the whole content invalid.
 */
export function parsePowerLevels(content: unknown, version: RoomVersionLike): PowerLevelsParseResult {
  const { powerLevels, problems } = readPowerLevels(content, resolveRoomVersion(version));
  const [first] = problems;
  return first === undefined ? { ok: true, powerLevels } : { ok: false, reason: first };
}

/**
 * Power levels of a state event already in the room. An event that passed
 * the auth rules always parses; should one not, unreadable values fall back
 * to their defaults rather than failing every later check.
 */
export function powerLevelsFromState(state: AuthState, version: RoomVersion): ParsedPowerLevels | undefined {
  const event = state.get(POWER_LEVELS_EVENT_TYPE, '');
  return event === undefined ? undefined : readPowerLevels(event.content, version).powerLevels;
}

/** A top-level level (`ban`, `kick`, `invite`, …) with its default applied. */
export function namedLevel(powerLevels: ParsedPowerLevels | undefined, name: PowerLevelName): number {
  return powerLevels?.levels[name] ?? DEFAULT_POWER_LEVELS[name];
}

/** The spec's "required power level" for sending an event of this type. */
export function requiredPowerLevel(powerLevels: ParsedPowerLevels | undefined, type: string, isState: boolean): number {
  return powerLevels?.events.get(type) ?? namedLevel(powerLevels, isState ? 'state_default' : 'events_default');
}

/**
 * The room's creator in the v1–v11 sense (the one who gets level 100 when
 * there is no power levels event and may join first): `content.creator` in
 * v1–v10, the create event's sender from v11 on.
 */
export function roomCreatorOf(create: AuthEvent, version: RoomVersion): string | undefined {
  if (version.creatorIsCreateSender) return create.sender;
  const creator = create.content['creator'];
  return typeof creator === 'string' ? creator : undefined;
}

/** v12 "room creators": the create event's sender plus `content.additional_creators`. */
export function roomCreatorsOf(create: AuthEvent): ReadonlySet<string> {
  const creators = new Set<string>([create.sender]);
  const additional = create.content['additional_creators'];
  if (Array.isArray(additional)) {
    for (const userId of additional) if (typeof userId === 'string') creators.add(userId);
  }
  return creators;
}

/** Whether `userId` is a creator with infinite power (v12 and later only). */
export function isPrivilegedCreator(userId: string, state: AuthState, version: RoomVersion): boolean {
  if (!version.privilegedCreators) return false;
  const create = state.get(CREATE_EVENT_TYPE, '');
  return create !== undefined && roomCreatorsOf(create).has(userId);
}

/**
 * A user's power level in the given state. v12 creators are `Infinity`;
 * without a power levels event the v1–v11 creator has 100 and everyone else 0.
 */
export function powerLevelOf(userId: string, state: AuthState, versionLike: RoomVersionLike): number {
  const version = resolveRoomVersion(versionLike);
  if (isPrivilegedCreator(userId, state, version)) return Infinity;
  const powerLevels = powerLevelsFromState(state, version);
  if (powerLevels !== undefined) return powerLevels.users.get(userId) ?? namedLevel(powerLevels, 'users_default');
  if (version.privilegedCreators) return 0;
  const create = state.get(CREATE_EVENT_TYPE, '');
  return create !== undefined && roomCreatorOf(create, version) === userId ? CREATOR_DEFAULT_POWER_LEVEL : 0;
}
