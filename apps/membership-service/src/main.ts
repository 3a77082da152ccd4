// CLI of the membership service: `membership-service [--config file.yaml]`.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ConfigError } from '@membrane/config';
import { ENV_PREFIX, loadMembershipServiceConfig } from './config.js';
import { startMembershipService } from './app.js';

const HELP = `Usage: membership-service [--config FILE]

The single writer of room state: membership verbs over gRPC, SQLite by default.

Options:
  -c, --config FILE   YAML configuration (see docs/configuration.md)
  -h, --help          show this help

Every setting can also be given as an environment variable with the prefix
${ENV_PREFIX}, levels separated by "__", e.g. ${ENV_PREFIX}DATABASE__ENGINE=postgres.
`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help === true) {
    process.stdout.write(HELP);
    return;
  }
  const config = loadMembershipServiceConfig(values.config);
  const logger = pino({ level: config.logLevel, base: { app: 'membership-service' } });
  const service = await startMembershipService(config, logger);
  let signals = 0;
  const stop = (signal: string): void => {
    signals += 1;
    if (signals > 1) process.exit(1);
    logger.info({ signal }, 'shutting down');
    service.stop().then(
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

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`membership-service failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
