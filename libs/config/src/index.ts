export { loadConfig, validateConfig, applyEnvOverrides, envNameToPath, ConfigError } from './load-config.js';
export type { LoadConfigOptions } from './load-config.js';
export { loadOrCreateSigningKey } from './signing-key-file.js';
export type { LoadedSigningKey } from './signing-key-file.js';
export { runAppMain } from './run-main.js';
export type { AppMainSpec } from './run-main.js';
export { configKeys, envNameOf, renderConfigReference } from './config-reference.js';
export type { ConfigKey } from './config-reference.js';
