// Localparts of the users this store creates, and the user IDs they make.
// Grammar of new user IDs (spec appendices, "User Identifiers"):
// localpart = 1*( a-z / 0-9 / "." / "_" / "=" / "-" / "/" / "+" ), and the
// whole ID at most 255 bytes.
const LOCALPART = /^[a-z0-9._=/+-]+$/;
const MAX_USER_ID_BYTES = 255;

export function userIdOf(localpart: string, serverName: string): string {
  return `@${localpart}:${serverName}`;
}

export function isValidLocalpart(localpart: string, serverName: string): boolean {
  return LOCALPART.test(localpart) && Buffer.byteLength(userIdOf(localpart, serverName), 'utf8') <= MAX_USER_ID_BYTES;
}

/**
 * The localpart named by `@localpart:server` or a bare localpart; undefined
 * when a full user ID names another server. Case-folded, as logins are.
 */
export function localpartOf(localpartOrUserId: string, serverName: string): string | undefined {
  if (!localpartOrUserId.startsWith('@')) return localpartOrUserId.toLowerCase();
  const colon = localpartOrUserId.indexOf(':');
  if (colon < 0 || localpartOrUserId.slice(colon + 1) !== serverName) return undefined;
  return localpartOrUserId.slice(1, colon).toLowerCase();
}
