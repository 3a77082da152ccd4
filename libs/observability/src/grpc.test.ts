// The gRPC interceptors with @membrane/rpc's server and client over real gRPC.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '@membrane/matrix-errors';
import { Membership, MembershipServiceClient, MembershipServiceService } from '@membrane/proto';
import { createRpcClient, createRpcServer, unimplemented } from '@membrane/rpc';
import type { RpcClient, RpcServer } from '@membrane/rpc';
import { createMetricsRegistry, grpcClientMetricsInterceptor, grpcServerMetricsInterceptor, requestIdOfMetadata } from './index.js';

const serverRegistry = createMetricsRegistry({ app: 'service', defaultMetrics: false });
const clientRegistry = createMetricsRegistry({ app: 'gateway', defaultMetrics: false });
const seenRequestIds: (string | undefined)[] = [];
let server: RpcServer;
let client: RpcClient<typeof MembershipServiceService>;

before(async () => {
  server = createRpcServer({ serverOptions: { interceptors: [grpcServerMetricsInterceptor(serverRegistry)] }, logger: { error: () => undefined, warn: () => undefined } });
  server.add(MembershipServiceService, {
    ...unimplemented(MembershipServiceService),
    async queryMembership(request, context) {
      seenRequestIds.push(requestIdOfMetadata(context.metadata));
      if (request.roomId === '!missing:hs') throw MatrixError.notFound('Unknown room');
      return { membership: Membership.JOIN, eventId: '$e', forgotten: false, roomKnown: true };
    },
  });
  const port = await server.start('127.0.0.1:0');
  client = createRpcClient(MembershipServiceClient, `127.0.0.1:${port}`, {
    channelOptions: { interceptors: [grpcClientMetricsInterceptor(clientRegistry)] },
  });
});

after(async () => {
  client.close();
  await server.shutdown(1000);
});

async function value(registry: typeof serverRegistry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const sample = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return sample?.value ?? 0;
}

describe('gRPC metrics interceptors', () => {
  it('count calls by method and status code on both sides, with latency, and carry the request ID', async () => {
    const method = '/matrix.membership.v1.MembershipService/QueryMembership';
    await client.queryMembership({ roomId: '!r:hs', userId: '@a:hs' }, { requestId: 'req-1' });
    await client.queryMembership({ roomId: '!r:hs', userId: '@a:hs' }, { requestId: 'req-2' });
    await assert.rejects(client.queryMembership({ roomId: '!missing:hs', userId: '@a:hs' }), (err: unknown) => err instanceof MatrixError && err.status === 404);
    await assert.rejects(client.performLeave({ roomId: '!r:hs', userId: '@a:hs' }));

    for (const registry of [serverRegistry, clientRegistry]) {
      const side = registry === serverRegistry ? 'server' : 'client';
      assert.equal(await value(registry, `grpc_${side}_calls_total`, { method, code: 'OK' }), 2, side);
      assert.equal(await value(registry, `grpc_${side}_calls_total`, { method, code: 'NOT_FOUND' }), 1, side);
      assert.equal(await value(registry, `grpc_${side}_calls_total`, { method: '/matrix.membership.v1.MembershipService/PerformLeave', code: 'UNIMPLEMENTED' }), 1, side);
      const countLine = (await registry.metrics())
        .split('\n')
        .find((line) => line.startsWith(`grpc_${side}_call_duration_seconds_count{`) && line.includes(`method="${method}"`) && line.includes('code="OK"'));
      assert.ok(countLine?.endsWith(' 2'), `${side}: ${String(countLine)}`);
    }
    assert.deepEqual(seenRequestIds.slice(0, 2), ['req-1', 'req-2']);
  });
});
