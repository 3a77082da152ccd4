// What to seed: groups of identical public rooms, each created by its first
// member and joined by the others, and how users are named (the benchmark
// tools give the same users access tokens, so the rule is part of the
// seeder's contract).
import { getRoomVersion } from '@membrane/events';

export interface SeedGroupSpec {
  /** Names the group in the result. */
  readonly name: string;
  readonly rooms: number;
  /** Joined members per room, the creator (member 0) included. */
  readonly members: number;
  /** See `seedUserId`. */
  readonly userPrefix: string;
  /** The same users in every room of the group (otherwise each room has its own). */
  readonly sharedMembers?: boolean;
}

export interface SeedSpec {
  /** Default: 11, the service's default room version. */
  readonly roomVersion?: string;
  readonly groups: readonly SeedGroupSpec[];
}

/** Rooms `from` (inclusive) to `to` (exclusive) of one group: the unit of work of a builder. */
export interface SeedJob {
  readonly groupIndex: number;
  readonly from: number;
  readonly to: number;
}

/** Events a job should hold at most (a larger room is one job on its own). */
const EVENTS_PER_JOB = 3_000;

/**
 * Member `memberIndex` of room `roomIndex`: `@<prefix><j>:<server>` when the
 * group shares its members, `@<prefix><r>_<j>:<server>` otherwise. Member 0
 * created the room.
 */
export function seedUserId(group: Pick<SeedGroupSpec, 'userPrefix' | 'sharedMembers'>, roomIndex: number, memberIndex: number, serverName: string): string {
  const localpart = group.sharedMembers === true ? `${group.userPrefix}${memberIndex}` : `${group.userPrefix}${roomIndex}_${memberIndex}`;
  return `@${localpart}:${serverName}`;
}

export function checkSeedSpec(spec: SeedSpec): void {
  getRoomVersion(spec.roomVersion ?? '11');
  const names = new Set<string>();
  for (const group of spec.groups) {
    if (names.has(group.name)) throw new Error(`seed group "${group.name}" appears twice`);
    names.add(group.name);
    if (!Number.isSafeInteger(group.rooms) || group.rooms < 0) throw new Error(`seed group "${group.name}": rooms must be a non-negative integer`);
    if (!Number.isSafeInteger(group.members) || group.members < 1) throw new Error(`seed group "${group.name}": members must be a positive integer`);
    if (!/^[a-z0-9._=/-]+$/.test(group.userPrefix)) throw new Error(`seed group "${group.name}": userPrefix must be lowercase localpart characters`);
  }
}

/** Splits the spec into jobs of about EVENTS_PER_JOB events, in room order. */
export function planSeedJobs(spec: SeedSpec): SeedJob[] {
  const jobs: SeedJob[] = [];
  spec.groups.forEach((group, groupIndex) => {
    const roomsPerJob = Math.max(1, Math.floor(EVENTS_PER_JOB / (group.members + 5)));
    for (let from = 0; from < group.rooms; from += roomsPerJob) jobs.push({ groupIndex, from, to: Math.min(group.rooms, from + roomsPerJob) });
  });
  return jobs;
}
