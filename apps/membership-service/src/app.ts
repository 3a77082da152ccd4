// Assembles the membership service from its configuration: storage, signing
// key, core, gRPC server with health and reflection. `main.ts` is the CLI
// around it; tests start it in-process the same way.
import { mkdirSync } from 'node:fs';
import type { Interceptor } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { createAppLogger, createMetricsRegistry, grpcClientMetricsInterceptor, grpcServerMetricsInterceptor, startMetricsServer } from '@membrane/observability';
import { loadOrCreateSigningKey } from '@membrane/config';
import { MembershipServiceService, RemoteLeaveKind, RemoteMembershipServiceClient, fileDescriptorSet } from '@membrane/proto';
import { createRpcClient, createRpcServer } from '@membrane/rpc';
import { encodeVerifyKey } from '@membrane/signing';
import type { MembershipServiceConfig } from './config.js';
import { signingKeyPathOf, sqlitePathOf } from './config.js';
import { CommitNotifier } from './commit-notifier.js';
import { membershipServiceHandlers } from './grpc-handlers.js';
import { MembershipCore } from './membership-core.js';
import type { RemoteMembership } from './membership-core.js';
import { outOfBandLeaveCounter, registerOutboxMetrics } from './metrics.js';
import { openStorage } from './storage/index.js';
import type { StorageConfig } from './storage/index.js';

export interface RunningMembershipService {
  /** The bound gRPC port. */
  readonly port: number;
  readonly address: string;
  readonly core: MembershipCore;
  /** Health to NOT_SERVING, drain calls within the grace period, close the database. */
  stop(): Promise<void>;
}

export async function startMembershipService(config: MembershipServiceConfig, logger: Logger = createAppLogger({ app: 'membership-service', level: config.logLevel })): Promise<RunningMembershipService> {
  const metrics = createMetricsRegistry({ app: 'membership-service' });
  mkdirSync(config.dataDir, { recursive: true });
  const { key, generated } = loadOrCreateSigningKey(signingKeyPathOf(config));
  if (generated) logger.info({ keyId: key.keyId, path: signingKeyPathOf(config) }, 'generated a new signing key');
  logger.info({ keyId: key.keyId, publicKey: encodeVerifyKey(key) }, 'signing key loaded');

  const storageConfig: StorageConfig =
    config.database.engine === 'sqlite'
      ? { engine: 'sqlite', path: sqlitePathOf(config) }
      : {
          engine: 'postgres',
          url: config.database.url,
          ...(config.database.schema === undefined ? {} : { schema: config.database.schema }),
          ...(config.database.poolSize === undefined ? {} : { poolSize: config.database.poolSize }),
        };
  const storage = await openStorage(storageConfig);
  registerOutboxMetrics(metrics, storage);
  const outOfBandLeaves = outOfBandLeaveCounter(metrics);
  const notifier = new CommitNotifier();
  const remote = config.remote === undefined ? undefined : remoteMembershipClient(config.remote.address, config.remote.deadlineMs, [grpcClientMetricsInterceptor(metrics)]);
  const core = new MembershipCore({
    storage,
    signer: { serverName: config.serverName, key },
    defaultRoomVersion: config.defaultRoomVersion,
    forgetRoomsOnLeave: config.forgetRoomsOnLeave,
    ...(remote === undefined ? {} : { remote }),
    onCommitted: () => notifier.notify(),
    onOutOfBandLeave: ({ roomId, userId, reason, error }) => {
      outOfBandLeaves.inc({ reason });
      logger.warn({ roomId, userId, reason, err: error }, 'no remote server took the leave; recorded an out-of-band leave');
    },
    onUnbelievedMembership: (details) => logger.warn(details, 'ignored the end of an invite or knock from a server it is not believed from'),
  });

  const server = createRpcServer({
    descriptorSet: fileDescriptorSet,
    serverOptions: { interceptors: [grpcServerMetricsInterceptor(metrics)] },
    logger: { error: (fields, message) => logger.error(fields, message), warn: (fields, message) => logger.warn(fields, message) },
  });
  server.add(MembershipServiceService, membershipServiceHandlers({ core, storage, notifier }));
  const port = await server.start(config.grpc.listen);
  const host = config.grpc.listen.slice(0, config.grpc.listen.lastIndexOf(':'));
  const address = `${host}:${port}`;
  const metricsServer = config.metrics.port === undefined ? undefined : await startMetricsServer(metrics, config.metrics.host, config.metrics.port);
  logger.info({ address, serverName: config.serverName, database: storage.engine, metricsUrl: metricsServer?.url }, 'membership service listening');

  let stopping: Promise<void> | undefined;
  return {
    port,
    address,
    core,
    stop() {
      stopping ??= (async () => {
        const { forced } = await server.shutdown(config.shutdownGraceMs);
        if (forced) logger.warn('calls were still running after the grace period and were cut off');
        await metricsServer?.close();
        await storage.close();
        logger.info('membership service stopped');
      })();
      return stopping;
    },
  };
}

/** RemoteMembership over the federation gateway's gRPC contract. */
function remoteMembershipClient(address: string, deadlineMs: number, interceptors: Interceptor[]): RemoteMembership {
  const client = createRpcClient(RemoteMembershipServiceClient, address, { defaultDeadlineMs: deadlineMs, channelOptions: { interceptors } });
  let notifyPending = false;
  return {
    async leave(request) {
      const answer = await client.performRemoteLeave({
        roomId: request.roomId,
        userId: request.userId,
        serverNames: [...request.serverNames],
        roomVersion: request.roomVersion,
        kind: request.kind === 'rescind-knock' ? RemoteLeaveKind.RESCIND_KNOCK : RemoteLeaveKind.REJECT_INVITE,
        ...(request.reason === undefined ? {} : { reason: request.reason }),
      });
      // No server accepted it: the caller records an out-of-band leave.
      if (answer.leaveEventJson === '') throw new Error(`no server accepted the leave: ${answer.attempts.map((a) => `${a.serverName} ${a.endpoint} ${a.message}`).join('; ')}`);
      return { eventJson: answer.leaveEventJson };
    },
    async invite(request) {
      const answer = await client.performRemoteInvite({
        roomId: request.roomId,
        roomVersion: request.roomVersion,
        eventJson: request.eventJson,
        inviteRoomStateJson: [...request.inviteRoomStateJson],
      });
      return { eventJson: answer.eventJson };
    },
    async join(request) {
      const answer = await client.performRemoteJoin({
        roomIdOrAlias: request.roomId,
        userId: request.userId,
        serverNames: [...request.serverNames],
        supportedRoomVersions: [...request.supportedRoomVersions],
        contentExtrasJson: request.reason === undefined ? '' : JSON.stringify({ reason: request.reason }),
      });
      return { roomVersion: answer.roomVersion, joinEventJson: answer.joinEventJson, stateJson: answer.stateJson, authChainJson: answer.authChainJson };
    },
    async knock(request) {
      const answer = await client.performRemoteKnock({
        roomId: request.roomId,
        userId: request.userId,
        serverNames: [...request.serverNames],
        supportedRoomVersions: [...request.supportedRoomVersions],
        ...(request.reason === undefined ? {} : { reason: request.reason }),
      });
      return { roomVersion: answer.roomVersion, knockEventJson: answer.knockEventJson, knockRoomStateJson: answer.knockRoomStateJson, serverName: answer.serverName };
    },
    notifyOutbox() {
      // Coalesce the commits of a burst into one wake-up; the sender also polls, so a lost one only delays.
      if (notifyPending) return;
      notifyPending = true;
      setTimeout(() => {
        notifyPending = false;
        client.notifyOutbox({ destinations: [] }, { deadlineMs: 5_000 }).catch(() => undefined);
      }, 10).unref();
    },
  };
}
