// Assembles the federation gateway from its configuration: our signing key
// (the membership service's file), the TLS certificate (configured or
// self-signed), the remote key ring, the membership service client and the
// HTTP(S) server. `main.ts` is the CLI around it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import {
  createAppLogger,
  createMetricsRegistry,
  grpcClientMetricsInterceptor,
  grpcServerMetricsInterceptor,
  httpMetrics,
  requestIdClientInterceptor,
  startMetricsServer,
} from '@membrane/observability';
import { ConfigError, closeHttpServer, loadOrCreateSigningKey } from '@membrane/config';
import { parseServerName } from '@membrane/events';
import { MembershipServiceClient, MembershipServiceService, RemoteMembershipServiceService, fileDescriptorSet } from '@membrane/proto';
import { createRpcClient, createRpcServer, serviceHealth } from '@membrane/rpc';
import { decodeBase64, encodeVerifyKey } from '@membrane/signing';
import type { OldVerifyKey } from '@membrane/signing';
import type { FederationGatewayConfig } from './config.js';
import { listenAddressOf, signingKeyPathOf } from './config.js';
import { federationRoutes } from './federation/routes.js';
import { TransactionReplayCache } from './federation/transactions.js';
import { Router } from './http/router.js';
import { createFederationServer } from './http/server.js';
import { HttpsKeyFetcher } from './keys/key-fetcher.js';
import { NotaryKeyFetcher } from './keys/notary.js';
import type { ServerKeyFetcher } from './keys/key-fetcher.js';
import { RemoteKeyRing } from './keys/key-ring.js';
import { OwnKeyDocument } from './keys/own-key-document.js';
import { ensureSelfSignedCertificate } from './tls/self-signed.js';
import { DestinationBackoff } from './outbound/destination-backoff.js';
import { FederationClient } from './outbound/federation-client.js';
import type { FederationClientOptions } from './outbound/federation-client.js';
import { remoteMembershipHandlers } from './outbound/remote-membership-service.js';
import { TransactionSender } from './outbound/transaction-sender.js';
import type { OutboxSource } from './outbound/transaction-sender.js';
import type { MembershipClient } from './federation/membership-client.js';

export const SOFTWARE = { name: 'membrane-federation-gateway', version: '0.1.0' } as const;

export interface RunningFederationGateway {
  readonly port: number;
  /** e.g. `https://127.0.0.1:8448`. */
  readonly url: string;
  /** Where the RemoteMembershipService listens, e.g. `127.0.0.1:50052`. */
  readonly grpcAddress: string;
  /** Stop accepting, let requests in flight finish within the grace period, close the gRPC channel. */
  stop(): Promise<void>;
}

export interface FederationGatewayOverrides {
  /** Replaces the HTTPS key fetcher (tests, notaries). */
  readonly keyFetcher?: ServerKeyFetcher;
  /** Replaces server discovery of outbound requests (tests). */
  readonly resolve?: FederationClientOptions['resolve'];
}

/** The membership service's outbox RPCs as the transaction sender uses them. */
function outboxOf(membership: MembershipClient): OutboxSource {
  return {
    async claim(limit, leaseMs) {
      const { entries } = await membership.claimOutbox({ limit, leaseMs });
      return entries;
    },
    async ack(deliveredIds, failed) {
      await membership.ackOutbox({ deliveredIds: [...deliveredIds], failed: failed.map((f) => ({ ...f })) });
    },
  };
}

/** A file named by the configuration; unreadable is a configuration error naming the key. */
function readConfiguredFile(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  ${key}: cannot read ${path}: ${(err as Error).message}`);
  }
}

function tlsMaterial(config: FederationGatewayConfig, logger: Logger): { cert: Buffer; key: Buffer } | undefined {
  if (!config.tls.enabled) return undefined;
  if (config.tls.certFile !== undefined && config.tls.keyFile !== undefined) {
    return { cert: readConfiguredFile('tls.certFile', config.tls.certFile), key: readConfiguredFile('tls.keyFile', config.tls.keyFile) };
  }
  const host = parseServerName(config.serverName)?.host.replace(/^\[(.*)\]$/, '$1') ?? 'localhost';
  const hosts = [...new Set([host, 'localhost', '127.0.0.1'])];
  const generated = ensureSelfSignedCertificate(join(config.dataDir, 'tls'), hosts);
  if (generated.generated) logger.warn({ certFile: generated.certFile, hosts }, 'generated a self-signed TLS certificate; other servers will not trust it');
  return { cert: readFileSync(generated.certFile), key: readFileSync(generated.keyFile) };
}

export async function startFederationGateway(
  config: FederationGatewayConfig,
  logger: Logger = createAppLogger({ app: 'federation-gateway', level: config.logLevel }),
  overrides: FederationGatewayOverrides = {},
): Promise<RunningFederationGateway> {
  const metrics = createMetricsRegistry({ app: 'federation-gateway' });
  const http = httpMetrics(metrics);
  const transactions = new Counter({ name: 'federation_transactions_total', help: 'Outbound transactions by outcome (a retry is a failed attempt)', labelNames: ['outcome'], registers: [metrics] });
  const remoteLeaves = new Counter({
    name: 'federation_remote_leaves_total',
    help: 'Remote leaves and invite rejections: through send_leave v2, through the v1 fallback, or failed on every server',
    labelNames: ['outcome'],
    registers: [metrics],
  });
  const { key, generated } = loadOrCreateSigningKey(signingKeyPathOf(config));
  if (generated) logger.info({ keyId: key.keyId, path: signingKeyPathOf(config) }, 'generated a new signing key');
  logger.info({ keyId: key.keyId, publicKey: encodeVerifyKey(key) }, 'signing key loaded');
  const oldKeys: OldVerifyKey[] = config.keys.oldVerifyKeys.map((old) => ({ keyId: old.keyId, publicKey: decodeBase64(old.publicKey), expiredTs: old.expiredTs }));

  const tls = tlsMaterial(config, logger);
  const extraCa = config.tls.caFile === undefined ? undefined : readConfiguredFile('tls.caFile', config.tls.caFile).toString('utf8');
  const client = new FederationClient({
    serverName: config.serverName,
    signingKey: key,
    ...(extraCa === undefined ? {} : { extraCa }),
    timeoutMs: config.outbound.requestTimeoutMs,
    backoff: new DestinationBackoff({ initialMs: config.outbound.backoffInitialMs, maxMs: config.outbound.backoffMaxMs }),
    ...(overrides.resolve === undefined ? {} : { resolve: overrides.resolve }),
  });
  // Key fetches find servers the way every outbound request does (well-known, SRV).
  // When a server cannot be reached, configured notaries are asked for its keys.
  const https = new HttpsKeyFetcher({ timeoutMs: config.keyFetch.timeoutMs, ...(extraCa === undefined ? {} : { extraCa }), resolve: (name) => client.resolveServer(name) });
  const fetcher = overrides.keyFetcher ?? (config.keyFetch.notaries.length === 0 ? https : new NotaryKeyFetcher(https, https, config.keyFetch.notaries));
  const keyRing = new RemoteKeyRing({
    fetcher,
    own: { serverName: config.serverName, verifyKeys: new Map([[key.keyId, key.publicKey]]), oldVerifyKeys: oldKeys },
    retryAfterFailureMs: config.keyFetch.retryAfterFailureMs,
    logger: { warn: (fields, message) => logger.warn(fields, message) },
  });
  const membership = createRpcClient(MembershipServiceClient, config.membership.address, {
    defaultDeadlineMs: config.membership.deadlineMs,
    channelOptions: { interceptors: [grpcClientMetricsInterceptor(metrics), requestIdClientInterceptor()] },
  });
  // Set once stop() begins; /readyz answers 503 from then on.
  let stopping: Promise<void> | undefined;
  const health = serviceHealth(config.membership.address, MembershipServiceService, Math.min(config.membership.deadlineMs, 2_000));
  const keyDocument = new OwnKeyDocument({ serverName: config.serverName, keys: [key], oldKeys, validityPeriodMs: config.keys.validityPeriodMs });

  const router = new Router(
    federationRoutes({
      serverName: config.serverName,
      signingKey: key,
      keys: keyRing,
      membership,
      keyDocument,
      software: SOFTWARE,
      transactions: new TransactionReplayCache(),
      isReady: async () => stopping === undefined && (await health.isServing()),
    }),
  );
  const server = createFederationServer({
    router,
    serverName: config.serverName,
    keys: keyRing,
    maxBodyBytes: config.maxBodyBytes,
    ...(tls === undefined ? {} : { tls }),
    logger,
    onAnswered: ({ method, route, status, seconds }) => {
      const labels = { method, route, status: String(status) };
      http.requests.inc(labels);
      http.duration.observe(labels, seconds);
    },
  });
  const sender = new TransactionSender({
    serverName: config.serverName,
    outbox: outboxOf(membership),
    client,
    concurrency: config.sender.concurrency,
    pollIntervalMs: config.sender.pollIntervalMs,
    retryInitialMs: config.sender.retryInitialMs,
    retryMaxMs: config.sender.retryMaxMs,
    leaseMs: config.sender.leaseMs,
    requestTimeoutMs: config.outbound.requestTimeoutMs,
    onTransaction: ({ delivered }) => transactions.inc({ outcome: delivered ? 'delivered' : 'retry' }),
    logger: { info: (fields, message) => logger.info(fields, message), warn: (fields, message) => logger.warn(fields, message) },
  });
  const grpcServer = createRpcServer({
    descriptorSet: fileDescriptorSet,
    serverOptions: { interceptors: [grpcServerMetricsInterceptor(metrics)] },
    logger: { error: (fields, message) => logger.error(fields, message), warn: (fields, message) => logger.warn(fields, message) },
  });
  grpcServer.add(
    RemoteMembershipServiceService,
    remoteMembershipHandlers({
      client,
      signer: { serverName: config.serverName, key },
      keyForEvent: (server, keyId, validAtTs) => keyRing.keyForEvent(server, keyId, validAtTs),
      requestTimeoutMs: config.outbound.requestTimeoutMs,
      totalTimeoutMs: config.outbound.operationTimeoutMs,
      maxServers: config.outbound.maxServers,
      notifyOutbox: () => sender.notify(),
      onRemoteLeave: (outcome) => remoteLeaves.inc({ outcome }),
      logger: { info: (fields, message) => logger.info(fields, message), warn: (fields, message) => logger.warn(fields, message) },
    }),
  );
  const { host, port: wantedPort } = listenAddressOf(config);
  let grpcAddress: string;
  try {
    const grpcPort = await grpcServer.start(config.grpc.listen);
    grpcAddress = `${config.grpc.listen.slice(0, config.grpc.listen.lastIndexOf(':'))}:${grpcPort}`;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(wantedPort, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await grpcServer.shutdown(0);
    membership.close();
    client.close();
    throw err;
  }
  if (config.sender.enabled) sender.start();
  const { port } = server.address() as AddressInfo;
  const url = `${tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const metricsServer = config.metrics.port === undefined ? undefined : await startMetricsServer(metrics, config.metrics.host, config.metrics.port);
  logger.info({ url, grpcAddress, metricsUrl: metricsServer?.url, serverName: config.serverName, membership: config.membership.address }, 'federation gateway listening');

  return {
    port,
    url,
    grpcAddress,
    stop() {
      stopping ??= (async () => {
        if ((await closeHttpServer(server, config.shutdownGraceMs)) === 'cut-off') {
          logger.warn({ graceMs: config.shutdownGraceMs }, 'requests were still running after the grace period and were cut off');
        }
        await sender.stop();
        await grpcServer.shutdown(config.shutdownGraceMs);
        await metricsServer?.close();
        health.close();
        client.close();
        membership.close();
        logger.info('federation gateway stopped');
      })();
      return stopping;
    },
  };
}
