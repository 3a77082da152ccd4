// Reads a member of parsed JSON without ever reaching the prototype chain
// (a peer may send keys such as "__proto__" or "constructor").

import type { JsonObject, JsonValue } from '@membrane/canonical-json';

export function ownMember(object: JsonObject, name: string): JsonValue | undefined {
  return Object.prototype.hasOwnProperty.call(object, name) ? object[name] : undefined;
}
