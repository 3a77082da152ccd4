// CLI of the CS gateway: `cs-gateway [--config file.yaml]`.
import { runAppMain } from '@membrane/config';
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

runAppMain({
  name: 'cs-gateway',
  help: HELP,
  load: loadCsGatewayConfig,
  start: startCsGateway,
  // A user store made for another server name is an operator mistake, like a bad setting.
  isUsageError: (err) => err instanceof UserStoreError,
});
