// A configuration reference generated from an app's zod schema: every key
// with its type, default and environment variable, as a Markdown table.
import { z } from 'zod';

export interface ConfigKey {
  /** Dotted path, e.g. `database.poolSize`. */
  readonly path: string;
  readonly type: string;
  /** JSON of the default, when there is one. */
  readonly defaultValue?: string;
  readonly env: string;
}

type JsonSchema = {
  readonly type?: string | readonly string[];
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly oneOf?: readonly JsonSchema[];
  readonly anyOf?: readonly JsonSchema[];
  readonly items?: JsonSchema;
  readonly additionalProperties?: boolean | JsonSchema;
};

/** `poolSize` → `POOL_SIZE`; levels joined by `__` (the inverse of `envNameToPath`). */
export function envNameOf(prefix: string, path: readonly string[]): string {
  return prefix + path.map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__');
}

function variants(node: JsonSchema): readonly JsonSchema[] {
  return node.oneOf ?? node.anyOf ?? [];
}

function typeOf(node: JsonSchema): string {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.enum !== undefined) return node.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  const alternatives = variants(node);
  if (alternatives.length > 0) return [...new Set(alternatives.map(typeOf))].join(' \\| ');
  if (node.type === 'array') return `list of ${node.items === undefined ? 'values' : typeOf(node.items)}`;
  if (node.type === 'object' && node.properties === undefined) return 'map';
  return Array.isArray(node.type) ? node.type.join(' \\| ') : (node.type as string | undefined) ?? 'any';
}

/** Every leaf key of the schema (object alternatives are merged), in schema order. */
export function configKeys(schema: z.ZodType, envPrefix: string): ConfigKey[] {
  const root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  // A value converted before it is checked (e.g. `10` → "10") is a bare string
  // on the input side; the output side still lists the allowed values.
  const outputEnums = new Map<string, readonly unknown[]>();
  const collectEnums = (node: JsonSchema, path: string[]): void => {
    for (const object of [node, ...variants(node)]) {
      for (const [name, child] of Object.entries(object.properties ?? {})) collectEnums(child, [...path, name]);
    }
    if (node.enum !== undefined) outputEnums.set(path.join('.'), node.enum);
  };
  collectEnums(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema, []);
  const keys = new Map<string, ConfigKey>();
  const walk = (input: JsonSchema, path: string[]): void => {
    const outputEnum = outputEnums.get(path.join('.'));
    const node: JsonSchema = input.type === 'string' && input.enum === undefined && outputEnum !== undefined ? { ...input, enum: outputEnum } : input;
    const objects = [node, ...variants(node)].filter((n) => n.properties !== undefined);
    if (objects.length > 0) {
      for (const object of objects) {
        for (const [name, child] of Object.entries(object.properties ?? {})) {
          const childPath = [...path, name];
          const merged: JsonSchema = child.default === undefined && node.default !== undefined && typeof node.default === 'object' && node.default !== null && name in node.default
            ? { ...child, default: (node.default as Record<string, unknown>)[name] }
            : child;
          walk(merged, childPath);
        }
      }
      return;
    }
    const key = path.join('.');
    const existing = keys.get(key);
    const type = existing === undefined ? typeOf(node) : [...new Set([...existing.type.split(' \\| '), typeOf(node)])].join(' \\| ');
    keys.set(key, {
      path: key,
      type,
      env: envNameOf(envPrefix, path),
      ...(node.default === undefined ? (existing?.defaultValue === undefined ? {} : { defaultValue: existing.defaultValue }) : { defaultValue: JSON.stringify(node.default) }),
    });
  };
  walk(root, []);
  return [...keys.values()];
}

/** The Markdown section of one app. */
export function renderConfigReference(app: string, envPrefix: string, schema: z.ZodType): string {
  const rows = configKeys(schema, envPrefix).map((k) => `| \`${k.path}\` | ${k.type} | ${k.defaultValue === undefined ? '' : `\`${k.defaultValue}\``} | \`${k.env}\` |`);
  return [`## ${app}`, '', `Environment variables start with \`${envPrefix}\`; lists and maps are given as JSON.`, '', '| key | type | default | environment |', '|---|---|---|---|', ...rows, ''].join('\n');
}
