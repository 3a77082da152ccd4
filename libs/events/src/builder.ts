// Building PDUs in a room version's format, and the unsigned membership
// templates of make_join / make_leave. Format facts: spec server-server
// definitions pdu_v1 / pdu_v3 / pdu_v4, rooms v1/v3/v4/v11/v12; Synapse
// `synapse/events/builder.py` (depth rule, v1/v2 event IDs). The deprecated
// top-level `origin` is not emitted (removed from PDUs in spec v1.3; Synapse
// stopped sending it in 2025).
import { randomBytes } from 'node:crypto';
import type { JsonObject } from '@membrane/canonical-json';
import type { CryptoBackend, SigningKey } from '@membrane/signing';
import { computeEventId } from './event-id.js';
import { hashAndSignEvent } from './event-signing.js';
import { cloneJson, copyWithout, isPlainObject } from './json.js';
import { MAX_AUTH_EVENTS, MAX_PREV_EVENTS } from './limits.js';
import type { RoomVersion } from './room-versions.js';
import type { EventReference, Membership, Pdu } from './types.js';

/** What a local intent knows about the event before it is placed in the DAG. */
export interface ProtoEvent {
  readonly type: string;
  readonly sender: string;
  /** Absent only for a room v12 create event. */
  readonly room_id?: string;
  readonly state_key?: string;
  readonly content: JsonObject;
  /** For `m.room.redaction`: top-level in v1–v10, moved into `content` from v11. */
  readonly redacts?: string;
}

/** An event cited in `auth_events`. */
export interface CitedEvent {
  readonly eventId: string;
  /** Room v1/v2 only: the cited event's reference hash, unpadded standard base64. */
  readonly referenceHash?: string;
}

/** An event cited in `prev_events`; its depth sets the new event's depth. */
export interface PrevEvent extends CitedEvent {
  readonly depth: number;
}

export interface PduSigner {
  readonly serverName: string;
  readonly key: SigningKey;
  readonly backend?: CryptoBackend;
}

export interface BuildPduInput {
  readonly version: RoomVersion;
  readonly proto: ProtoEvent;
  readonly prevEvents: readonly PrevEvent[];
  readonly authEvents: readonly CitedEvent[];
  readonly originServerTs: number;
  /** Overrides the depth derived from `prevEvents`. */
  readonly depth?: number;
  readonly unsigned?: JsonObject;
  /** Room v1/v2: the event ID to use; a random `$…:serverName` by default. */
  readonly legacyEventId?: string;
}

export interface BuiltPdu {
  readonly event: Pdu;
  readonly eventId: string;
}

export class PduBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PduBuildError';
  }
}

/** Depth of a new event: one more than its deepest prev event (1 with none), capped at the version's limit. */
export function depthAfter(prevEvents: readonly { readonly depth: number }[], version: RoomVersion): number {
  const deepest = prevEvents.reduce((max, prev) => Math.max(max, prev.depth), 0);
  return Math.min(deepest + 1, version.maxDepth);
}

/** Cites events in the version's format: `[id, {sha256}]` pairs in v1/v2, plain IDs from v3. */
export function formatEventReferences(events: readonly CitedEvent[], version: RoomVersion): EventReference[] {
  return events.map(({ eventId, referenceHash }) => {
    if (version.eventFormat !== 'v1') return eventId;
    if (referenceHash === undefined) {
      throw new PduBuildError(`room version ${version.id} needs the reference hash of ${eventId} to cite it`);
    }
    return [eventId, { sha256: referenceHash }];
  });
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh room v1/v2 event ID, `$<18 random letters/digits>:<serverName>`. */
export function generateLegacyEventId(serverName: string): string {
  const bytes = randomBytes(18);
  let opaque = '';
  // 256 % 62 bias is irrelevant here: uniqueness, not uniformity, matters.
  for (const byte of bytes) opaque += ID_ALPHABET[byte % ID_ALPHABET.length];
  return `$${opaque}:${serverName}`;
}

function checkCounts(prevCount: number, authCount: number): void {
  if (prevCount > MAX_PREV_EVENTS) throw new PduBuildError(`at most ${MAX_PREV_EVENTS} prev_events are allowed, got ${prevCount}`);
  if (authCount > MAX_AUTH_EVENTS) throw new PduBuildError(`at most ${MAX_AUTH_EVENTS} auth_events are allowed, got ${authCount}`);
}

/** The unsigned event body (no hashes, signatures, or v1/v2 event_id yet). */
function unsignedBody(input: BuildPduInput): JsonObject {
  const { version, proto } = input;
  checkCounts(input.prevEvents.length, input.authEvents.length);
  const isV12Create = version.roomIdFromCreateEvent && proto.type === 'm.room.create';
  if (isV12Create && proto.room_id !== undefined) {
    throw new PduBuildError(`a room version ${version.id} create event has no room_id (the room ID derives from its event ID)`);
  }
  if (!isV12Create && proto.room_id === undefined) throw new PduBuildError(`a ${proto.type} event needs a room_id`);

  const content = cloneJson(proto.content) as JsonObject;
  const body: JsonObject = {
    type: proto.type,
    sender: proto.sender,
    content,
    depth: input.depth ?? depthAfter(input.prevEvents, version),
    prev_events: formatEventReferences(input.prevEvents, version),
    auth_events: formatEventReferences(input.authEvents, version),
    origin_server_ts: input.originServerTs,
  };
  if (proto.room_id !== undefined) body['room_id'] = proto.room_id;
  if (proto.state_key !== undefined) body['state_key'] = proto.state_key;
  if (proto.redacts !== undefined) {
    if (version.redactsInContent) content['redacts'] ??= proto.redacts;
    else body['redacts'] = proto.redacts;
  }
  if (input.unsigned !== undefined) body['unsigned'] = cloneJson(input.unsigned);
  return body;
}

/** Builds, hashes and signs a PDU in `input.version`'s format and computes its ID. */
export function buildPdu(input: BuildPduInput, signer: PduSigner): BuiltPdu {
  const body = unsignedBody(input);
  if (input.version.eventFormat === 'v1') body['event_id'] = input.legacyEventId ?? generateLegacyEventId(signer.serverName);
  return signBody(body, input.version, signer);
}

function signBody(body: JsonObject, version: RoomVersion, signer: PduSigner): BuiltPdu {
  const event = hashAndSignEvent(body, signer.serverName, signer.key, version, signer.backend) as unknown as Pdu;
  return { event, eventId: computeEventId(event, version) };
}

export interface MembershipTemplateInput {
  readonly version: RoomVersion;
  readonly roomId: string;
  readonly userId: string;
  readonly membership: Membership;
  /** Extra content beside `membership` (e.g. `join_authorised_via_users_server`). */
  readonly content?: JsonObject;
  readonly prevEvents: readonly PrevEvent[];
  readonly authEvents: readonly CitedEvent[];
  readonly originServerTs: number;
}

/**
 * The unsigned membership event a `make_join` / `make_leave` answer carries
 * (spec leaving-v1.yaml shape, plus the DAG fields the remote server needs to
 * sign it: `depth`, `prev_events`, `auth_events`): sender = state_key =
 * userId, references in the version's format, no hashes or signatures, no
 * v1/v2 `event_id` (the remote server picks its own).
 */
export function buildMembershipTemplate(input: MembershipTemplateInput): JsonObject {
  return unsignedBody({
    version: input.version,
    proto: {
      type: 'm.room.member',
      room_id: input.roomId,
      sender: input.userId,
      state_key: input.userId,
      content: { ...input.content, membership: input.membership },
    },
    prevEvents: input.prevEvents,
    authEvents: input.authEvents,
    originServerTs: input.originServerTs,
  });
}

export interface TemplateExpectation {
  readonly roomId: string;
  readonly userId: string;
  readonly membership: Membership;
}

/**
 * What a server must check in a `make_*` answer before signing it (spec
 * leaving-v1.yaml): the room, `type`, `sender` = `state_key` = the user, and
 * the membership. Returns a reason when the template is unusable.
 */
export function checkMembershipTemplate(template: unknown, expected: TemplateExpectation): string | undefined {
  if (!isPlainObject(template)) return 'template is not an object';
  if (template['type'] !== 'm.room.member') return 'template type is not m.room.member';
  if (template['room_id'] !== expected.roomId) return 'template room_id does not match the room';
  if (template['sender'] !== expected.userId) return 'template sender is not the user';
  if (template['state_key'] !== expected.userId) return 'template state_key is not the user';
  const content = template['content'];
  if (!isPlainObject(content) || content['membership'] !== expected.membership) {
    return `template membership is not ${expected.membership}`;
  }
  return undefined;
}

export interface SignTemplateInput {
  readonly version: RoomVersion;
  /** Content merged over the template's (e.g. a `reason`); `membership` stays the template's. */
  readonly content?: JsonObject;
  /** Used when the template has no `origin_server_ts`. */
  readonly originServerTs: number;
  readonly legacyEventId?: string;
}

/**
 * Turns a remote server's membership template into our signed event: drops
 * whatever the template claims as hashes, signatures or event ID, merges
 * `content`, gives v1/v2 events a fresh event ID of ours, then hashes and signs.
 */
export function signMembershipTemplate(template: JsonObject, input: SignTemplateInput, signer: PduSigner): BuiltPdu {
  const body = cloneJson(copyWithout(template, ['hashes', 'signatures', 'event_id', 'unsigned'])) as JsonObject;
  const templateContent = isPlainObject(body['content']) ? body['content'] : {};
  body['content'] = { ...templateContent, ...input.content, ...pick(templateContent, 'membership') };
  if (typeof body['origin_server_ts'] !== 'number') body['origin_server_ts'] = input.originServerTs;
  if (input.version.eventFormat === 'v1') body['event_id'] = input.legacyEventId ?? generateLegacyEventId(signer.serverName);
  return signBody(body, input.version, signer);
}

function pick(object: JsonObject, key: string): JsonObject {
  const value = object[key];
  return value === undefined ? {} : { [key]: value };
}
