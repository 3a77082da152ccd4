// Small helpers over parsed JSON values.
import type { JsonObject, JsonValue } from '@membrane/canonical-json';
import type { EventLike } from './types.js';

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Sets an own property. A `__proto__` key coming from JSON.parse is an own
 * property; plain assignment would change the prototype instead.
 */
export function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Deep copy of a JSON value. */
export function cloneJson(value: JsonValue): JsonValue {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson);
  const copy: JsonObject = {};
  for (const key of Object.keys(value)) {
    const item = value[key];
    if (item !== undefined) setOwn(copy, key, cloneJson(item));
  }
  return copy;
}

/** Shallow copy of an event without the given top-level keys (and without undefined values). */
export function copyWithout(event: EventLike, omitted: readonly string[]): JsonObject {
  const copy: JsonObject = {};
  for (const key of Object.keys(event)) {
    const value = event[key];
    if (value !== undefined && !omitted.includes(key)) setOwn(copy, key, value);
  }
  return copy;
}
