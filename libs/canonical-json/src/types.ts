// The JSON data model shared by every library: what JSON.parse can produce,
// minus `undefined`. Canonical encoding further restricts numbers (see encode.ts).

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}
export type JsonArray = JsonValue[];

/**
 * True for a plain object (prototype `Object.prototype` or `null`): not an
 * array, not null, not a class instance such as Date or Map. The check is
 * shallow: member values are not inspected.
 */
export function isJsonObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
