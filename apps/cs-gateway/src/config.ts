// Configuration of the CS gateway: YAML file + MEMBRANE_CS_* environment
// variables, validated here. Defaults run on one machine beside a membership
// service with its defaults.
import { z } from 'zod';
import { DEFAULT_ROOM_VERSION, SUPPORTED_ROOM_VERSIONS, isValidServerName } from '@membrane/events';
import { loadConfig, stringChoice } from '@membrane/config';
import { defaultUserStorePath } from '@membrane/user-store';

// Environment values such as "0.5" arrive as strings; YAML gives numbers.
const rate = z.coerce.number().positive();

const bucket = z.strictObject({
  /** Tokens added per second. */
  perSecond: rate,
  /** Bucket size: how many requests may come at once after a quiet time. */
  burst: z.number().int().positive(),
});

export const CONFIG_SCHEMA = z.strictObject({
  /** This homeserver's name; must equal the membership service's. */
  serverName: z.string().refine(isValidServerName, 'must be a valid Matrix server name').default('localhost:8448'),
  /** Where the user store lives (auth.type "store"). */
  dataDir: z.string().min(1).default('.data'),
  listen: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      /** 0 picks a free port (the ready log line tells which). */
      port: z.number().int().min(0).max(65_535).default(8008),
    })
    .prefault({}),
  /** Express "trust proxy": set it when a reverse proxy sits in front, so client addresses are right. */
  trustProxy: z.union([z.boolean(), z.number().int().nonnegative(), z.string().min(1)]).default(false),
  membership: z
    .strictObject({
      /** gRPC address of the membership service. */
      address: z.string().min(1).default('127.0.0.1:50051'),
      deadlineMs: z.number().int().positive().default(10_000),
    })
    .prefault({}),
  auth: z
    .discriminatedUnion('type', [
      z.strictObject({
        /** Users and tokens from the gateway's own store (created with tools/admin). */
        type: z.literal('store'),
        /** Default: <dataDir>/users.sqlite */
        path: z.string().min(1).optional(),
      }),
      z.strictObject({
        /** Tokens checked by an existing homeserver's /account/whoami. */
        type: z.literal('upstream'),
        /** e.g. http://synapse:8008 */
        baseUrl: z.url({ protocol: /^https?$/ }),
        /** How long a verified token is believed without asking again. */
        cacheTtlMs: z.number().int().nonnegative().default(30_000),
        /** How long an unknown token is remembered as unknown. */
        negativeCacheTtlMs: z.number().int().nonnegative().default(5_000),
        cacheMaxEntries: z.number().int().positive().default(10_000),
        timeoutMs: z.number().int().positive().default(5_000),
      }),
    ])
    .default({ type: 'store' }),
  limits: z
    .strictObject({
      /** Request bodies above this many bytes are refused with 413 M_TOO_LARGE. */
      maxBodyBytes: z.number().int().positive().default(65_536),
    })
    .prefault({}),
  rateLimit: z
    .strictObject({
      /** Per user: join, leave, invite, kick, ban, unban, forget, createRoom. Defaults as Synapse's rc_joins.local. */
      membership: z
        .strictObject({
          perSecond: rate.default(0.1),
          burst: z.number().int().positive().default(10),
          exemptUsers: z.array(z.string().min(1)).default([]),
          /** Per-user buckets, keyed by user ID. */
          overrides: z.record(z.string().min(1), bucket).default({}),
        })
        .prefault({}),
      /** Per client address, for POST /login. Defaults as Synapse's rc_login.address. */
      login: z
        .strictObject({
          perSecond: rate.default(0.003),
          burst: z.number().int().positive().default(5),
        })
        .prefault({}),
    })
    .prefault({}),
  /** What /createRoom uses without `room_version`, and what /capabilities calls the default. */
  defaultRoomVersion: stringChoice(SUPPORTED_ROOM_VERSIONS as [string, ...string[]]).default(DEFAULT_ROOM_VERSION),
  metrics: z
    .strictObject({
      /** Serve Prometheus metrics at /metrics. */
      enabled: z.boolean().default(true),
      /** Absent: /metrics on the client port. Set: /metrics only on this port (0 picks a free one), not on the client port. */
      port: z.number().int().min(0).max(65_535).optional(),
      /** Host of the separate metrics port; default: listen.host. */
      host: z.string().min(1).optional(),
    })
    .prefault({}),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How long SIGTERM waits for requests in flight. */
  shutdownGraceMs: z.number().int().nonnegative().default(10_000),
  /**
   * After SIGTERM, how long the port stays open answering new requests with
   * 503 (and /readyz with 503) before it closes, so that load balancers stop
   * sending first. Behind Kubernetes, a few seconds.
   */
  shutdownDrainDelayMs: z.number().int().nonnegative().default(0),
});

export type CsGatewayConfig = z.output<typeof CONFIG_SCHEMA>;

export const ENV_PREFIX = 'MEMBRANE_CS_';

export function loadCsGatewayConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): CsGatewayConfig {
  return loadConfig(CONFIG_SCHEMA, { file, env, envPrefix: ENV_PREFIX });
}

export function userStorePathOf(config: CsGatewayConfig): string | undefined {
  return config.auth.type === 'store' ? (config.auth.path ?? defaultUserStorePath(config.dataDir)) : undefined;
}
