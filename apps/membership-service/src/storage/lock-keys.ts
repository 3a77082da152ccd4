// Keys of the PostgreSQL advisory locks. The two-integer form keeps our locks
// apart from other users of the database: the first integer names what is
// locked, the second is a hash of the schema and the object, so deployments
// in different schemas of one database never wait for each other. A hash
// collision only makes two rooms share a queue now and then; it is never
// unsafe.

import { createHash } from 'node:crypto';

export const LOCK_NAMESPACE = {
  migrations: 0x6d620001,
  room: 0x6d620002,
  stream: 0x6d620003,
  destination: 0x6d620004,
} as const;

/** A signed 32-bit integer from the first bytes of SHA-256 over the parts. */
export function lockKey(...parts: readonly string[]): number {
  return createHash('sha256').update(parts.join('\u0000'), 'utf8').digest().readInt32BE(0);
}
