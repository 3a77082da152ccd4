// A real Synapse on loopback as a test peer: config, keys, process, readiness
// and users. Federation is served over TLS with a certificate from a test CA
// that Synapse also trusts for its outbound calls.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createTestCertificateAuthority, terminateProcess } from '@membrane/testing';
import type { TestCertificateAuthority } from '@membrane/testing';
import { buildHomeserverConfig, buildLogConfig } from './config.js';
import { installSynapse, pythonEnvironment, run } from './install.js';
import type { InstallOptions } from './install.js';

export interface StartSynapseOptions {
  /** Scratch directory for config, keys, database, media and logs. */
  readonly dir: string;
  /** 0 or absent: a free port is picked. */
  readonly clientPort?: number;
  readonly federationPort?: number;
  readonly host?: string;
  /** CA that issues the federation certificate and that Synapse trusts; a new one in `dir` if absent. */
  readonly ca?: TestCertificateAuthority;
  /** More CA files Synapse should trust for outbound federation. */
  readonly extraCaFiles?: readonly string[];
  /** Python log level; WARNING for benchmarks. */
  readonly logLevel?: 'INFO' | 'WARNING';
  readonly readyTimeoutMs?: number;
  readonly install?: InstallOptions;
}

export interface SynapseUser {
  readonly userId: string;
  readonly accessToken: string;
  /** The device the access token belongs to (clients such as matrix-nio need it). */
  readonly deviceId: string;
  readonly password: string;
}

export interface RunningSynapse {
  /** e.g. `http://127.0.0.1:41234` (plain HTTP client listener). */
  readonly clientUrl: string;
  /** e.g. `https://127.0.0.1:41235` (TLS federation listener). */
  readonly federationUrl: string;
  /** `127.0.0.1:<federationPort>`. */
  readonly serverName: string;
  readonly caFile: string;
  readonly logFile: string;
  readonly version: string;
  /** Seconds from spawn to both listeners answering. */
  readonly startSeconds: number;
  readonly process: ChildProcess;
  /** Shared-secret registration, then an `m.login.password` token. */
  registerUser(localpart: string, options?: { readonly admin?: boolean; readonly password?: string }): Promise<SynapseUser>;
  /** SIGTERM, then SIGKILL after the bound. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Hex HMAC-SHA1 keyed with `registration_shared_secret` over
 * `nonce NUL username NUL password NUL admin|notadmin`
 * (Synapse admin API, shared-secret registration).
 */
export function registrationMac(secret: string, nonce: string, username: string, password: string, admin: boolean): string {
  return createHmac('sha1', secret)
    .update([nonce, username, password, admin ? 'admin' : 'notadmin'].join('\0'))
    .digest('hex');
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startSynapse(options: StartSynapseOptions): Promise<RunningSynapse> {
  const { python, version } = await installSynapse(options.install);
  const host = options.host ?? '127.0.0.1';
  const clientPort = options.clientPort || (await freePort(host));
  const federationPort = options.federationPort || (await freePort(host));
  const serverName = `${host}:${federationPort}`;
  const dataDir = options.dir;
  mkdirSync(dataDir, { recursive: true });

  const ca = options.ca ?? createTestCertificateAuthority(join(dataDir, 'ca'));
  const certificate = ca.issue(`synapse-${federationPort}`, [host, 'localhost']);
  const registrationSharedSecret = randomBytes(24).toString('hex');
  const logFile = join(dataDir, 'homeserver.log');
  const logConfigPath = join(dataDir, 'log.config');
  const configPath = join(dataDir, 'homeserver.yaml');
  writeFileSync(logConfigPath, JSON.stringify(buildLogConfig(logFile, options.logLevel ?? 'INFO'), null, 2));
  const config = buildHomeserverConfig({
    serverName,
    host,
    clientPort,
    federationPort,
    dataDir,
    tlsCertificatePath: certificate.certFile,
    tlsPrivateKeyPath: certificate.keyFile,
    federationCaFiles: [ca.caFile, ...(options.extraCaFiles ?? [])],
    registrationSharedSecret,
    macaroonSecretKey: randomBytes(24).toString('hex'),
    formSecret: randomBytes(24).toString('hex'),
    logConfigPath,
  });
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  await run(python, ['-m', 'synapse.app.homeserver', '-c', configPath, '--generate-keys'], 120_000);

  const started = performance.now();
  const child = spawn(python, ['-m', 'synapse.app.homeserver', '-c', configPath], {
    cwd: dataDir,
    env: pythonEnvironment(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const clientUrl = `http://${host}:${clientPort}`;
  const federationUrl = `https://${host}:${federationPort}`;
  const stop = async (timeoutMs = 20_000): Promise<void> => void (await terminateProcess(child, timeoutMs));
  try {
    await waitUntilReady(child, clientUrl, federationUrl, ca.caPem, options.readyTimeoutMs ?? 90_000, () => output, logFile);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  const startSeconds = (performance.now() - started) / 1000;

  return {
    clientUrl,
    federationUrl,
    serverName,
    caFile: ca.caFile,
    logFile,
    version,
    startSeconds,
    process: child,
    registerUser: (localpart, userOptions = {}) =>
      registerUser(clientUrl, registrationSharedSecret, localpart, userOptions.password ?? `${localpart}-pw`, userOptions.admin ?? false),
    stop,
  };
}

async function registerUser(clientUrl: string, secret: string, username: string, password: string, admin: boolean): Promise<SynapseUser> {
  const registerUrl = `${clientUrl}/_synapse/admin/v1/register`;
  const { nonce } = (await jsonRequest('GET', registerUrl)) as { nonce: string };
  const mac = registrationMac(secret, nonce, username, password, admin);
  const registered = (await jsonRequest('POST', registerUrl, { nonce, username, password, admin, mac })) as { user_id: string };
  const login = (await jsonRequest('POST', `${clientUrl}/_matrix/client/v3/login`, {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: username },
    password,
  })) as { access_token: string; user_id: string; device_id: string };
  if (login.user_id !== registered.user_id) throw new Error(`login returned ${login.user_id}, registered ${registered.user_id}`);
  return { userId: registered.user_id, accessToken: login.access_token, deviceId: login.device_id, password };
}

async function jsonRequest(method: string, url: string, body?: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as unknown;
}

async function waitUntilReady(
  child: ChildProcess,
  clientUrl: string,
  federationUrl: string,
  caPem: string,
  timeoutMs: number,
  output: () => string,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const explain = (): string => `${output()}\n--- ${logFile} (tail) ---\n${tail(logFile)}`;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Synapse exited (${String(child.exitCode ?? child.signalCode)}) before it was ready:\n${explain()}`);
    }
    if ((await answers(`${clientUrl}/_matrix/client/versions`)) && (await federationAnswers(`${federationUrl}/_matrix/key/v2/server`, caPem))) return;
    if (Date.now() > deadline) throw new Error(`Synapse was not ready within ${timeoutMs} ms:\n${explain()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** A TLS request that verifies the listener's certificate against the test CA. */
function federationAnswers(url: string, caPem: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsRequest(url, { ca: caPem, timeout: 2000 }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-4000);
  } catch {
    return '(no log)';
  }
}

