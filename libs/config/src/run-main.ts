// The command line every app shares: `--config FILE`, `--help`, a JSON logger,
// SIGTERM/SIGINT → graceful stop → exit 0 (a second signal exits at once),
// and exit code 2 with the message alone for configuration errors.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { appLoggerOptions } from '@membrane/observability';
import { ConfigError } from './load-config.js';

export interface AppMainSpec<Config extends { readonly logLevel: string }> {
  /** Name in logs and messages, e.g. `membership-service`. */
  readonly name: string;
  readonly help: string;
  load(file: string | undefined): Config;
  start(config: Config, logger: Logger): Promise<{ stop(): Promise<void> }>;
  /** Other errors that mean "the operator must fix something" (exit 2, message only). */
  readonly isUsageError?: (err: unknown) => boolean;
}

export function runAppMain<Config extends { readonly logLevel: string }>(spec: AppMainSpec<Config>): void {
  main(spec).catch((err: unknown) => {
    if (err instanceof ConfigError || spec.isUsageError?.(err) === true) {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${spec.name} failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

async function main<Config extends { readonly logLevel: string }>(spec: AppMainSpec<Config>): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help === true) {
    process.stdout.write(spec.help);
    return;
  }
  const config = spec.load(values.config);
  // Redacts tokens, passwords and keys wherever they appear in log fields.
  const logger = pino(appLoggerOptions(spec.name, config.logLevel));
  const app = await spec.start(config, logger);
  let signals = 0;
  const stop = (signal: string): void => {
    signals += 1;
    if (signals > 1) process.exit(1);
    logger.info({ signal }, 'shutting down');
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
