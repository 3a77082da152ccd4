// X-Matrix request authentication (server-server API "Request
// Authentication"): the sender signs {method, uri, origin, destination,
// content?} with its server key and sends the signature in an
// `Authorization: X-Matrix ...` header whose parameters follow RFC 9110
// auth-param syntax.

import type { JsonObject, JsonValue } from '@membrane/canonical-json';
import { nodeCryptoBackend } from './backends.js';
import type { CryptoBackend } from './backends.js';
import { computeJsonSignature, verifyJsonSignature } from './sign-json.js';
import type { SigningKey } from './signing-key.js';

export const X_MATRIX_SCHEME = 'X-Matrix';

export interface RequestToSign {
  /** HTTP method as sent, e.g. "PUT" (upper case by convention). */
  readonly method: string;
  /** Request target as sent: path from `/_matrix/...` and query string, percent-encoding preserved. */
  readonly uri: string;
  readonly origin: string;
  readonly destination: string;
  /** Parsed JSON body; leave undefined when the request has no body. */
  readonly content?: JsonValue | undefined;
}

export interface XMatrixAuth {
  readonly origin: string;
  /** Key id, e.g. "ed25519:a_Obwu". */
  readonly key: string;
  /** Unpadded Base64 signature. */
  readonly sig: string;
  readonly destination?: string;
}

export type XMatrixHeaderProblem = 'not-x-matrix' | 'malformed' | 'missing-parameter' | 'duplicate-parameter' | 'empty-parameter';

/** Thrown for an Authorization header that is not a usable X-Matrix header. */
export class XMatrixHeaderError extends Error {
  constructor(
    readonly problem: XMatrixHeaderProblem,
    message: string,
  ) {
    super(message);
    this.name = 'XMatrixHeaderError';
  }
}

/** The JSON object whose signature authenticates a request. */
export function buildRequestSigningObject(request: RequestToSign): JsonObject {
  const object: JsonObject = {
    method: request.method,
    uri: request.uri,
    origin: request.origin,
    destination: request.destination,
  };
  if (request.content !== undefined) object['content'] = request.content;
  return object;
}

// RFC 9110 §5.6.2 tchar; unquoted values from older servers may also hold ':'
// (and, in practice, the Base64 characters '/' and '=').
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const UNQUOTED_VALUE_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z:/=]/;

function quoteValue(name: string, value: string): string {
  // Senders avoid backslash escapes for the sake of strict receivers.
  if (!/^[\x20-\x7e]*$/.test(value) || value.includes('"') || value.includes('\\')) {
    throw new XMatrixHeaderError('malformed', `X-Matrix ${name} contains a character that cannot be sent unescaped`);
  }
  return `"${value}"`;
}

/** Formats the header value the way peers expect: one space, lower-case names, quoted values, no spaces around commas. */
export function formatXMatrixHeader(auth: XMatrixAuth): string {
  const params = [`origin=${quoteValue('origin', auth.origin)}`];
  if (auth.destination !== undefined) params.push(`destination=${quoteValue('destination', auth.destination)}`);
  params.push(`key=${quoteValue('key', auth.key)}`, `sig=${quoteValue('sig', auth.sig)}`);
  return `${X_MATRIX_SCHEME} ${params.join(',')}`;
}

/** Signs a request and returns the `Authorization` header value. */
export function signRequest(request: RequestToSign, key: SigningKey, backend: CryptoBackend = nodeCryptoBackend): string {
  const sig = computeJsonSignature(buildRequestSigningObject(request), key, backend);
  return formatXMatrixHeader({ origin: request.origin, destination: request.destination, key: key.keyId, sig });
}

const isWhitespace = (char: string | undefined): boolean => char === ' ' || char === '\t';

/**
 * Parses an `Authorization` header value of the X-Matrix scheme. Accepts RFC
 * 9110 auth-params: case-insensitive names in any order, quoted values with
 * backslash escapes, unquoted values (':' allowed for old servers), spaces or
 * tabs around commas and '=', and empty list elements. Unknown parameters are
 * ignored; `origin`, `key` and `sig` are required and may not repeat.
 */
export function parseXMatrixHeader(header: string): XMatrixAuth {
  // The auth-scheme is case-insensitive (RFC 9110 §11.1).
  const scheme = header.slice(0, X_MATRIX_SCHEME.length);
  const afterScheme = header[X_MATRIX_SCHEME.length];
  if (scheme.toLowerCase() !== X_MATRIX_SCHEME.toLowerCase() || (afterScheme !== undefined && !isWhitespace(afterScheme))) {
    throw new XMatrixHeaderError('not-x-matrix', 'the Authorization header does not use the X-Matrix scheme');
  }
  const params = new Map<string, string>();
  let at = X_MATRIX_SCHEME.length;
  const skipWhitespace = (): void => {
    while (isWhitespace(header[at])) at++;
  };
  const malformed = (what: string): never => {
    throw new XMatrixHeaderError('malformed', `malformed X-Matrix header: ${what} at position ${at}`);
  };

  while (at < header.length) {
    skipWhitespace();
    if (header[at] === ',') {
      at++; // empty list element
      continue;
    }
    if (at >= header.length) break;
    const nameStart = at;
    while (at < header.length && TOKEN_CHAR.test(header[at] as string)) at++;
    if (at === nameStart) malformed('expected a parameter name');
    const name = header.slice(nameStart, at).toLowerCase();
    skipWhitespace();
    if (header[at] !== '=') malformed(`expected '=' after ${name}`);
    at++;
    skipWhitespace();
    let value = '';
    if (header[at] === '"') {
      at++;
      for (;;) {
        const char = header[at];
        if (char === undefined) malformed('unterminated quoted value');
        if (char === '"') break;
        if (char === '\\') {
          at++;
          const escaped = header[at];
          if (escaped === undefined) malformed('unterminated escape');
          value += escaped;
        } else {
          value += char;
        }
        at++;
      }
      at++; // closing quote
    } else {
      const valueStart = at;
      while (at < header.length && UNQUOTED_VALUE_CHAR.test(header[at] as string)) at++;
      if (at === valueStart) malformed(`expected a value for ${name}`);
      value = header.slice(valueStart, at);
    }
    skipWhitespace();
    if (at < header.length && header[at] !== ',') malformed(`unexpected character after ${name}`);
    if (params.has(name)) throw new XMatrixHeaderError('duplicate-parameter', `X-Matrix parameter ${name} appears more than once`);
    params.set(name, value);
  }

  const required = (name: string): string => {
    const value = params.get(name);
    if (value === undefined) throw new XMatrixHeaderError('missing-parameter', `X-Matrix header has no ${name}`);
    if (value === '') throw new XMatrixHeaderError('empty-parameter', `X-Matrix ${name} is empty`);
    return value;
  };
  const auth = { origin: required('origin'), key: required('key'), sig: required('sig') };
  const destination = params.get('destination');
  if (destination === undefined) return auth;
  if (destination === '') throw new XMatrixHeaderError('empty-parameter', 'X-Matrix destination is empty');
  return { ...auth, destination };
}

export interface ReceivedRequest {
  readonly method: string;
  readonly uri: string;
  /** Our own server name: always the signed destination, whatever the header says. */
  readonly destination: string;
  readonly content?: JsonValue | undefined;
}

/**
 * True when `auth.sig` is a valid signature by `publicKey` (the key named by
 * `auth.key` of `auth.origin`) over the request. False when the header names
 * another destination than ours (callers wanting a distinct 401 for that
 * check `auth.destination` first) or the key is not ed25519.
 */
export function verifyRequestSignature(
  request: ReceivedRequest,
  auth: XMatrixAuth,
  publicKey: Uint8Array,
  backend: CryptoBackend = nodeCryptoBackend,
): boolean {
  if (auth.destination !== undefined && auth.destination !== request.destination) return false;
  const signed = buildRequestSigningObject({ ...request, origin: auth.origin });
  signed['signatures'] = { [auth.origin]: { [auth.key]: auth.sig } };
  return verifyJsonSignature(signed, auth.origin, auth.key, publicKey, backend);
}
