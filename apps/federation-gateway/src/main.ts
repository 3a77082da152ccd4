// CLI of the federation gateway: `federation-gateway [--config file.yaml]`.
import { runAppMain } from '@membrane/config';
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

runAppMain({ name: 'federation-gateway', help: HELP, load: loadFederationGatewayConfig, start: startFederationGateway });
