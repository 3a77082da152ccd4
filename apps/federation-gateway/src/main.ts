// CLI of the federation gateway: `federation-gateway [--config file.yaml]`.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ConfigError } from '@membrane/config';
import { ENV_PREFIX, loadFederationGatewayConfig } from './config.js';
import { startFederationGateway } from './app.js';

const HELP = `Usage: federation-gateway [--config FILE]

The Matrix federation API of this homeserver: publishes the server keys,
authenticates other servers (X-Matrix), checks their events and hands them to
the membership service over gRPC.

Options:
  -c, --config FILE   YAML configuration (see docs/federation-gateway.md)
  -h, --help          show this help

Every setting can also be given as an environment variable with the prefix
${ENV_PREFIX}, levels separated by "__", e.g. ${ENV_PREFIX}TLS__CERT_FILE=/etc/tls/cert.pem.
`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help === true) {
    process.stdout.write(HELP);
    return;
  }
  const config = loadFederationGatewayConfig(values.config);
  const logger = pino({ level: config.logLevel, base: { app: 'federation-gateway' } });
  const gateway = await startFederationGateway(config, logger);
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
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`federation-gateway failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
