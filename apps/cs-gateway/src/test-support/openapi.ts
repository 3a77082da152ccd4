// Checks answers against docs/openapi/cs-gateway.yaml: finds the operation of
// a request, the documented response for its status, and validates headers
// and body against the JSON Schema subset the document uses ($ref, allOf,
// oneOf, anyOf, not, type, properties, required, additionalProperties, items,
// enum, const, pattern, minimum, minLength).
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

type Schema = { readonly [key: string]: unknown };

interface Operation {
  readonly responses: Readonly<Record<string, Schema>>;
}

export interface FoundOperation {
  readonly template: string;
  readonly operation: Operation;
}

type Method = 'get' | 'post' | 'put' | 'delete';

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

export class OpenApiDocument {
  private readonly routes: { regex: RegExp; template: string; item: Schema }[] = [];

  constructor(private readonly doc: Schema) {
    const defaultServers = (doc['servers'] as { url: string }[] | undefined) ?? [{ url: '' }];
    for (const [path, item] of Object.entries(doc['paths'] as Record<string, Schema>)) {
      const servers = (item['servers'] as { url: string }[] | undefined) ?? defaultServers;
      for (const server of servers) {
        const template = server.url.replace(/\/$/, '') + path;
        const pattern = template.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+');
        this.routes.push({ regex: new RegExp(`^${pattern}$`), template, item });
      }
    }
  }

  static load(file: string): OpenApiDocument {
    return new OpenApiDocument(parseYaml(readFileSync(file, 'utf8')) as Schema);
  }

  findOperation(method: string, rawPath: string): FoundOperation | undefined {
    const key = method.toLowerCase() as Method;
    for (const route of this.routes) {
      const operation = route.item[key] as Operation | undefined;
      if (operation !== undefined && route.regex.test(rawPath)) return { template: route.template, operation };
    }
    return undefined;
  }

  /** Problems with an answer to `method rawPath`; empty when it conforms. */
  checkResponse(method: string, rawPath: string, status: number, headers: Headers, body: unknown): string[] {
    const found = this.findOperation(method, rawPath);
    if (found === undefined) return [`${method} ${rawPath} is not in the document`];
    const responses = found.operation.responses;
    const documented = responses[String(status)] ?? responses[`${String(status)[0] ?? ''}XX`] ?? responses['default'];
    if (documented === undefined) return [`${method} ${found.template}: status ${status} is not documented`];
    const response = this.resolve(documented);
    const where = `${method} ${found.template} ${status}`;
    const problems: string[] = [];
    for (const [name, header] of Object.entries((response['headers'] as Record<string, Schema> | undefined) ?? {})) {
      const spec = this.resolve(header);
      const value = headers.get(name);
      if (value === null) {
        if (spec['required'] === true) problems.push(`${where}: header ${name} is missing`);
        continue;
      }
      const schema = spec['schema'] as Schema | undefined;
      const parsed = schema !== undefined && (schema['type'] === 'integer' || schema['type'] === 'number') && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
      if (schema !== undefined) problems.push(...this.validate(schema, parsed, `${where} header ${name}`));
    }
    const content = response['content'] as Record<string, { schema?: Schema }> | undefined;
    const json = content?.['application/json'];
    if (json !== undefined) {
      if (!(headers.get('content-type') ?? '').startsWith('application/json')) problems.push(`${where}: Content-Type is not application/json`);
      if (json.schema !== undefined) problems.push(...this.validate(json.schema, body, `${where} body`));
    }
    return problems;
  }

  /** Validates a value against a schema of the document, e.g. `#/components/schemas/Error`. */
  validate(schema: Schema, value: unknown, at = '$'): string[] {
    const s = this.resolve(schema);
    const problems: string[] = [];
    for (const part of (s['allOf'] as Schema[] | undefined) ?? []) problems.push(...this.validate(part, value, at));
    const anyOf = s['anyOf'] as Schema[] | undefined;
    if (anyOf !== undefined && !anyOf.some((part) => this.validate(part, value, at).length === 0)) problems.push(`${at}: matches none of anyOf`);
    const oneOf = s['oneOf'] as Schema[] | undefined;
    if (oneOf !== undefined) {
      const matching = oneOf.filter((part) => this.validate(part, value, at).length === 0).length;
      if (matching !== 1) problems.push(`${at}: matches ${matching} of oneOf, not exactly one`);
    }
    const not = s['not'] as Schema | undefined;
    if (not !== undefined && this.validate(not, value, at).length === 0) problems.push(`${at}: matches a schema it must not`);
    const type = s['type'];
    if (type !== undefined) {
      const types = Array.isArray(type) ? (type as string[]) : [type as string];
      if (!types.some((t) => matchesType(value, t))) return [...problems, `${at}: expected ${types.join('|')}, got ${typeOf(value)}`];
    }
    if ('const' in s && JSON.stringify(s['const']) !== JSON.stringify(value)) problems.push(`${at}: expected ${JSON.stringify(s['const'])}`);
    const enumValues = s['enum'] as unknown[] | undefined;
    if (enumValues !== undefined && !enumValues.some((e) => JSON.stringify(e) === JSON.stringify(value))) problems.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(enumValues)}`);
    if (typeof value === 'string') {
      if (typeof s['pattern'] === 'string' && !new RegExp(s['pattern'], 'u').test(value)) problems.push(`${at}: ${JSON.stringify(value)} does not match ${s['pattern']}`);
      if (typeof s['minLength'] === 'number' && [...value].length < s['minLength']) problems.push(`${at}: shorter than ${s['minLength']}`);
    }
    if (typeof value === 'number' && typeof s['minimum'] === 'number' && value < s['minimum']) problems.push(`${at}: below ${s['minimum']}`);
    if (Array.isArray(value) && s['items'] !== undefined) value.forEach((item, i) => problems.push(...this.validate(s['items'] as Schema, item, `${at}[${i}]`)));
    if (typeOf(value) === 'object') problems.push(...this.validateObject(s, value as Record<string, unknown>, at));
    return problems;
  }

  private validateObject(s: Schema, value: Record<string, unknown>, at: string): string[] {
    const problems: string[] = [];
    const properties = (s['properties'] as Record<string, Schema> | undefined) ?? {};
    for (const key of (s['required'] as string[] | undefined) ?? []) if (!(key in value)) problems.push(`${at}: missing ${key}`);
    for (const [key, item] of Object.entries(value)) {
      const property = properties[key];
      if (property !== undefined) problems.push(...this.validate(property, item, `${at}.${key}`));
      else if (s['additionalProperties'] === false) problems.push(`${at}: unexpected property ${key}`);
      else if (typeof s['additionalProperties'] === 'object') problems.push(...this.validate(s['additionalProperties'] as Schema, item, `${at}.${key}`));
    }
    return problems;
  }

  /** Every `$ref` of the document that points nowhere. */
  unresolvedRefs(): string[] {
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (typeof node === 'object' && node !== null) {
        for (const [key, value] of Object.entries(node)) {
          if (key === '$ref' && typeof value === 'string') refs.push(value);
          else walk(value);
        }
      }
    };
    walk(this.doc);
    return refs.filter((ref) => {
      try {
        this.resolve({ $ref: ref });
        return false;
      } catch {
        return true;
      }
    });
  }

  private resolve(schema: Schema): Schema {
    let current = schema;
    for (let hops = 0; typeof current['$ref'] === 'string'; hops += 1) {
      if (hops > 20) throw new Error(`$ref loop at ${String(current['$ref'])}`);
      const ref = current['$ref'];
      if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`);
      let node: unknown = this.doc;
      for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      if (node === undefined) throw new Error(`unresolved $ref ${ref}`);
      current = node as Schema;
    }
    return current;
  }
}
