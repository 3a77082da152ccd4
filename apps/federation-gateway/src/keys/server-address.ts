// Where to reach a server named in federation, before full discovery
// (`.well-known/matrix/server` and SRV records come later): an IP literal or
// a host name with an explicit port is used as is; a host name without a port
// gets the default federation port 8448. The TLS server name is the host name
// (none for address literals, which are checked against IP SAN entries).
import { parseServerName } from '@membrane/events';

export const DEFAULT_FEDERATION_PORT = 8448;

export interface ServerAddress {
  /** Host to connect to; IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
  /** SNI and certificate name; absent for IP literals. */
  readonly tlsServerName?: string;
  /** The `Host` header to send: the server name. */
  readonly hostHeader: string;
}

export type ServerAddressResolver = (serverName: string) => ServerAddress | undefined;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export const resolveServerAddressWithoutDiscovery: ServerAddressResolver = (serverName) => {
  const parsed = parseServerName(serverName);
  if (parsed === undefined) return undefined;
  const port = parsed.port ?? DEFAULT_FEDERATION_PORT;
  if (parsed.host.startsWith('[')) return { host: parsed.host.slice(1, -1), port, hostHeader: serverName };
  if (IPV4.test(parsed.host)) return { host: parsed.host, port, hostHeader: serverName };
  return { host: parsed.host, port, tlsServerName: parsed.host, hostHeader: serverName };
};
