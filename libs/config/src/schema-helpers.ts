// zod building blocks for app config schemas.
import { z } from 'zod';

/**
 * One of fixed string values that may look like numbers (room versions such
 * as `10`): YAML and environment variables give those as numbers, so they are
 * turned back into strings before the choice is checked.
 */
export function stringChoice(values: readonly [string, ...string[]]) {
  return z.coerce.string().pipe(z.enum(values));
}
