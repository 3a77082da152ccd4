// Reading what a client sent: the JSON body (tolerant of missing bodies and
// content types, strict about what is inside), path identifiers and fields.
import { parseUserId, isValidServerName } from '@membrane/events';
import { MatrixError } from '@membrane/matrix-errors';

export type JsonObject = { [key: string]: unknown };

const MAX_ID_BYTES = 255;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The request body as a JSON object. No body, an empty body or only
 * whitespace is `{}` (clients differ here); anything else must be a JSON
 * object in UTF-8, whatever the Content-Type says.
 */
export function parseJsonObjectBody(raw: Uint8Array | undefined): JsonObject {
  if (raw === undefined || raw.length === 0) return {};
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw MatrixError.notJson('Content is not valid UTF-8');
  }
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw MatrixError.notJson('Content not JSON.');
  }
  // Valid JSON of the wrong shape is the spec's M_BAD_JSON (as Synapse answers); M_NOT_JSON is for text that is not JSON.
  if (!isJsonObject(value)) throw MatrixError.badJson('Content must be a JSON object.');
  return value;
}

/** An optional string field: absent is undefined, anything but a string is 400 M_BAD_JSON. */
export function optionalString(body: JsonObject, key: string): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw MatrixError.badJson(`"${key}" must be a string`);
  return value;
}

export function optionalBoolean(body: JsonObject, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw MatrixError.badJson(`"${key}" must be a boolean`);
  return value;
}

export function requiredString(body: JsonObject, key: string): string {
  if (body[key] === undefined) throw MatrixError.missingParam(`Missing parameter: ${key}`);
  return optionalString(body, key) as string;
}

function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

export function isUserId(value: string): boolean {
  return byteLength(value) <= MAX_ID_BYTES && parseUserId(value) !== undefined;
}

/** A required user ID field (`user_id` of invite, kick, ban, unban). */
export function requiredUserId(body: JsonObject, key: string): string {
  const value = requiredString(body, key);
  if (!isUserId(value)) throw MatrixError.invalidParam(`"${key}" is not a valid user ID: ${value}`);
  return value;
}

/** A room ID from the path: `!` and at most 255 bytes (v12 IDs have no server part). */
export function roomIdParam(value: string): string {
  if (!value.startsWith('!') || value.length < 2 || byteLength(value) > MAX_ID_BYTES) {
    throw MatrixError.invalidParam(`Not a valid room ID: ${value}`);
  }
  return value;
}

export function roomIdOrAliasParam(value: string): string {
  if (value.startsWith('#')) {
    if (value.length < 2 || byteLength(value) > MAX_ID_BYTES) throw MatrixError.invalidParam(`Not a valid room alias: ${value}`);
    return value;
  }
  if (!value.startsWith('!')) throw MatrixError.invalidParam(`${value} was not a legal room ID or room alias`);
  return roomIdParam(value);
}

export function userIdParam(value: string): string {
  if (!isUserId(value)) throw MatrixError.invalidParam(`Not a valid user ID: ${value}`);
  return value;
}

/** Every value of a repeatable query parameter (`?via=a&via=b`). */
export function queryValues(query: Readonly<Record<string, unknown>>, key: string): string[] {
  const value = query[key];
  if (value === undefined) return [];
  const values = Array.isArray(value) ? value : [value];
  return values.filter((v): v is string => typeof v === 'string');
}

export function optionalQueryValue(query: Readonly<Record<string, unknown>>, key: string): string | undefined {
  return queryValues(query, key)[0];
}

/** The servers to join through: `via`, or the older `server_name` when `via` is absent (as Synapse reads them). */
export function joinServers(query: Readonly<Record<string, unknown>>): string[] {
  const via = queryValues(query, 'via');
  const servers = via.length > 0 ? via : queryValues(query, 'server_name');
  for (const server of servers) {
    if (!isValidServerName(server)) throw MatrixError.invalidParam(`Not a valid server name: ${server}`);
  }
  return [...new Set(servers)];
}
