// A stand-in for another homeserver, built from the project's libraries: its
// own ed25519 key, its key document served over HTTPS on loopback (its
// server name is `127.0.0.1:<port>`, so a gateway under test reaches it
// without discovery), and a client that signs federation requests (X-Matrix)
// and events the way a real server does. Every part can be bent to produce
// the invalid variants tests need.
import { createServer } from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { JsonObject, JsonValue } from '@membrane/canonical-json';
import { hashAndSignEvent, signMembershipTemplate } from '@membrane/events';
import type { BuiltPdu, EventLike, Pdu, RoomVersion } from '@membrane/events';
import { buildServerKeyResponse, generateSigningKey, signRequest } from '@membrane/signing';
import type { OldVerifyKey, SigningKey } from '@membrane/signing';
import type { TestCertificateAuthority } from './test-ca.js';

export interface FederationPeer {
  /** Base URL, e.g. `https://127.0.0.1:8448`. */
  readonly url: string;
  /** The server name X-Matrix names as destination. */
  readonly serverName: string;
}

export interface FederationCall {
  readonly method: 'GET' | 'PUT' | 'POST';
  /** Request target from `/_matrix/...`, percent-encoded, with any query string. */
  readonly path: string;
  /** JSON body, sent and signed. */
  readonly body?: JsonValue;
  /** Send this text as the body instead of `body` (signing still covers `body`). */
  readonly rawBody?: string;
  /** Sign this content instead of `body` (a body/signature mismatch). */
  readonly signedContent?: JsonValue;
  /** Overrides for the signed request object and the header. */
  readonly origin?: string;
  readonly destination?: string;
  readonly signedMethod?: string;
  readonly signedPath?: string;
  readonly key?: SigningKey;
  /** `null`: no Authorization header; a string or list: sent as is instead of the signed header. */
  readonly authorization?: string | readonly string[] | null;
}

export interface FederationAnswer {
  readonly status: number;
  /** Parsed JSON, or undefined when the body was not JSON. */
  readonly body: unknown;
  readonly text: string;
}

export interface KeyDocumentOptions {
  /** `valid_until_ts` relative to now; negative for an expired document. Default one day. */
  readonly validForMs?: number;
  readonly oldKeys?: readonly OldVerifyKey[];
}

export interface FakeRemoteServer {
  readonly serverName: string;
  readonly url: string;
  /** The key it signs with (replace with `rotateKey`). */
  readonly key: SigningKey;
  /** How many times its key document was fetched. */
  readonly keyRequests: number;
  userId(localpart: string): string;
  /** Serve this document (or whatever `document` returns) instead of the honest one. */
  setKeyDocument(document: ((honest: JsonObject) => JsonValue) | undefined): void;
  setKeyDocumentOptions(options: KeyDocumentOptions): void;
  /** Starts signing with a new key; the key document publishes only the new one. */
  rotateKey(): SigningKey;
  request(peer: FederationPeer, call: FederationCall): Promise<FederationAnswer>;
  /** Hashes and signs an event as this server. */
  signEvent<T extends EventLike>(event: T, version: RoomVersion, key?: SigningKey): Pdu;
  /** Fills and signs a make_join / make_leave template as this server. */
  signTemplate(template: JsonObject, version: RoomVersion, content?: JsonObject): BuiltPdu;
  stop(): Promise<void>;
}

export interface FakeRemoteServerOptions {
  readonly ca: TestCertificateAuthority;
  readonly keyDocument?: KeyDocumentOptions;
  /** Reuse connections for requests (as real servers do); default: a new connection per request. */
  readonly keepAlive?: boolean;
  /** Extra endpoints the fake answers, by `METHOD path` (exact raw path, no query). */
  readonly routes?: Readonly<Record<string, (body: JsonValue | undefined) => { status: number; body: unknown }>>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startFakeRemoteServer(options: FakeRemoteServerOptions): Promise<FakeRemoteServer> {
  const certificate = options.ca.issue(`remote-${process.pid}-${Math.random().toString(36).slice(2, 8)}`, ['127.0.0.1', 'localhost']);
  let key = generateSigningKey();
  let keyRequests = 0;
  let override: ((honest: JsonObject) => JsonValue) | undefined;
  let documentOptions: KeyDocumentOptions = options.keyDocument ?? {};
  let serverName = '';

  const honestDocument = (): JsonObject =>
    buildServerKeyResponse(serverName, [key], documentOptions.oldKeys ?? [], Date.now() + (documentOptions.validForMs ?? 24 * 60 * 60 * 1000));

  const server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const text = await readBody(req);
      if (req.method === 'GET' && path === '/_matrix/key/v2/server') {
        keyRequests += 1;
        const honest = honestDocument();
        sendJson(res, 200, override === undefined ? honest : override(honest));
        return;
      }
      const custom = options.routes?.[`${req.method ?? 'GET'} ${path}`];
      if (custom !== undefined) {
        const answer = custom(text === '' ? undefined : (JSON.parse(text) as JsonValue));
        sendJson(res, answer.status, answer.body);
        return;
      }
      sendJson(res, 404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
    })().catch((err: unknown) => sendJson(res, 500, { errcode: 'M_UNKNOWN', error: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent = options.keepAlive === true ? new Agent({ keepAlive: true, ca: options.ca.caPem }) : undefined;
  const { port } = server.address() as AddressInfo;
  serverName = `127.0.0.1:${port}`;

  return {
    serverName,
    url: `https://127.0.0.1:${port}`,
    get key() {
      return key;
    },
    get keyRequests() {
      return keyRequests;
    },
    userId: (localpart) => `@${localpart}:${serverName}`,
    setKeyDocument(document) {
      override = document;
    },
    setKeyDocumentOptions(next) {
      documentOptions = next;
    },
    rotateKey() {
      key = generateSigningKey();
      return key;
    },
    request(peer, call) {
      const origin = call.origin ?? serverName;
      let authorization: readonly string[] = [];
      if (call.authorization === undefined) {
        const signedContent = call.signedContent ?? call.body;
        authorization = [
          signRequest(
            {
              method: call.signedMethod ?? call.method,
              uri: call.signedPath ?? call.path,
              origin,
              destination: call.destination ?? peer.serverName,
              ...(signedContent === undefined ? {} : { content: signedContent }),
            },
            call.key ?? key,
          ),
        ];
      } else if (call.authorization !== null) {
        authorization = typeof call.authorization === 'string' ? [call.authorization] : call.authorization;
      }
      const bodyText = call.rawBody ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
      const target = new URL(call.path, peer.url);
      // Several Authorization headers are sent as several header lines.
      const headers: Record<string, string | number | string[]> = { host: peer.serverName };
      if (authorization.length > 0) headers['authorization'] = [...authorization];
      if (bodyText !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(bodyText);
      }
      return new Promise<FederationAnswer>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: target.hostname.replace(/^\[(.*)\]$/, '$1'),
            port: target.port,
            method: call.method,
            path: call.path,
            ca: options.ca.caPem,
            agent: agent ?? false,
            headers: headers as OutgoingHttpHeaders,
            timeout: 30_000,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let body: unknown;
              try {
                body = JSON.parse(text);
              } catch {
                body = undefined;
              }
              resolve({ status: res.statusCode ?? 0, body, text });
            });
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error('request timed out')));
        req.on('error', reject);
        req.end(bodyText);
      });
    },
    signEvent(event, version, signingKey = key) {
      return hashAndSignEvent(event, serverName, signingKey, version) as unknown as Pdu;
    },
    signTemplate(template, version, content) {
      return signMembershipTemplate(template, { version, originServerTs: Date.now(), ...(content === undefined ? {} : { content }) }, { serverName, key });
    },
    stop() {
      agent?.destroy();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
