// Typed configuration for every app: defaults from the schema, then a YAML
// file, then environment variables, validated once by a zod schema. A bad
// value is reported with the dotted key that holds it.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** Path of a YAML file; optional. */
  readonly file?: string | undefined;
  /** Environment to read overrides from (defaults to process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Prefix of environment overrides. `MEMBRANE_DATABASE__URL=x` sets
   * `database.url` (double underscore separates levels; names are
   * case-insensitive and single underscores map to camelCase).
   */
  readonly envPrefix?: string;
}

type Tree = Record<string, unknown>;

export function loadConfig<S extends z.ZodType>(schema: S, options: LoadConfigOptions = {}): z.output<S> {
  const fromFile = options.file === undefined ? {} : readYamlFile(options.file);
  const merged = applyEnvOverrides(fromFile, options.env ?? process.env, options.envPrefix ?? 'MEMBRANE_');
  return validateConfig(schema, merged, options.file);
}

export function validateConfig<S extends z.ZodType>(schema: S, raw: unknown, source?: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.length === 0 ? '(top level)' : issue.path.map(String).join('.');
    return `  ${key}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration${source === undefined ? '' : ` in ${source}`}:\n${problems.join('\n')}`);
}

function readYamlFile(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a mapping at the top level`);
  }
  return parsed as Tree;
}

/** `database__pool_size` → ['database', 'poolSize']. */
export function envNameToPath(name: string): string[] {
  return name
    .toLowerCase()
    .split('__')
    .map((part) => part.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
}

/** Environment values are strings; numbers and booleans are recognised so zod sees the right type. */
function coerceEnvValue(value: string): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^-?\d+$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
  if (value.startsWith('[') || value.startsWith('{')) {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  return value;
}

export function applyEnvOverrides(base: Tree, env: NodeJS.ProcessEnv, prefix: string): Tree {
  const out: Tree = structuredClone(base);
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith(prefix) || name.length === prefix.length) continue;
    const path = envNameToPath(name.slice(prefix.length));
    let node = out;
    for (const key of path.slice(0, -1)) {
      const child = node[key];
      if (typeof child !== 'object' || child === null || Array.isArray(child)) node[key] = {};
      node = node[key] as Tree;
    }
    node[path[path.length - 1] as string] = coerceEnvValue(value);
  }
  return out;
}
