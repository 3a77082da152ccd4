// The redaction algorithm of each room version: which top-level keys and
// which content keys survive. Sources: spec rooms/fragments/v1-redactions.md,
// v6-redactions.md, v8.md, v9-redactions.md, v11-redactions.md, v12.md
// (tables in MATRIX_FACTS.md §4). Redaction is also the first step of
// signing and of the reference hash, so it must match other servers exactly.
import type { JsonObject } from '@membrane/canonical-json';
import type { RedactionAlgorithm, RoomVersion } from './room-versions.js';
import { cloneJson, isPlainObject } from './json.js';
import type { EventLike } from './types.js';

const TOP_LEVEL_KEYS_V1: readonly string[] = [
  'event_id',
  'type',
  'room_id',
  'sender',
  'state_key',
  'content',
  'hashes',
  'signatures',
  'depth',
  'prev_events',
  'prev_state',
  'auth_events',
  'origin',
  'origin_server_ts',
  'membership',
];

/** v11 stopped protecting `origin`, `membership` and `prev_state`. */
const TOP_LEVEL_KEYS_V11: readonly string[] = TOP_LEVEL_KEYS_V1.filter(
  (key) => key !== 'origin' && key !== 'membership' && key !== 'prev_state',
);

const POWER_LEVELS_KEYS_V1 = ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'];

/** Content keys kept per event type; `'all'` keeps the whole content. */
type ContentRule = readonly string[] | 'all';

const CONTENT_RULES: Readonly<Record<RedactionAlgorithm, Readonly<Record<string, ContentRule>>>> = {
  v1: {
    'm.room.member': ['membership'],
    'm.room.create': ['creator'],
    'm.room.join_rules': ['join_rule'],
    'm.room.power_levels': POWER_LEVELS_KEYS_V1,
    'm.room.history_visibility': ['history_visibility'],
    'm.room.aliases': ['aliases'],
  },
  // v6: m.room.aliases lost its special meaning.
  v6: {
    'm.room.member': ['membership'],
    'm.room.create': ['creator'],
    'm.room.join_rules': ['join_rule'],
    'm.room.power_levels': POWER_LEVELS_KEYS_V1,
    'm.room.history_visibility': ['history_visibility'],
  },
  // v8: restricted joins keep `allow`.
  v8: {
    'm.room.member': ['membership'],
    'm.room.create': ['creator'],
    'm.room.join_rules': ['join_rule', 'allow'],
    'm.room.power_levels': POWER_LEVELS_KEYS_V1,
    'm.room.history_visibility': ['history_visibility'],
  },
  // v9: keeps the authorising user of restricted joins.
  v9: {
    'm.room.member': ['membership', 'join_authorised_via_users_server'],
    'm.room.create': ['creator'],
    'm.room.join_rules': ['join_rule', 'allow'],
    'm.room.power_levels': POWER_LEVELS_KEYS_V1,
    'm.room.history_visibility': ['history_visibility'],
  },
  // v11: whole create content, `invite` power level, `redacts` in content;
  // member `third_party_invite` is handled separately (reduced to `signed`).
  v11: {
    'm.room.member': ['membership', 'join_authorised_via_users_server'],
    'm.room.create': 'all',
    'm.room.join_rules': ['join_rule', 'allow'],
    'm.room.power_levels': [...POWER_LEVELS_KEYS_V1, 'invite'],
    'm.room.history_visibility': ['history_visibility'],
    'm.room.redaction': ['redacts'],
  },
};

/**
 * Returns the redacted form of `event` under `version`'s algorithm. The input
 * is not modified and the result shares no objects with it. `content` is
 * always present (`{}` when nothing survives), as Synapse and
 * gomatrixserverlib produce; `unsigned` is dropped like any other key not
 * listed by the algorithm.
 */
export function redactEvent(event: EventLike, version: RoomVersion): JsonObject {
  const algorithm = version.redaction;
  const keptTopLevel = algorithm === 'v11' ? TOP_LEVEL_KEYS_V11 : TOP_LEVEL_KEYS_V1;
  const type = event['type'];
  const result: JsonObject = {};
  for (const key of keptTopLevel) {
    const value = event[key];
    if (value !== undefined && key !== 'content') result[key] = cloneJson(value);
  }
  // v12 create events have no room ID: the room ID is derived from their hash.
  if (version.roomIdFromCreateEvent && type === 'm.room.create') delete result['room_id'];

  const content = event['content'];
  result['content'] = isPlainObject(content) && typeof type === 'string' ? redactContent(type, content, algorithm) : {};
  return result;
}

function redactContent(type: string, content: JsonObject, algorithm: RedactionAlgorithm): JsonObject {
  const rules = CONTENT_RULES[algorithm];
  // Own keys only: an event type such as "constructor" must not find Object.prototype members.
  const rule = Object.hasOwn(rules, type) ? rules[type] : undefined;
  if (rule === undefined) return {};
  if (rule === 'all') return cloneJson(content) as JsonObject;
  const kept: JsonObject = {};
  for (const key of rule) {
    const value = content[key];
    if (value !== undefined) kept[key] = cloneJson(value);
  }
  if (algorithm === 'v11' && type === 'm.room.member') {
    // Only the signed block of a third-party invite is protected; a non-object is dropped.
    const invite = content['third_party_invite'];
    if (isPlainObject(invite)) {
      const signed = invite['signed'];
      kept['third_party_invite'] = signed === undefined ? {} : { signed: cloneJson(signed) };
    }
  }
  return kept;
}
