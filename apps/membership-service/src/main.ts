// CLI of the membership service: `membership-service [--config file.yaml]`.
import { runAppMain } from '@membrane/config';
import { ENV_PREFIX, loadMembershipServiceConfig } from './config.js';
import { startMembershipService } from './app.js';

const HELP = `Usage: membership-service [--config FILE]

The single writer of room state: membership verbs over gRPC, SQLite by default.

Options:
  -c, --config FILE   YAML configuration (every key: docs/configuration.md)
  -h, --help          show this help

Every setting can also be given as an environment variable with the prefix
${ENV_PREFIX}, levels separated by "__", e.g. ${ENV_PREFIX}DATABASE__ENGINE=postgres.
`;

runAppMain({ name: 'membership-service', help: HELP, load: loadMembershipServiceConfig, start: startMembershipService });
