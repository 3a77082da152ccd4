// Server ACLs (`m.room.server_acl`, spec client-server API §"Server Access
// Control Lists"): which servers may take part in a room. Matching follows the
// spec and Synapse's evaluator: the port is ignored; when IP literals are not
// allowed an IPv4 or bracketed IPv6 host is denied; then `deny` globs, then
// `allow` globs; anything not allowed is denied. Globs use `*` (any run) and
// `?` (one character) and match the whole host, case-insensitively.
import { isIPv4 } from 'node:net';
import { parseServerName } from '@membrane/events';

export interface ServerAcl {
  readonly allowIpLiterals: boolean;
  readonly allow: readonly RegExp[];
  readonly deny: readonly RegExp[];
}

const REGEX_SPECIAL = /[\\^$.|+()[\]{}]/;

export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const char of glob) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += REGEX_SPECIAL.test(char) ? `\\${char}` : char;
  }
  return new RegExp(`^${source}$`, 'isu');
}

function globList(value: unknown): RegExp[] {
  // A malformed list counts as empty and non-string entries are skipped, as Synapse does.
  if (!Array.isArray(value)) return [];
  return value.filter((entry): entry is string => typeof entry === 'string').map(globToRegExp);
}

/** Reads the content of an `m.room.server_acl` event; malformed parts fall back to their defaults. */
export function parseServerAcl(content: unknown): ServerAcl {
  const object = typeof content === 'object' && content !== null && !Array.isArray(content) ? (content as Record<string, unknown>) : {};
  const allowIpLiterals = object['allow_ip_literals'];
  return {
    allowIpLiterals: typeof allowIpLiterals === 'boolean' ? allowIpLiterals : true,
    allow: globList(object['allow']),
    deny: globList(object['deny']),
  };
}

/** True when the ACL lets `serverName` (port ignored) take part in the room. */
export function isServerAllowedByAcl(serverName: string, acl: ServerAcl): boolean {
  const host = parseServerName(serverName)?.host;
  if (host === undefined) return false;
  if (!acl.allowIpLiterals && (host.startsWith('[') || isIPv4(host))) return false;
  if (acl.deny.some((glob) => glob.test(host))) return false;
  return acl.allow.some((glob) => glob.test(host));
}
