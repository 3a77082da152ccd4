export { loadConfig, validateConfig, applyEnvOverrides, envNameToPath, ConfigError } from './load-config.js';
export type { LoadConfigOptions } from './load-config.js';
