// Configuration of the membership service: YAML file + MEMBRANE_MEMBERSHIP_*
// environment variables, validated here. Defaults run on one machine.
import { join } from 'node:path';
import { z } from 'zod';
import { SUPPORTED_ROOM_VERSIONS, DEFAULT_ROOM_VERSION, isValidServerName } from '@membrane/events';
import { loadConfig, stringChoice } from '@membrane/config';

export const CONFIG_SCHEMA = z.strictObject({
  /** This homeserver's name, as in user IDs (`@alice:<serverName>`). */
  serverName: z.string().refine(isValidServerName, 'must be a valid Matrix server name').default('localhost:8448'),
  /** Where the SQLite file and a generated signing key live. */
  dataDir: z.string().min(1).default('.data'),
  /** Synapse-format signing key file; generated on first start when missing. Default: <dataDir>/signing.key */
  signingKeyPath: z.string().min(1).optional(),
  database: z
    .discriminatedUnion('engine', [
      z.strictObject({ engine: z.literal('sqlite'), path: z.string().min(1).optional() }),
      z.strictObject({ engine: z.literal('postgres'), url: z.string().url(), schema: z.string().min(1).optional(), poolSize: z.number().int().positive().optional() }),
    ])
    .default({ engine: 'sqlite' }),
  grpc: z.strictObject({ listen: z.string().min(1).default('127.0.0.1:50051') }).prefault({}),
  defaultRoomVersion: stringChoice(SUPPORTED_ROOM_VERSIONS as [string, ...string[]]).default(DEFAULT_ROOM_VERSION),
  /**
   * Leaving a room (or rejecting an invite) also forgets it, in the same
   * transaction; clients learn it from `m.forget_forced_upon_leave`.
   */
  forgetRoomsOnLeave: z.boolean().default(false),
  /** The federation gateway's RemoteMembershipService, for leaving rooms on other servers. */
  remote: z.strictObject({ address: z.string().min(1), deadlineMs: z.number().int().positive().default(60_000) }).optional(),
  /** Prometheus `/metrics` on its own HTTP port; off unless a port is set (0 picks a free one). */
  metrics: z.strictObject({ host: z.string().min(1).default('127.0.0.1'), port: z.number().int().min(0).max(65_535).optional() }).prefault({}),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How long SIGTERM waits for calls in flight. */
  shutdownGraceMs: z.number().int().nonnegative().default(10_000),
});

export type MembershipServiceConfig = z.output<typeof CONFIG_SCHEMA>;

export const ENV_PREFIX = 'MEMBRANE_MEMBERSHIP_';

export function loadMembershipServiceConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): MembershipServiceConfig {
  return loadConfig(CONFIG_SCHEMA, { file, env, envPrefix: ENV_PREFIX });
}

export function signingKeyPathOf(config: MembershipServiceConfig): string {
  return config.signingKeyPath ?? join(config.dataDir, 'signing.key');
}

export function sqlitePathOf(config: MembershipServiceConfig): string {
  return config.database.engine === 'sqlite' ? (config.database.path ?? join(config.dataDir, 'membership.sqlite')) : '';
}
