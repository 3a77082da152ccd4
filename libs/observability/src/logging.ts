// pino settings every app shares: JSON lines, an `app` field, and redaction
// of credentials (access tokens, Authorization headers, passwords, keys)
// wherever a log call might carry them.
import type { IncomingMessage } from 'node:http';
import { pino, stdSerializers } from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';

export const REDACTED = '[redacted]';

/** Field names whose values are credentials, at any of the depths listed in `REDACT_PATHS`. */
export const SECRET_FIELDS = [
  'authorization',
  'Authorization',
  'cookie',
  'access_token',
  'accessToken',
  'refresh_token',
  'refreshToken',
  'token',
  'password',
  'new_password',
  'passwordHash',
  'signingKey',
  'signing_key',
  'privateKey',
  'private_key',
  'secretKey',
  'seed',
  'secret',
] as const;

// fast-redact wildcards match one level, so each name is listed at the depths
// log calls use: top level, in an object (`user.password`), and in a request's
// headers, body or query (`req.headers.authorization`, `req.body.auth.password`).
export const REDACT_PATHS: readonly string[] = SECRET_FIELDS.flatMap((name) => [
  name,
  `*.${name}`,
  `*.*.${name}`,
  `*.*.*.${name}`,
]);

export const redactOptions: { paths: string[]; censor: string } = { paths: [...REDACT_PATHS], censor: REDACTED };

const TOKEN_IN_QUERY = /([?&](?:access_token|token|password)=)[^&#]*/gi;

/** A URL or path with credentials in its query string replaced (`?access_token=...` is a legal way to authenticate). */
export function scrubUrl(url: string): string {
  return url.replace(TOKEN_IN_QUERY, `$1${REDACTED}`);
}

function isIncomingMessage(value: object): value is IncomingMessage {
  return 'socket' in value && 'headers' in value;
}

/** A request as logged: pino's standard shape for node requests, and in both cases a URL without credentials. */
function requestForLog(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const shaped = (isIncomingMessage(value) ? stdSerializers.req(value) : { ...value }) as Record<string, unknown>;
  for (const key of ['url', 'path', 'originalUrl']) {
    const field = shaped[key];
    if (typeof field === 'string') shaped[key] = scrubUrl(field);
  }
  return shaped;
}

export interface AppLoggerOptions {
  readonly app: string;
  readonly level?: string;
  /** Default: stdout. */
  readonly destination?: DestinationStream;
}

/** The options `createAppLogger` uses, for apps that build their pino logger themselves. */
export function appLoggerOptions(app: string, level = 'info'): LoggerOptions {
  return {
    level,
    base: { app },
    redact: redactOptions,
    serializers: { err: stdSerializers.err, req: requestForLog },
    formatters: {
      log: (record) => {
        for (const key of ['url', 'path', 'originalUrl']) {
          const value = record[key];
          if (typeof value === 'string') record[key] = scrubUrl(value);
        }
        return record;
      },
    },
  };
}

export function createAppLogger(options: AppLoggerOptions): Logger {
  const settings = appLoggerOptions(options.app, options.level);
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}
