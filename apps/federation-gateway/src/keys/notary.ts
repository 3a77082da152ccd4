// Fetching a server's keys through a notary (spec: server-server "Querying
// keys through another server", POST /_matrix/key/v2/query) when the server
// itself cannot be reached. A notary's answer is believed only when the
// notary signed it with a key configured here; the origin's own
// self-signature is checked afterwards like any key document.
import type { JsonObject } from '@membrane/canonical-json';
import { isJsonObject } from '@membrane/canonical-json';
import { decodeBase64, verifyJsonSignature } from '@membrane/signing';
import type { ServerKeyFetcher } from './key-fetcher.js';

export interface NotaryConfig {
  readonly serverName: string;
  /** The notary's keys, key ID → unpadded base64 ed25519 public key. */
  readonly verifyKeys: Readonly<Record<string, string>>;
}

/** The query body asking for every key of `serverName`. */
export function notaryQueryBody(serverName: string): JsonObject {
  return { server_keys: { [serverName]: {} } };
}

/**
 * The key document of `serverName` in a notary's answer, if the notary signed
 * it with one of its configured keys; undefined otherwise.
 */
export function notarisedDocument(answer: unknown, serverName: string, notary: NotaryConfig): JsonObject | undefined {
  if (!isJsonObject(answer) || !Array.isArray(answer['server_keys'])) return undefined;
  for (const document of answer['server_keys']) {
    if (!isJsonObject(document) || document['server_name'] !== serverName) continue;
    const signedByNotary = Object.entries(notary.verifyKeys).some(([keyId, key]) => {
      try {
        return verifyJsonSignature(document, notary.serverName, keyId, decodeBase64(key));
      } catch {
        return false;
      }
    });
    if (signedByNotary) return document;
  }
  return undefined;
}

export interface NotaryTransport {
  requestJson(serverName: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown>;
}

/** Asks the server itself first, then each notary in turn. */
export class NotaryKeyFetcher implements ServerKeyFetcher {
  constructor(
    private readonly direct: ServerKeyFetcher,
    private readonly transport: NotaryTransport,
    private readonly notaries: readonly NotaryConfig[],
  ) {}

  async fetchServerKeys(serverName: string): Promise<unknown> {
    try {
      return await this.direct.fetchServerKeys(serverName);
    } catch (directError) {
      for (const notary of this.notaries) {
        if (notary.serverName === serverName) continue;
        try {
          const answer = await this.transport.requestJson(notary.serverName, 'POST', '/_matrix/key/v2/query', notaryQueryBody(serverName));
          const document = notarisedDocument(answer, serverName, notary);
          if (document !== undefined) return document;
        } catch {
          // This notary failed too; try the next one.
        }
      }
      throw directError;
    }
  }
}
