import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MembershipServiceClient, MembershipServiceService } from '@membrane/proto';
import { REQUEST_ID_METADATA_KEY, createRpcClient, createRpcServer, unimplemented } from '@membrane/rpc';
import { currentRequestId, requestIdClientInterceptor, runWithRequestId } from './request-context.js';

describe('request context', () => {
  it('keeps the request ID across awaits and only inside the request', async () => {
    assert.equal(currentRequestId(), undefined);
    await runWithRequestId('req-1', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      assert.equal(currentRequestId(), 'req-1');
    });
    assert.equal(currentRequestId(), undefined);
  });

  it('puts the current request ID on gRPC calls made inside the request', async () => {
    const seen: (string | undefined)[] = [];
    const server = createRpcServer();
    server.add(MembershipServiceService, {
      ...unimplemented(MembershipServiceService),
      async queryEvent(_request, context) {
        seen.push(context.requestId);
        return { eventJson: '{}', roomId: '!r:hs', roomVersion: '11', rejected: false };
      },
    });
    const port = await server.start('127.0.0.1:0');
    const client = createRpcClient(MembershipServiceClient, `127.0.0.1:${port}`, { channelOptions: { interceptors: [requestIdClientInterceptor()] } });
    try {
      await runWithRequestId('req-42', () => client.queryEvent({ eventId: '$e' }));
      await client.queryEvent({ eventId: '$e' });
      await runWithRequestId('req-43', () => client.queryEvent({ eventId: '$e' }, { metadata: { [REQUEST_ID_METADATA_KEY]: 'explicit' } }));
      assert.deepEqual(seen, ['req-42', undefined, 'explicit']);
    } finally {
      client.close();
      await server.shutdown(1000);
    }
  });
});
