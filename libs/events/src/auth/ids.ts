// The little identifier grammar the auth rules need (spec appendices,
// §"Server Name" and §"User Identifiers"). Kept local so the rules depend
// on nothing but the room-version registry.

const DNS_NAME = /^[0-9A-Za-z.-]{1,255}$/;
const IPV6_LITERAL = /^\[[0-9A-Fa-f:.]{2,45}\]$/;
const PORT = /^[0-9]{1,5}$/;
const MAX_USER_ID_BYTES = 255;

/** Everything after the first `:` of a sigil-prefixed ID; undefined when there is none. */
export function domainOf(id: string): string | undefined {
  const colon = id.indexOf(':');
  return colon < 0 ? undefined : id.slice(colon + 1);
}

export function isValidServerName(name: string): boolean {
  let host = name;
  let port: string | undefined;
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    if (close < 0) return false;
    host = name.slice(0, close + 1);
    const rest = name.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return false;
      port = rest.slice(1);
    }
    if (!IPV6_LITERAL.test(host)) return false;
  } else {
    const colon = name.indexOf(':');
    if (colon >= 0) {
      host = name.slice(0, colon);
      port = name.slice(colon + 1);
    }
    if (!DNS_NAME.test(host)) return false;
  }
  return port === undefined || PORT.test(port);
}

/**
 * The shallow test Synapse and gomatrixserverlib apply to the keys of a power
 * levels `users` map: a `@` sigil and a `:` separator. Being stricter here
 * would reject power levels events other servers accept.
 */
export function looksLikeUserId(value: string): boolean {
  return value.startsWith('@') && value.indexOf(':') > 0;
}

/**
 * The validation applied to an event's `sender` (used for v12
 * `additional_creators`): `@localpart:server_name`, a valid server name, a
 * non-empty localpart, at most 255 bytes.
 */
export function isValidUserId(value: string): boolean {
  if (!value.startsWith('@')) return false;
  if (new TextEncoder().encode(value).length > MAX_USER_ID_BYTES) return false;
  const colon = value.indexOf(':');
  if (colon < 2) return false;
  return isValidServerName(value.slice(colon + 1));
}
