// X-Matrix request authentication (spec server-server API §"Request
// Authentication"; MATRIX_FACTS §6): who sent this request, proven by a
// signature over {method, uri, origin, destination, content} with one of the
// origin's current keys. Status codes follow Synapse: no X-Matrix header 401,
// a malformed one 400, everything else (destination, key, signature) 401,
// always with errcode M_UNAUTHORIZED.
import type { JsonValue } from '@membrane/canonical-json';
import { CanonicalJsonError, encodeCanonicalJson } from '@membrane/canonical-json';
import { isValidServerName } from '@membrane/events';
import { MatrixError } from '@membrane/matrix-errors';
import { XMatrixHeaderError, parseXMatrixHeader, verifyRequestSignature } from '@membrane/signing';
import type { XMatrixAuth } from '@membrane/signing';

export interface RequestKeyLookup {
  keyForRequest(serverName: string, keyId: string): Promise<Uint8Array | undefined>;
}

export interface RequestToAuthenticate {
  readonly method: string;
  /** The request target exactly as received, query string included. */
  readonly uri: string;
  /** Every Authorization header value received. */
  readonly authorization: readonly string[];
  /** Parsed JSON body; undefined when the request has none. */
  readonly content?: JsonValue | undefined;
}

const unauthorized = (message: string, status = 401): MatrixError => new MatrixError(status, 'M_UNAUTHORIZED', message);

/** The X-Matrix headers among `authorization`; a malformed one is a 400. */
export function parseXMatrixHeaders(authorization: readonly string[]): XMatrixAuth[] {
  const found: XMatrixAuth[] = [];
  for (const header of authorization) {
    let auth: XMatrixAuth;
    try {
      auth = parseXMatrixHeader(header);
    } catch (err) {
      if (err instanceof XMatrixHeaderError && err.problem === 'not-x-matrix') continue;
      if (err instanceof XMatrixHeaderError) throw unauthorized(`Malformed Authorization header: ${err.message}`, 400);
      throw err;
    }
    if (!isValidServerName(auth.origin)) throw unauthorized('Malformed Authorization header: origin is not a server name', 400);
    found.push(auth);
  }
  if (new Set(found.map((a) => a.origin)).size > 1) throw unauthorized('Malformed Authorization header: several origins', 400);
  return found;
}

/**
 * Returns the authenticated origin server name, or throws a MatrixError.
 * With several X-Matrix headers (same origin), one valid signature by a
 * known current key suffices.
 */
export async function authenticateRequest(request: RequestToAuthenticate, ourServerName: string, keys: RequestKeyLookup): Promise<string> {
  const headers = parseXMatrixHeaders(request.authorization);
  const [first] = headers;
  if (first === undefined) throw unauthorized('Missing Authorization headers');
  for (const auth of headers) {
    if (auth.destination !== undefined && auth.destination !== ourServerName) throw unauthorized('Destination mismatch in auth header');
  }
  let knownKey = false;
  for (const auth of headers) {
    const publicKey = await keys.keyForRequest(auth.origin, auth.key);
    if (publicKey === undefined) continue;
    knownKey = true;
    if (verifyRequestSignature({ method: request.method, uri: request.uri, destination: ourServerName, content: request.content }, auth, publicKey)) {
      return auth.origin;
    }
  }
  // A body without canonical form (floats, huge integers) cannot have been signed: say so instead of blaming the key.
  if (request.content !== undefined) assertCanonicalForm(request.content);
  if (!knownKey) throw unauthorized(`Failed to find any key to satisfy the signature of ${first.origin} (key ${headers.map((h) => h.key).join(', ')})`);
  throw unauthorized(`Invalid signature for server ${first.origin}`);
}

function assertCanonicalForm(content: JsonValue): void {
  try {
    encodeCanonicalJson(content);
  } catch (err) {
    if (err instanceof CanonicalJsonError) throw MatrixError.badJson(`The request body has no canonical JSON form: ${err.message}`);
    throw err;
  }
}
