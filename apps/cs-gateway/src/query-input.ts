// Reading query parameters the way Synapse does: integers and booleans are
// strict (`true` / `false` only), JSON parameters must parse, and a bad value
// is 400 naming the parameter.
import { MatrixError } from '@membrane/matrix-errors';
import { optionalQueryValue } from './request-input.js';

type Query = Readonly<Record<string, unknown>>;

/** A non-negative integer parameter; absent is undefined. */
export function optionalIntegerQuery(query: Query, key: string): number | undefined {
  const value = optionalQueryValue(query, key);
  if (value === undefined) return undefined;
  const number = /^[0-9]{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number)) throw MatrixError.invalidParam(`Query parameter "${key}" must be a non-negative integer`);
  return number;
}

export function optionalBooleanQuery(query: Query, key: string): boolean | undefined {
  const value = optionalQueryValue(query, key);
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') throw MatrixError.invalidParam(`Boolean query parameter "${key}" must be one of ["true", "false"]`);
  return value === 'true';
}

/** One of the allowed values; absent is undefined. */
export function optionalEnumQuery<T extends string>(query: Query, key: string, allowed: readonly T[]): T | undefined {
  const value = optionalQueryValue(query, key);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw MatrixError.invalidParam(`Query parameter "${key}" must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** A JSON object parameter (e.g. `filter`); 400 M_NOT_JSON when it does not parse, M_BAD_JSON when it is not an object. */
export function optionalJsonQuery(query: Query, key: string): Record<string, unknown> | undefined {
  const value = optionalQueryValue(query, key);
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw MatrixError.notJson(`Query parameter "${key}" must be a valid JSON object`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw MatrixError.badJson(`Query parameter "${key}" must be a valid JSON object`);
  return parsed as Record<string, unknown>;
}
