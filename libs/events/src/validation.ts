// Format checks of a received PDU for its room version: field presence and
// types, identifier grammar, counts, depth, sizes and (v6+) canonical JSON.
// Sources: spec server-server definitions pdu_v1/v3/v4 (+ v12 changes),
// appendices (identifiers, canonical JSON), client-server §"Size limits";
// Synapse `event_from_pdu_json`, `validate_canonicaljson`, `_check_size_limits`.
// Auth rules, signatures and hashes are checked elsewhere.
import { CanonicalJsonError, encodeCanonicalJsonBytes } from '@membrane/canonical-json';
import type { JsonObject, JsonValue } from '@membrane/canonical-json';
import { parseUserId } from './identifiers.js';
import { isPlainObject } from './json.js';
import {
  CANONICAL_JSON_MAX_INT,
  CANONICAL_JSON_MIN_INT,
  MAX_AUTH_EVENTS,
  MAX_IDENTIFIER_BYTES,
  MAX_PDU_BYTES,
  MAX_PREV_EVENTS,
} from './limits.js';
import type { RoomVersion } from './room-versions.js';
import { codePointLength, isWellFormedText, utf8ByteLength } from './text.js';
import type { Pdu } from './types.js';

export type PduErrcode = 'M_BAD_JSON' | 'M_TOO_LARGE';

export type PduValidationResult =
  | {
      readonly ok: true;
      readonly event: Pdu;
      /**
       * Identifier fields over 255 bytes that this room version still accepts
       * because it counts code points (v1–v10). Synapse keeps such events but
       * marks them rejected; the auth layer should do the same. Always empty in v11+.
       */
      readonly overByteLimit: readonly string[];
    }
  | {
      readonly ok: false;
      readonly errcode: PduErrcode;
      /** 400 for M_BAD_JSON, 413 for M_TOO_LARGE (what Synapse answers for EventSizeError). */
      readonly status: 400 | 413;
      readonly error: string;
      /** The offending top-level field, when there is one. */
      readonly field?: string;
    };

type Failure = Extract<PduValidationResult, { ok: false }>;

class PduFormatError extends Error {
  constructor(
    readonly errcode: PduErrcode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const badJson = (message: string, field?: string): PduFormatError => new PduFormatError('M_BAD_JSON', message, field);

/** v12 room IDs: `!` + the create event's reference hash in unpadded URL-safe base64 (43 chars). */
const V12_ROOM_ID = /^![A-Za-z0-9_-]{43}$/;

/** Identifier fields with a 255-byte limit, in the order Synapse checks them. */
const LIMITED_FIELDS = ['sender', 'room_id', 'state_key', 'type', 'event_id'] as const;

/**
 * Checks that `json` is a PDU in `version`'s format. Unknown top-level keys
 * are allowed (they are hashed, then dropped by redaction) but, like every
 * value, must obey canonical JSON in v6+. `hashes` and `signatures` may be
 * absent: their absence fails the signature / hash steps instead.
 *
 * Note on numbers: after `JSON.parse`, `1.0` is indistinguishable from `1`;
 * parse request bodies with `parseJson(text, { strictNumbers: true })` to
 * refuse such floats in v6+ rooms.
 */
export function validatePdu(json: unknown, version: RoomVersion): PduValidationResult {
  try {
    return { ok: true, ...checkPdu(json, version) };
  } catch (error) {
    if (!(error instanceof PduFormatError)) throw error;
    const failure: Failure = {
      ok: false,
      errcode: error.errcode,
      status: error.errcode === 'M_TOO_LARGE' ? 413 : 400,
      error: error.message,
      ...(error.field === undefined ? {} : { field: error.field }),
    };
    return failure;
  }
}

function checkPdu(json: unknown, version: RoomVersion): { event: Pdu; overByteLimit: string[] } {
  if (!isPlainObject(json)) throw badJson('A PDU must be a JSON object');
  checkJsonValues(json, version);
  checkFields(json, version);
  checkWholeSize(json);
  const overByteLimit = checkIdentifierSizes(json, version);
  return { event: json as Pdu, overByteLimit };
}

/**
 * Walks every value: strings and keys must be valid Unicode (a lone surrogate
 * has no canonical JSON form) and numbers integers within ±(2^53 - 1).
 * v6+: that is the spec's canonical JSON rule. v1–v5: the spec tolerates
 * other numbers, but their hashes depend on how the sending server printed
 * them (Python keeps `1e16` and big integers exactly; a JavaScript number
 * cannot), so such an event could never be hashed or verified reproducibly
 * and is refused as malformed too. `-0` is accepted as 0, as Synapse does.
 */
function checkJsonValues(root: JsonValue, version: RoomVersion): void {
  const stack: { value: JsonValue; field: string | undefined }[] = [{ value: root, field: undefined }];
  while (stack.length > 0) {
    const { value, field } = stack.pop()!;
    if (typeof value === 'string') {
      if (!isWellFormedText(value)) throw badJson('Strings must not contain lone UTF-16 surrogates', field);
    } else if (typeof value === 'number') {
      if (!(Number.isInteger(value) && value >= CANONICAL_JSON_MIN_INT && value <= CANONICAL_JSON_MAX_INT)) {
        const why = version.strictCanonicalJson
          ? 'as canonical JSON requires'
          : `(room version ${version.id} tolerates other numbers, but they cannot be hashed reproducibly here)`;
        throw badJson(`Number ${value} is not an integer within ±(2^53-1) ${why}`, field);
      }
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push({ value: item, field });
    } else if (value !== null && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        if (!isWellFormedText(key)) throw badJson('Object keys must not contain lone UTF-16 surrogates', field ?? key);
        const item = value[key];
        if (item !== undefined) stack.push({ value: item, field: field ?? key });
      }
    } else if (typeof value !== 'boolean' && value !== null) {
      throw badJson('Not a JSON value', field);
    }
  }
}

function requireString(pdu: JsonObject, field: string): string {
  const value = pdu[field];
  if (value === undefined) throw badJson(`Missing required field ${field}`, field);
  if (typeof value !== 'string') throw badJson(`Field ${field} must be a string`, field);
  return value;
}

function requireInteger(pdu: JsonObject, field: string): number {
  const value = pdu[field];
  if (value === undefined) throw badJson(`Missing required field ${field}`, field);
  if (typeof value !== 'number' || !Number.isInteger(value)) throw badJson(`Field ${field} must be an integer`, field);
  return value;
}

function checkFields(pdu: JsonObject, version: RoomVersion): void {
  const type = requireString(pdu, 'type');

  const isV12Create = version.roomIdFromCreateEvent && type === 'm.room.create';
  if (isV12Create) {
    if (pdu['room_id'] !== undefined) throw badJson(`A room version ${version.id} create event must not have a room_id`, 'room_id');
  } else {
    const roomId = requireString(pdu, 'room_id');
    if (version.roomIdFromCreateEvent ? !V12_ROOM_ID.test(roomId) : !/^!.*:/s.test(roomId)) {
      throw badJson(`Field room_id is not a room ID of room version ${version.id}`, 'room_id');
    }
  }

  const sender = requireString(pdu, 'sender');
  if (parseUserId(sender) === undefined) throw badJson('Field sender is not a valid user ID', 'sender');

  if (version.eventFormat === 'v1') {
    const eventId = requireString(pdu, 'event_id');
    if (!/^\$.+:/s.test(eventId)) throw badJson('Field event_id must look like $opaque:server_name', 'event_id');
  }

  if (pdu['state_key'] !== undefined && typeof pdu['state_key'] !== 'string') throw badJson('Field state_key must be a string', 'state_key');

  if (!isPlainObject(pdu['content'])) {
    throw badJson(pdu['content'] === undefined ? 'Missing required field content' : 'Field content must be an object', 'content');
  }

  const depth = requireInteger(pdu, 'depth');
  if (depth < 0) throw badJson('Field depth must not be negative', 'depth');
  if (depth > version.maxDepth) throw badJson(`Field depth must not exceed ${version.maxDepth}`, 'depth');

  requireInteger(pdu, 'origin_server_ts');

  checkReferences(pdu, 'prev_events', MAX_PREV_EVENTS, version);
  checkReferences(pdu, 'auth_events', MAX_AUTH_EVENTS, version);

  const hashes = pdu['hashes'];
  if (hashes !== undefined) {
    if (!isPlainObject(hashes)) throw badJson('Field hashes must be an object', 'hashes');
    if (hashes['sha256'] !== undefined && typeof hashes['sha256'] !== 'string') throw badJson('Field hashes.sha256 must be a string', 'hashes');
  }
  const signatures = pdu['signatures'];
  if (signatures !== undefined && !isSignatureMap(signatures)) {
    throw badJson('Field signatures must map server names to objects of key IDs and signature strings', 'signatures');
  }
  if (pdu['unsigned'] !== undefined && !isPlainObject(pdu['unsigned'])) throw badJson('Field unsigned must be an object', 'unsigned');
  // From v11 `redacts` lives in the content; a top-level one is then just an unknown key.
  if (!version.redactsInContent && pdu['redacts'] !== undefined && typeof pdu['redacts'] !== 'string') {
    throw badJson('Field redacts must be a string', 'redacts');
  }
}

function checkReferences(pdu: JsonObject, field: 'prev_events' | 'auth_events', max: number, version: RoomVersion): void {
  const list = pdu[field];
  if (list === undefined) throw badJson(`Missing required field ${field}`, field);
  if (!Array.isArray(list)) throw badJson(`Field ${field} must be an array`, field);
  // Synapse answers 400 M_UNKNOWN "Too many prev_events"; the spec puts the limit in the PDU schema.
  if (list.length > max) throw badJson(`Field ${field} has ${list.length} entries; at most ${max} are allowed`, field);
  for (const entry of list) {
    const ok = version.eventFormat === 'v1' ? isLegacyReference(entry) : typeof entry === 'string' && entry.startsWith('$');
    if (!ok) {
      const shape = version.eventFormat === 'v1' ? '[event_id, {"sha256": hash}] pairs' : 'event IDs';
      throw badJson(`Field ${field} must hold ${shape} in room version ${version.id}`, field);
    }
  }
}

function isLegacyReference(entry: JsonValue): boolean {
  return (
    Array.isArray(entry) &&
    entry.length === 2 &&
    typeof entry[0] === 'string' &&
    entry[0].startsWith('$') &&
    isPlainObject(entry[1])
  );
}

function isSignatureMap(value: JsonValue): boolean {
  if (!isPlainObject(value)) return false;
  return Object.values(value).every((byKey) => isPlainObject(byKey) && Object.values(byKey).every((s) => typeof s === 'string'));
}

function checkWholeSize(pdu: JsonObject): void {
  let size: number;
  try {
    size = encodeCanonicalJsonBytes(pdu).length;
  } catch (error) {
    if (error instanceof CanonicalJsonError) throw badJson(`PDU has no canonical JSON form: ${error.message}`);
    throw error;
  }
  if (size > MAX_PDU_BYTES) {
    throw new PduFormatError('M_TOO_LARGE', `PDU is ${size} bytes as canonical JSON; the limit is ${MAX_PDU_BYTES}`);
  }
}

/**
 * v11+: each identifier ≤ 255 UTF-8 bytes. Earlier versions: ≤ 255 code
 * points (Synapse's historic rule); fields over 255 bytes are returned so the
 * caller can treat the event as rejected rather than malformed.
 */
function checkIdentifierSizes(pdu: JsonObject, version: RoomVersion): string[] {
  const overByteLimit: string[] = [];
  for (const field of LIMITED_FIELDS) {
    // From v3 the event ID is computed (always 44 bytes); an `event_id` key is then just an unknown key.
    if (field === 'event_id' && version.eventFormat !== 'v1') continue;
    const value = pdu[field];
    if (typeof value !== 'string') continue;
    const tooLong = version.strictByteLimits ? utf8ByteLength(value) > MAX_IDENTIFIER_BYTES : codePointLength(value) > MAX_IDENTIFIER_BYTES;
    if (tooLong) throw new PduFormatError('M_TOO_LARGE', `Field ${field} is longer than ${MAX_IDENTIFIER_BYTES} ${version.strictByteLimits ? 'bytes' : 'code points'}`, field);
    if (!version.strictByteLimits && utf8ByteLength(value) > MAX_IDENTIFIER_BYTES) overByteLimit.push(field);
  }
  return overByteLimit;
}
