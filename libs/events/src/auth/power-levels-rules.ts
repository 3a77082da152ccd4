// The `m.room.power_levels` rule (rule 10 in v1–v5, 9 in v6–v11, 10 in v12):
// what a sender may change in the power levels, given their current level.
import type { RoomVersion } from '../room-versions.js';
import { ALLOW, deny } from './auth-types.js';
import type { AuthCandidate, AuthDecision, AuthState } from './auth-types.js';
import {
  CREATE_EVENT_TYPE,
  POWER_LEVEL_NAMES,
  parsePowerLevels,
  powerLevelOf,
  powerLevelsFromState,
  roomCreatorsOf,
} from './power-levels.js';

interface Change {
  readonly key: string;
  readonly label: string;
  readonly before: number | undefined;
  readonly after: number | undefined;
}

function changesBetween(label: string, before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Change[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].map((key) => ({ key, label: `${label}.${key}`, before: before.get(key), after: after.get(key) }));
}

function isUnchanged(change: Change): boolean {
  return change.before === change.after;
}

/**
 * Levels are compared after parsing, so `"50"` → `50` is no change. A value
 * that was added, changed or removed must not be above the sender's level,
 * neither before nor after; another user's entry may only be changed or
 * removed when it is below the sender's level.
 */
export function checkPowerLevelsEvent(event: AuthCandidate, state: AuthState, version: RoomVersion): AuthDecision {
  const parsed = parsePowerLevels(event.content, version);
  if (!parsed.ok) return deny(`invalid power levels: ${parsed.reason}`);
  const next = parsed.powerLevels;

  if (version.privilegedCreators) {
    const create = state.get(CREATE_EVENT_TYPE, '');
    const creators = create === undefined ? new Set<string>() : roomCreatorsOf(create);
    for (const userId of next.users.keys()) {
      if (creators.has(userId)) return deny(`room creator ${userId} must not be listed in users`);
    }
  }

  const current = powerLevelsFromState(state, version);
  if (current === undefined) return ALLOW;
  const senderLevel = powerLevelOf(event.sender, state, version);

  const levelChanges: Change[] = POWER_LEVEL_NAMES.map((name) => ({
    key: name,
    label: name,
    before: current.levels[name],
    after: next.levels[name],
  }));
  const mapChanges = changesBetween('events', current.events, next.events);
  if (version.notificationsPowerLevels) {
    mapChanges.push(...changesBetween('notifications', current.notifications, next.notifications));
  }
  for (const change of [...levelChanges, ...mapChanges]) {
    if (isUnchanged(change)) continue;
    if (change.before !== undefined && change.before > senderLevel) {
      return deny(`${change.label} is ${change.before}, above the sender's level ${senderLevel}`);
    }
    if (change.after !== undefined && change.after > senderLevel) {
      return deny(`${change.label} would become ${change.after}, above the sender's level ${senderLevel}`);
    }
  }

  for (const change of changesBetween('users', current.users, next.users)) {
    if (isUnchanged(change)) continue;
    const isOwnEntry = change.key === event.sender;
    if (!isOwnEntry && change.before !== undefined && change.before >= senderLevel) {
      return deny(`${change.label} is ${change.before}, not below the sender's level ${senderLevel}`);
    }
    if (change.after !== undefined && change.after > senderLevel) {
      return deny(`${change.label} would become ${change.after}, above the sender's level ${senderLevel}`);
    }
  }
  return ALLOW;
}
