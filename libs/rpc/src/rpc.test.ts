// The RPC helpers over real gRPC on 127.0.0.1: a server built with
// createRpcServer serving the generated MembershipService contract, called
// through createRpcClient and through plain grpc-js clients.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { service as healthServiceDefinition } from 'grpc-health-check';
import { pino } from 'pino';
import { MatrixError } from '@membrane/matrix-errors';
import {
  Membership,
  MembershipServiceClient,
  MembershipServiceService,
  RoomOutputKind,
  fileDescriptorSet,
} from '@membrane/proto';
import type { WatchRoomEventsResponse } from '@membrane/proto';
import { createRpcClient, createRpcServer, unimplemented } from './index.js';
import type { RpcClient, RpcLogger, RpcServer, ServiceImplementation } from './index.js';

type LogEntry = { level: 'error' | 'warn'; fields: Record<string, unknown>; message: string };

function capturingLogger(): RpcLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    error: (fields, message) => entries.push({ level: 'error', fields, message }),
    warn: (fields, message) => entries.push({ level: 'warn', fields, message }),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `signal` aborts (or at once if it already has). */
function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Fails the test instead of hanging when `promise` does not settle in time. */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected the call to fail');
}

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** What the fake service saw, for assertions on the server side. */
interface Observations {
  slowCallAborted: ReturnType<typeof deferred>;
  streamFinished: ReturnType<typeof deferred>;
  streamSignalAborted: boolean;
}

const THROWN = new MatrixError(403, 'M_FORBIDDEN', 'Ünïcödé, 100% sure:\nline two 🚪', {
  retry_after_ms: 1500,
  room_version: '12',
  soft: true,
  nothing: null,
});

/** A MembershipService whose behaviour is chosen by the request's room ID. */
function fakeMembership(seen: Observations): ServiceImplementation<typeof MembershipServiceService> {
  return {
    ...unimplemented(MembershipServiceService),
    async queryMembership(request, context) {
      return {
        membership: Membership.JOIN,
        eventId: `${request.roomId}|${request.userId}|${context.requestId ?? ''}|${context.metadata.get('x-extra')[0] ?? ''}`,
        forgotten: false,
        roomKnown: context.deadline !== undefined,
      };
    },
    async performLeave(request, context) {
      switch (request.roomId) {
        case '!matrix:x':
          throw THROWN;
        case '!bug:x':
          throw new Error('secret detail at /srv/membership/leave.ts:42');
        case '!slow:x':
          await whenAborted(context.signal);
          seen.slowCallAborted.resolve();
          throw new Error('aborted');
        case '!stuck:x':
          // Ignores its signal on purpose; the timer must not keep the test process alive.
          await new Promise((resolve) => setTimeout(resolve, 10_000).unref());
          return { eventId: '$late', eventCreated: true };
        case '!wait:x':
          await sleep(Number(request.reason ?? '0'));
          return { eventId: '$waited', eventCreated: true };
        default:
          return { eventId: `$leave-${request.userId}`, eventCreated: request.reason !== 'again' };
      }
    },
    async *watchRoomEvents(request, context) {
      try {
        if (request.roomIds.includes('!failing:x')) {
          yield { position: 1, roomId: '!failing:x', kind: RoomOutputKind.NEW_EVENT, eventId: '$1', eventJson: '{}', roomVersion: '12', userId: '' };
          throw new MatrixError(404, 'M_NOT_FOUND', 'Room went away', { room_id: '!failing:x' });
        }
        // An endless stream; it ends only when the caller cancels or the server stops.
        for (let position = request.fromPosition + 1; ; position += 1) {
          yield {
            position,
            roomId: '!room:x',
            kind: RoomOutputKind.NEW_EVENT,
            eventId: `$e${position}`,
            eventJson: `{"position":${position}}`,
            roomVersion: '12',
            membershipChange: { userId: '@a:x', previous: Membership.JOIN, current: Membership.LEAVE, sender: '@a:x', outOfBand: false },
            userId: '',
          };
          await sleep(5);
        }
      } finally {
        seen.streamSignalAborted = context.signal.aborted;
        seen.streamFinished.resolve();
      }
    },
  };
}

function freshObservations(): Observations {
  return { slowCallAborted: deferred(), streamFinished: deferred(), streamSignalAborted: false };
}

async function startFake(logger: RpcLogger, seen: Observations): Promise<{ server: RpcServer; address: string }> {
  const server = createRpcServer({ logger, descriptorSet: fileDescriptorSet }).add(
    MembershipServiceService,
    fakeMembership(seen),
  );
  const port = await server.start('127.0.0.1:0');
  return { server, address: `127.0.0.1:${port}` };
}

// Plain grpc-js clients for what @membrane/rpc does not wrap (health, reflection, raw status).
const HealthClient = grpc.makeGenericClientConstructor(
  healthServiceDefinition as unknown as grpc.ServiceDefinition,
  'grpc.health.v1.Health',
);

function healthCheck(address: string, service: string): Promise<string> {
  const client = new HealthClient(address, grpc.credentials.createInsecure());
  return new Promise<string>((resolve, reject) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      healthServiceDefinition['Check']!.requestSerialize,
      healthServiceDefinition['Check']!.responseDeserialize,
      { service },
      (err, response) => {
        client.close();
        if (err) reject(err);
        else resolve((response as { status: string }).status);
      },
    );
  });
}

describe('createRpcServer + createRpcClient over loopback', () => {
  const logger = capturingLogger();
  const seen = freshObservations();
  let server: RpcServer;
  let address: string;
  let client: RpcClient<typeof MembershipServiceService>;

  before(async () => {
    ({ server, address } = await startFake(logger, seen));
    client = createRpcClient(MembershipServiceClient, address, { defaultDeadlineMs: 2000 });
  });

  after(async () => {
    client.close();
    await server.shutdown(1000);
  });

  it('answers a unary call with the typed response, passing request id and metadata through', async () => {
    const response = await client.queryMembership(
      { roomId: '!r:x', userId: '@u:x' },
      { requestId: 'req-17', metadata: { 'x-extra': 'hello' } },
    );
    assert.deepEqual(response, {
      membership: Membership.JOIN,
      eventId: '!r:x|@u:x|req-17|hello',
      forgotten: false,
      roomKnown: true, // the handler saw the client's default deadline
    });
  });

  it('gives the client the identical MatrixError the handler threw', async () => {
    const err = await rejectionOf(client.performLeave({ roomId: '!matrix:x', userId: '@u:x' }));
    assert.ok(err instanceof MatrixError);
    assert.equal(err.status, THROWN.status);
    assert.equal(err.errcode, THROWN.errcode);
    assert.equal(err.message, THROWN.message);
    assert.deepEqual(err.extra, THROWN.extra);
    assert.deepEqual(err.toJSON(), THROWN.toJSON());
  });

  it('round-trips MatrixErrors of every status class, custom errcodes included', async () => {
    const errors = [
      MatrixError.badJson('bad'),
      MatrixError.unauthorized('who'),
      MatrixError.notFound('Unknown room'),
      new MatrixError(409, 'M_ROOM_IN_USE', 'taken'),
      MatrixError.tooLarge('big'),
      MatrixError.limitExceeded(250),
      MatrixError.unknown('User @a:x is in room !r:x'),
      new MatrixError(418, 'com.example.TEAPOT', ''),
      new MatrixError(500, 'M_UNKNOWN', 'db down'),
      new MatrixError(502, 'M_UNKNOWN', 'peer failed', { server: 'remote.example' }),
      new MatrixError(503, 'M_UNKNOWN', 'later'),
      new MatrixError(504, 'M_UNKNOWN', 'peer timed out'),
    ];
    const errorServer = createRpcServer({ logger: capturingLogger() }).add(MembershipServiceService, {
      ...unimplemented(MembershipServiceService),
      async performKick(request) {
        const err = errors[Number(request.target)];
        assert.ok(err);
        throw err;
      },
    });
    const port = await errorServer.start('127.0.0.1:0');
    const errorClient = createRpcClient(MembershipServiceClient, `127.0.0.1:${port}`);
    try {
      for (const [index, expected] of errors.entries()) {
        const err = await rejectionOf(errorClient.performKick({ roomId: '!r:x', sender: '@a:x', target: String(index) }));
        assert.ok(err instanceof MatrixError);
        assert.deepEqual(
          [err.status, err.errcode, err.message, err.extra],
          [expected.status, expected.errcode, expected.message, expected.extra],
        );
      }
    } finally {
      errorClient.close();
      await errorServer.shutdown(1000);
    }
  });

  it('calls handlers with the implementation as `this`', async () => {
    const implementation = {
      ...unimplemented(MembershipServiceService),
      forgotten: [] as string[],
      async performForget(request: { roomId: string }) {
        this.forgotten.push(request.roomId);
        return {};
      },
    };
    const thisServer = createRpcServer({ logger: capturingLogger() }).add(MembershipServiceService, implementation);
    const port = await thisServer.start('127.0.0.1:0');
    const thisClient = createRpcClient(MembershipServiceClient, `127.0.0.1:${port}`);
    try {
      assert.deepEqual(await thisClient.performForget({ roomId: '!f:x', userId: '@u:x' }), {});
      assert.deepEqual(implementation.forgotten, ['!f:x']);
    } finally {
      thisClient.close();
      await thisServer.shutdown(1000);
    }
  });

  it('answers a non-Matrix error with INTERNAL and a generic message, and logs the real error', async () => {
    const before = logger.entries.length;
    const err = await rejectionOf(client.performLeave({ roomId: '!bug:x', userId: '@u:x' }, { requestId: 'req-bug' }));
    assert.ok(err instanceof MatrixError);
    assert.deepEqual([err.status, err.errcode, err.message], [500, 'M_UNKNOWN', 'Internal server error']);

    // What is on the wire: the raw grpc-js client sees INTERNAL and nothing of the original error.
    const raw = new MembershipServiceClient(address, grpc.credentials.createInsecure());
    const status = await new Promise<grpc.ServiceError | null>((resolve) => {
      raw.performLeave({ roomId: '!bug:x', userId: '@u:x' }, (error) => resolve(error));
    });
    raw.close();
    assert.ok(status);
    assert.equal(status.code, grpc.status.INTERNAL);
    assert.equal(status.details, 'Internal server error');
    assert.doesNotMatch(JSON.stringify(status.metadata.getMap()), /secret/);

    const logged = logger.entries.slice(before);
    assert.equal(logged.length, 2);
    assert.equal(logged[0]?.level, 'error');
    assert.equal(logged[0]?.fields['method'], '/matrix.membership.v1.MembershipService/PerformLeave');
    assert.equal(logged[0]?.fields['requestId'], 'req-bug');
    assert.match(String((logged[0]?.fields['err'] as Error).message), /secret detail/);
  });

  it('fails a call that outlives its deadline with 504 M_UNKNOWN and aborts the handler', async () => {
    const started = Date.now();
    const err = await rejectionOf(client.performLeave({ roomId: '!slow:x', userId: '@u:x' }, { deadlineMs: 150 }));
    assert.ok(err instanceof MatrixError);
    assert.deepEqual([err.status, err.errcode], [504, 'M_UNKNOWN']);
    assert.ok(Date.now() - started < 1500, 'the deadline, not the handler, ended the call');
    await within(2000, seen.slowCallAborted.promise, 'handler signal aborted');
  });

  it('fails a call to a server that is not there with 503 M_UNKNOWN', async () => {
    const gone = createRpcServer({ logger: capturingLogger() }).add(MembershipServiceService, unimplemented(MembershipServiceService));
    const port = await gone.start('127.0.0.1:0');
    await gone.shutdown(0);
    const orphan = createRpcClient(MembershipServiceClient, `127.0.0.1:${port}`, { defaultDeadlineMs: 3000 });
    try {
      const err = await rejectionOf(orphan.queryMembership({ roomId: '!r:x', userId: '@u:x' }));
      assert.ok(err instanceof MatrixError);
      assert.deepEqual([err.status, err.errcode], [503, 'M_UNKNOWN']);
      assert.doesNotMatch(err.message, /127\.0\.0\.1/);
    } finally {
      orphan.close();
    }
  });

  it('applies the client default deadline to every unary call', async () => {
    const shortClient = createRpcClient(MembershipServiceClient, address, { defaultDeadlineMs: 100 });
    try {
      const err = await rejectionOf(shortClient.performLeave({ roomId: '!wait:x', userId: '@u:x', reason: '600' }));
      assert.ok(err instanceof MatrixError);
      assert.equal(err.status, 504);
      // A per-call deadline overrides the default.
      const ok = await shortClient.performLeave({ roomId: '!wait:x', userId: '@u:x', reason: '200' }, { deadlineMs: 3000 });
      assert.equal(ok.eventId, '$waited');
    } finally {
      shortClient.close();
    }
  });

  it('rejects with the abort reason when the caller aborts a unary call', async () => {
    const controller = new AbortController();
    const call = client.performLeave({ roomId: '!wait:x', userId: '@u:x', reason: '500' }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('caller gave up')), 50);
    const err = await rejectionOf(call);
    assert.ok(err instanceof Error);
    assert.equal(err.message, 'caller gave up');
  });

  it('streams typed messages with int64 positions as numbers, resuming after a position', async () => {
    const received: WatchRoomEventsResponse[] = [];
    for await (const message of client.watchRoomEvents({ fromPosition: 2 ** 40, roomIds: [], startAtEnd: false })) {
      received.push(message);
      if (received.length === 3) break;
    }
    assert.deepEqual(
      received.map((m) => m.position),
      [2 ** 40 + 1, 2 ** 40 + 2, 2 ** 40 + 3],
    );
    assert.equal(received[0]?.membershipChange?.current, Membership.LEAVE);
  });

  it('cancels the server stream when the consumer stops iterating', async () => {
    const local = freshObservations();
    const { server: streamServer, address: streamAddress } = await startFake(capturingLogger(), local);
    const streamClient = createRpcClient(MembershipServiceClient, streamAddress);
    try {
      let count = 0;
      for await (const _message of streamClient.watchRoomEvents({ fromPosition: 0, roomIds: [], startAtEnd: false })) {
        count += 1;
        if (count === 2) break;
      }
      await within(2000, local.streamFinished.promise, 'server generator finished');
      assert.equal(local.streamSignalAborted, true);
    } finally {
      streamClient.close();
      await streamServer.shutdown(1000);
    }
  });

  it('ends a stream with the MatrixError its generator threw, after the messages before it', async () => {
    const received: number[] = [];
    const err = await rejectionOf(
      (async () => {
        for await (const message of client.watchRoomEvents({ fromPosition: 0, roomIds: ['!failing:x'], startAtEnd: false })) {
          received.push(message.position);
        }
      })(),
    );
    assert.deepEqual(received, [1]);
    assert.ok(err instanceof MatrixError);
    assert.deepEqual([err.status, err.errcode, err.message, err.extra], [404, 'M_NOT_FOUND', 'Room went away', { room_id: '!failing:x' }]);
  });

  it('reports SERVING through grpc.health.v1 and follows setServing', async () => {
    assert.equal(await healthCheck(address, ''), 'SERVING');
    assert.equal(await healthCheck(address, 'matrix.membership.v1.MembershipService'), 'SERVING');
    server.setServing(false, 'matrix.membership.v1.MembershipService');
    assert.equal(await healthCheck(address, 'matrix.membership.v1.MembershipService'), 'NOT_SERVING');
    assert.equal(await healthCheck(address, ''), 'SERVING');
    server.setServing(true);
    assert.equal(await healthCheck(address, 'matrix.membership.v1.MembershipService'), 'SERVING');
  });

  it('lists the services through server reflection and serves their descriptors', async () => {
    const reflectionProto = fileURLToPath(
      new URL('../../../node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto', import.meta.url),
    );
    const definition = loadSync(reflectionProto, { keepCase: true });
    const ReflectionClient = grpc.loadPackageDefinition(definition)['grpc'] as unknown as {
      reflection: { v1: { ServerReflection: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client } };
    };
    const reflection = new ReflectionClient.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure()) as grpc.Client & {
      ServerReflectionInfo(): grpc.ClientDuplexStream<object, Record<string, unknown>>;
    };
    const ask = (request: object): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        const call = reflection.ServerReflectionInfo();
        call.on('data', (response) => {
          resolve(response);
          call.end();
        });
        call.on('error', reject);
        call.write(request);
      });
    try {
      const listed = (await ask({ list_services: '' }))['list_services_response'] as { service: Array<{ name: string }> };
      const names = listed.service.map((s) => s.name).sort();
      assert.deepEqual(names, ['grpc.health.v1.Health', 'matrix.membership.v1.MembershipService']);

      const files = (await ask({ file_containing_symbol: 'matrix.membership.v1.MembershipService' }))[
        'file_descriptor_response'
      ] as { file_descriptor_proto: Buffer[] };
      const services = files.file_descriptor_proto
        .map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes))
        .flatMap((file) => file.service.map((s) => ({ pkg: file.package, name: s.name, methods: s.method.map((m) => m.name) })));
      const membership = services.find((s) => s.pkg === 'matrix.membership.v1' && s.name === 'MembershipService');
      assert.ok(membership);
      assert.ok(membership.methods.includes('PerformLeave'));
      assert.ok(membership.methods.includes('WatchRoomEvents'));
    } finally {
      reflection.close();
    }
  });
});

describe('RpcServer shutdown', () => {
  it('reports NOT_SERVING, lets the call in flight finish, ends streams with 503 and refuses new calls', async () => {
    const seen = freshObservations();
    const { server, address } = await startFake(capturingLogger(), seen);
    const client = createRpcClient(MembershipServiceClient, address, { defaultDeadlineMs: 5000 });
    try {
      // A health watcher, as a load balancer would hold.
      const watcher = new HealthClient(address, grpc.credentials.createInsecure());
      const watched: string[] = [];
      const watch = watcher.makeServerStreamRequest(
        '/grpc.health.v1.Health/Watch',
        healthServiceDefinition['Watch']!.requestSerialize,
        healthServiceDefinition['Watch']!.responseDeserialize,
        { service: '' },
      );
      watch.on('data', (message: { status: string }) => watched.push(message.status));
      watch.on('error', () => undefined);
      const watchEnded = new Promise<void>((resolve) => watch.on('close', () => resolve()));

      const stream = client.watchRoomEvents({ fromPosition: 0, roomIds: [], startAtEnd: false })[Symbol.asyncIterator]();
      assert.equal((await stream.next()).done, false);

      const inFlight = client.performLeave({ roomId: '!wait:x', userId: '@u:x', reason: '400' });
      await sleep(50);
      const shutdown = server.shutdown(3000, { drainDelayMs: 200 });

      // During the drain delay the server still answers, and says NOT_SERVING.
      await sleep(50);
      assert.equal(await healthCheck(address, ''), 'NOT_SERVING');
      assert.equal(await healthCheck(address, 'matrix.membership.v1.MembershipService'), 'NOT_SERVING');

      assert.equal((await inFlight).eventId, '$waited');
      assert.deepEqual(await within(3000, shutdown, 'shutdown'), { forced: false });
      await within(2000, watchEnded, 'health watch ended');
      assert.deepEqual(watched, ['SERVING', 'NOT_SERVING']);
      watcher.close();

      // The open stream was ended with 503 so that its consumer resumes elsewhere.
      const streamErr = await rejectionOf(
        (async () => {
          for (;;) if ((await stream.next()).done === true) return;
        })(),
      );
      assert.ok(streamErr instanceof MatrixError);
      assert.deepEqual([streamErr.status, streamErr.message], [503, 'Server is shutting down']);
      await within(2000, seen.streamFinished.promise, 'server generator finished');

      const refused = await rejectionOf(client.queryMembership({ roomId: '!r:x', userId: '@u:x' }));
      assert.ok(refused instanceof MatrixError);
      assert.equal(refused.status, 503);
    } finally {
      client.close();
    }
  });

  it('cuts off calls still running when the grace period ends', async () => {
    const logger = capturingLogger();
    const { server, address } = await startFake(logger, freshObservations());
    const client = createRpcClient(MembershipServiceClient, address, { defaultDeadlineMs: 20_000 });
    try {
      const stuck = rejectionOf(client.performLeave({ roomId: '!stuck:x', userId: '@u:x' }));
      await sleep(50);
      const started = Date.now();
      assert.deepEqual(await server.shutdown(200), { forced: true });
      assert.ok(Date.now() - started < 2000);
      const err = await within(2000, stuck, 'stuck call failed');
      assert.ok(err instanceof MatrixError);
      assert.ok(err.status >= 500);
      assert.ok(logger.entries.some((e) => e.level === 'warn' && /grace period/.test(e.message)));
      assert.deepEqual(await server.shutdown(200), { forced: true }, 'shutdown is idempotent');
    } finally {
      client.close();
    }
  });
});

describe('RpcLogger', () => {
  it('accepts a pino logger as is', () => {
    const lines: string[] = [];
    const logger: RpcLogger = pino({ base: null }, { write: (line: string) => lines.push(line) });
    logger.error({ method: '/x/Y' }, 'failed');
    assert.equal(lines.length, 1);
    assert.deepEqual(
      (({ level, method, msg }) => ({ level, method, msg }))(JSON.parse(lines[0] ?? '{}') as Record<string, unknown>),
      { level: 50, method: '/x/Y', msg: 'failed' },
    );
  });
});

// Compile-time checks: the types come from the contract and reject mistakes.
// Never called; `tsc --noEmit` fails if an expectation below stops holding.
export function typeExpectations(client: RpcClient<typeof MembershipServiceService>): void {
  // @ts-expect-error a required request field is missing
  void client.performLeave({ roomId: '!r:x' });
  // @ts-expect-error unknown request field
  void client.performForget({ roomId: '!r:x', userId: '@u:x', extra: 1 });
  // @ts-expect-error streaming methods return an AsyncIterable, not a Promise
  void client.watchRoomEvents({ fromPosition: 0, roomIds: [], startAtEnd: false }).then;
  const _impl: Pick<ServiceImplementation<typeof MembershipServiceService>, 'performLeave'> = {
    // @ts-expect-error a handler must resolve to the full response type (eventCreated is missing)
    performLeave: async () => ({ eventId: 'x' }),
  };
}
