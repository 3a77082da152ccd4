// Configuration of the federation gateway: YAML file + MEMBRANE_FED_*
// environment variables, validated here. Defaults run on one machine beside
// a membership service with the default data directory (same signing key).
import { join } from 'node:path';
import { z } from 'zod';
import { isValidServerName } from '@membrane/events';
import { decodeBase64, ED25519_PUBLIC_KEY_LENGTH } from '@membrane/signing';
import { loadConfig } from '@membrane/config';

const isEd25519PublicKey = (text: string): boolean => {
  try {
    return decodeBase64(text).length === ED25519_PUBLIC_KEY_LENGTH;
  } catch {
    return false;
  }
};

const oldVerifyKey = z.strictObject({
  /** e.g. `ed25519:a_old1`. */
  keyId: z.string().regex(/^ed25519:[A-Za-z0-9_]+$/, 'must look like ed25519:<version>'),
  /** The public key, unpadded Base64. */
  publicKey: z.string().refine(isEd25519PublicKey, 'must be a Base64 ed25519 public key'),
  /** When this server stopped using the key, ms since the epoch. */
  expiredTs: z.number().int().nonnegative(),
});

export const CONFIG_SCHEMA = z
  .strictObject({
    /** This homeserver's name; must equal the membership service's `serverName`. */
    serverName: z.string().refine(isValidServerName, 'must be a valid Matrix server name').default('localhost:8448'),
    /** `host:port` the HTTP(S) server binds; port 0 picks a free one. */
    listen: z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[^:\s]+):\d{1,5}$/, 'must be host:port').default('127.0.0.1:8448'),
    /** Where a generated TLS certificate (and, by default, the signing key) live. */
    dataDir: z.string().min(1).default('.data'),
    /** The membership service's signing key file (Synapse format). Default: <dataDir>/signing.key */
    signingKeyPath: z.string().min(1).optional(),
    tls: z
      .strictObject({
        /** false: plain HTTP, for running behind a TLS-terminating proxy. */
        enabled: z.boolean().default(true),
        /** PEM certificate chain and key; both or neither. Neither: a self-signed certificate in <dataDir>/tls. */
        certFile: z.string().min(1).optional(),
        keyFile: z.string().min(1).optional(),
        /** Extra PEM CA certificates trusted (beside the system's) when connecting to other servers. */
        caFile: z.string().min(1).optional(),
      })
      .refine((tls) => (tls.certFile === undefined) === (tls.keyFile === undefined), { message: 'certFile and keyFile go together', path: ['certFile'] })
      .prefault({}),
    membership: z
      .strictObject({
        /** gRPC address of the membership service. */
        address: z.string().min(1).default('127.0.0.1:50051'),
        deadlineMs: z.number().int().positive().default(10_000),
      })
      .prefault({}),
    grpc: z
      .strictObject({
        /** `host:port` of the RemoteMembershipService the membership service calls; port 0 picks one. */
        listen: z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[^:\s]+):\d{1,5}$/, 'must be host:port').default('127.0.0.1:50052'),
      })
      .prefault({}),
    outbound: z
      .strictObject({
        /** Bound of one outbound federation request. */
        requestTimeoutMs: z.number().int().positive().default(30_000),
        /** Bound of a whole remote join / leave over all candidate servers. */
        operationTimeoutMs: z.number().int().positive().default(120_000),
        /** Candidate servers asked at most per remote join / leave. */
        maxServers: z.number().int().positive().default(10),
        /** After a destination failed, requests that respect backoff wait initialMs, doubling up to maxMs. */
        backoffInitialMs: z.number().int().positive().default(2_000),
        backoffMaxMs: z.number().int().positive().default(60 * 60 * 1000),
      })
      .prefault({}),
    sender: z
      .strictObject({
        /** false: do not drain the outbox (another replica does). */
        enabled: z.boolean().default(true),
        /** Destinations served at the same time. */
        concurrency: z.number().int().min(1).max(64).default(4),
        /** The outbox is checked this often even without NotifyOutbox. */
        pollIntervalMs: z.number().int().positive().default(5_000),
        /** Retry delays of a destination's undelivered transaction: initialMs doubling per attempt up to maxMs. */
        retryInitialMs: z.number().int().positive().default(5_000),
        retryMaxMs: z.number().int().positive().default(4 * 60 * 60 * 1000),
        /** How long claimed outbox entries stay leased to this sender. */
        leaseMs: z.number().int().positive().default(120_000),
      })
      .prefault({}),
    keys: z
      .strictObject({
        /** How far in the future our key document's `valid_until_ts` lies. The spec asks for at least an hour. */
        validityPeriodMs: z.number().int().min(60 * 60 * 1000).default(24 * 60 * 60 * 1000),
        /** Keys this server used before, published in `old_verify_keys`. */
        oldVerifyKeys: z.array(oldVerifyKey).default([]),
      })
      .prefault({}),
    keyFetch: z
      .strictObject({
        /** Bound of one `/_matrix/key/v2/server` fetch. */
        timeoutMs: z.number().int().positive().default(10_000),
        /** After a fetch that failed or lacked the wanted key, the server is not asked again for this long. */
        retryAfterFailureMs: z.number().int().nonnegative().default(30_000),
        /**
         * Notaries asked through /_matrix/key/v2/query when a server cannot be
         * reached, in order; each answer must be signed by one of its keys here
         * (key ID → unpadded base64 ed25519 key). None by default.
         */
        notaries: z
          .array(z.strictObject({ serverName: z.string().refine(isValidServerName, 'must be a valid server name'), verifyKeys: z.record(z.string(), z.string().min(1)) }))
          .default([]),
      })
      .prefault({}),
    /** Largest accepted request body (a /send transaction holds up to 50 PDUs of 64 KiB). */
    maxBodyBytes: z.number().int().positive().default(8 * 1024 * 1024),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** How long SIGTERM waits for requests in flight. */
    shutdownGraceMs: z.number().int().nonnegative().default(10_000),
    /** Prometheus `/metrics` on its own HTTP port; off unless a port is set (0 picks a free one). */
    metrics: z.strictObject({ host: z.string().min(1).default('127.0.0.1'), port: z.number().int().min(0).max(65_535).optional() }).prefault({}),
  });

export type FederationGatewayConfig = z.output<typeof CONFIG_SCHEMA>;

export const ENV_PREFIX = 'MEMBRANE_FED_';

export function loadFederationGatewayConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): FederationGatewayConfig {
  return loadConfig(CONFIG_SCHEMA, { file, env, envPrefix: ENV_PREFIX });
}

export function signingKeyPathOf(config: FederationGatewayConfig): string {
  return config.signingKeyPath ?? join(config.dataDir, 'signing.key');
}

/** Host and port of `listen`; brackets of an IPv6 host are removed. */
export function listenAddressOf(config: FederationGatewayConfig): { host: string; port: number } {
  const colon = config.listen.lastIndexOf(':');
  const host = config.listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(config.listen.slice(colon + 1)) };
}

