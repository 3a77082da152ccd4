// Prints this app's configuration reference (Markdown) for docs/configuration.md;
// run by tools/dev/src/config-docs.ts.
import { renderConfigReference } from '@membrane/config';
import { CONFIG_SCHEMA, ENV_PREFIX } from './config.js';

process.stdout.write(renderConfigReference('federation-gateway', ENV_PREFIX, CONFIG_SCHEMA));
