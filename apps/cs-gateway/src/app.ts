// Assembles the CS gateway from its configuration: token verifier, membership
// service client, rate limiters, the HTTP app. `main.ts` is the CLI around it.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { closeHttpServer } from '@membrane/config';
import { createAppLogger, createMetricsRegistry, grpcClientMetricsInterceptor, startMetricsServer } from '@membrane/observability';
import type { MetricsServer } from '@membrane/observability';
import { MembershipServiceClient, MembershipServiceService } from '@membrane/proto';
import { createRpcClient, serviceHealth } from '@membrane/rpc';
import { UserStore } from '@membrane/user-store';
import type { CsGatewayConfig } from './config.js';
import { userStorePathOf } from './config.js';
import { createHttpApp } from './http-app.js';
import { RateLimiter } from './rate-limiter.js';
import { ShutdownGate } from './shutdown-gate.js';
import { loginRoutes, whoamiRoutes } from './routes/account.js';
import { discoveryRoutes, healthRoutes } from './routes/discovery.js';
import { membershipRoutes } from './routes/membership.js';
import { roomReadRoutes } from './routes/rooms.js';
import { sendRoutes } from './routes/send.js';
import { syncRoutes } from './routes/sync.js';
import type { GatewayServices, Route } from './routes/route.js';
import { StoreTokenVerifier } from './token-verifier.js';
import type { TokenVerifier } from './token-verifier.js';
import { UpstreamTokenVerifier } from './upstream-verifier.js';

export interface RunningCsGateway {
  readonly port: number;
  /** e.g. `http://127.0.0.1:8008` */
  readonly url: string;
  /** Where Prometheus scrapes, e.g. `http://127.0.0.1:8008/metrics`; undefined when metrics are off. */
  readonly metricsUrl: string | undefined;
  /**
   * Refuses new requests with 503 (for `shutdownDrainDelayMs`, then by closing
   * the port), lets requests in flight finish within `shutdownGraceMs`, closes
   * clients and the store.
   */
  stop(): Promise<void>;
}

export function gatewayRoutes(withLogin: boolean): Route[] {
  return [...discoveryRoutes(), ...healthRoutes(), ...(withLogin ? loginRoutes() : []), ...whoamiRoutes(), ...membershipRoutes(), ...roomReadRoutes(), ...sendRoutes(), ...syncRoutes()];
}

function verifierFor(config: CsGatewayConfig, store: UserStore | undefined, logger: Logger): TokenVerifier {
  if (config.auth.type === 'store') {
    if (store === undefined) throw new Error('auth.type "store" needs the user store');
    return new StoreTokenVerifier(store);
  }
  return new UpstreamTokenVerifier({
    baseUrl: config.auth.baseUrl,
    serverName: config.serverName,
    cacheTtlMs: config.auth.cacheTtlMs,
    negativeCacheTtlMs: config.auth.negativeCacheTtlMs,
    cacheMaxEntries: config.auth.cacheMaxEntries,
    timeoutMs: config.auth.timeoutMs,
    onFailure: (details) => logger.warn(details, 'the upstream homeserver could not check an access token'),
  });
}

export async function startCsGateway(config: CsGatewayConfig, logger: Logger = createAppLogger({ app: 'cs-gateway', level: config.logLevel })): Promise<RunningCsGateway> {
  const metrics = createMetricsRegistry({ app: 'cs-gateway' });
  const storePath = userStorePathOf(config);
  const store = storePath === undefined ? undefined : UserStore.open({ path: storePath, serverName: config.serverName });
  const membership = createRpcClient(MembershipServiceClient, config.membership.address, {
    defaultDeadlineMs: config.membership.deadlineMs,
    channelOptions: { interceptors: [grpcClientMetricsInterceptor(metrics)] },
  });
  const health = serviceHealth(config.membership.address, MembershipServiceService, Math.min(config.membership.deadlineMs, 2_000));
  const gate = new ShutdownGate();

  const services: GatewayServices = {
    serverName: config.serverName,
    membership,
    accounts: store,
    defaultRoomVersion: config.defaultRoomVersion,
    isMembershipReady: async () => !gate.isStopping && (await health.isServing()),
  };
  const membershipLimits = config.rateLimit.membership;
  const app = createHttpApp({
    services,
    routes: gatewayRoutes(store !== undefined),
    verifier: verifierFor(config, store, logger),
    limiters: {
      membership: new RateLimiter({
        defaults: { perSecond: membershipLimits.perSecond, burst: membershipLimits.burst },
        overrides: membershipLimits.overrides,
        exempt: membershipLimits.exemptUsers,
      }),
      login: new RateLimiter({ defaults: config.rateLimit.login }),
    },
    maxBodyBytes: config.limits.maxBodyBytes,
    membershipDeadlineMs: config.membership.deadlineMs,
    trustProxy: config.trustProxy,
    logger,
    metrics,
    serveMetrics: config.metrics.enabled && config.metrics.port === undefined,
    shutdownGate: gate,
  });

  const server = createServer(app);
  server.listen(config.listen.port, config.listen.host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  const url = `http://${host}:${port}`;
  const metricsServer: MetricsServer | undefined =
    config.metrics.enabled && config.metrics.port !== undefined
      ? await startMetricsServer(metrics, config.metrics.host ?? config.listen.host, config.metrics.port)
      : undefined;
  const metricsUrl = config.metrics.enabled ? (metricsServer?.url ?? `${url}/metrics`) : undefined;
  logger.info({ url, metricsUrl, serverName: config.serverName, auth: config.auth.type, membership: config.membership.address }, 'cs gateway listening');

  let stopped: Promise<void> | undefined;
  return {
    port,
    url,
    metricsUrl,
    stop() {
      stopped ??= (async () => {
        // Refuse new requests with 503 while load balancers notice (/readyz is 503
        // now), then stop listening and let the requests in flight finish.
        gate.begin();
        if (config.shutdownDrainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainDelayMs));
        if ((await closeHttpServer(server, config.shutdownGraceMs)) === 'cut-off') {
          logger.warn({ graceMs: config.shutdownGraceMs }, 'requests were still running after the grace period and were cut off');
        }
        await metricsServer?.close();
        membership.close();
        health.close();
        store?.close();
        logger.info('cs gateway stopped');
      })();
      return stopped;
    },
  };
}
