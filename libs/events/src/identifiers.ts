// Matrix identifiers: server names, user IDs and the domain part of IDs.
// Grammar from the spec appendices, §"Server Name" and §"User Identifiers":
//   server_name = hostname [ ":" port ]        port = 1*5DIGIT
//   hostname    = IPv4address / "[" IPv6address "]" / dns-name
//   IPv6address = 2*45IPv6char  (DIGIT, A-F, a-f, ":", ".")
//   dns-name    = 1*255dns-char (DIGIT, ALPHA, "-", ".")
// IPv4 addresses (1*3DIGIT "." ×4) are a subset of dns-name, so they need no rule of their own.
import { isWellFormedText } from './text.js';

export interface ServerName {
  /** Host as written, brackets included for an IPv6 literal. */
  readonly host: string;
  readonly port?: number;
}

export interface UserId {
  readonly localpart: string;
  readonly serverName: string;
}

const DNS_NAME = /^[0-9A-Za-z.-]{1,255}$/;
const IPV6_BODY = /^[0-9A-Fa-f:.]{2,45}$/;
const PORT = /^[0-9]{1,5}$/;

/** Splits a server name into host and port, or returns undefined when it breaks the grammar. */
export function parseServerName(name: string): ServerName | undefined {
  let host: string;
  let rest: string;
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    if (close < 0 || !IPV6_BODY.test(name.slice(1, close))) return undefined;
    host = name.slice(0, close + 1);
    rest = name.slice(close + 1);
  } else {
    const colon = name.indexOf(':');
    host = colon < 0 ? name : name.slice(0, colon);
    rest = colon < 0 ? '' : name.slice(colon);
    if (!DNS_NAME.test(host)) return undefined;
  }
  if (rest === '') return { host };
  if (!rest.startsWith(':') || !PORT.test(rest.slice(1))) return undefined;
  return { host, port: Number(rest.slice(1)) };
}

export function isValidServerName(name: string): boolean {
  return parseServerName(name) !== undefined;
}

/**
 * Parses `@localpart:server_name`. The localpart may be historical (any code
 * point but `:` and NUL, spec appendices), so only emptiness, NUL and lone
 * surrogates are refused there; the server name must follow the grammar.
 * Length limits are the caller's concern (see `validatePdu`).
 */
export function parseUserId(userId: string): UserId | undefined {
  if (!userId.startsWith('@')) return undefined;
  const colon = userId.indexOf(':');
  if (colon < 2) return undefined;
  const localpart = userId.slice(1, colon);
  const serverName = userId.slice(colon + 1);
  if (localpart.includes('\u0000') || !isWellFormedText(localpart)) return undefined;
  if (!isValidServerName(serverName)) return undefined;
  return { localpart, serverName };
}

/**
 * The server name of a sigil-prefixed ID (`@user:server`, `!room:server`,
 * `$event:server`): everything after the first colon, if that is a valid
 * server name. Hash-based IDs (v3+ events, v12 rooms) have none.
 */
export function serverNameOf(id: string): string | undefined {
  const colon = id.indexOf(':');
  if (colon < 1) return undefined;
  const serverName = id.slice(colon + 1);
  return isValidServerName(serverName) ? serverName : undefined;
}
