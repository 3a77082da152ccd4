// CLI of the CS gateway: `cs-gateway [--config file.yaml]`.
import { parseArgs } from 'node:util';
import { ConfigError } from '@membrane/config';
import { createAppLogger } from '@membrane/observability';
import { UserStoreError } from '@membrane/user-store';
import { ENV_PREFIX, loadCsGatewayConfig } from './config.js';
import { startCsGateway } from './app.js';

const HELP = `Usage: cs-gateway [--config FILE]

The Matrix Client-Server API in front of the membership service: login,
room membership (create, join, invite, leave, forget, kick, ban, unban) and
the reads around it, over HTTP.

Options:
  -c, --config FILE   YAML configuration (see docs/cs-gateway.md)
  -h, --help          show this help

Every setting can also be given as an environment variable with the prefix
${ENV_PREFIX}, levels separated by "__", e.g. ${ENV_PREFIX}MEMBERSHIP__ADDRESS=127.0.0.1:50051.

Users: node --import tsx tools/admin/src/main.ts create-user alice --password ...
`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help === true) {
    process.stdout.write(HELP);
    return;
  }
  const config = loadCsGatewayConfig(values.config);
  const logger = createAppLogger({ app: 'cs-gateway', level: config.logLevel });
  const gateway = await startCsGateway(config, logger);
  let signals = 0;
  const stop = (signal: string): void => {
    signals += 1;
    if (signals > 1) process.exit(1);
    logger.info({ signal }, 'shutting down');
    gateway.stop().then(
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
  if (err instanceof ConfigError || err instanceof UserStoreError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`cs-gateway failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
