// A small promise-based layer over a grpc-js Server: typed handlers read from
// the generated service definitions, Matrix error mapping, grpc.health.v1,
// server reflection and a graceful shutdown.
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { ErrCode, MatrixError, isMatrixError } from '@membrane/matrix-errors';
import { toGrpcStatus } from './errors.js';
import { stderrLogger } from './logger.js';
import type { RpcLogger } from './logger.js';
import { requestIdOf } from './metadata.js';
import { serviceNameOf } from './service-types.js';
import type {
  MethodDefinitionLike,
  RequestOf,
  ResponseOf,
  ServerStreamingMethod,
  ServiceDefinitionLike,
  UnaryMethod,
} from './service-types.js';

/** What unary and streaming server calls have in common (grpc-js does not export the name). */
type SurfaceCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

/** What a handler knows about the call it serves. */
export interface CallContext {
  /** Full method path, e.g. `/matrix.membership.v1.MembershipService/PerformLeave`. */
  readonly method: string;
  readonly metadata: grpc.Metadata;
  /** The `x-request-id` the caller sent, for logs. */
  readonly requestId: string | undefined;
  readonly peer: string;
  /** The caller's deadline; pass it to downstream calls so they give up together. */
  readonly deadline: Date | undefined;
  /**
   * Aborted when the caller cancels or its deadline passes, when the server
   * shuts down (streams), or when the shutdown grace period ends (unary).
   */
  readonly signal: AbortSignal;
}

export type UnaryHandler<Request, Response> = (request: Request, context: CallContext) => Promise<Response>;
/** Usually an `async function*`; it should stop when `context.signal` aborts. */
export type ServerStreamingHandler<Request, Response> = (
  request: Request,
  context: CallContext,
) => AsyncIterable<Response>;

type HandlerFor<M> = M extends UnaryMethod
  ? UnaryHandler<RequestOf<M>, ResponseOf<M>>
  : M extends ServerStreamingMethod
    ? ServerStreamingHandler<RequestOf<M>, ResponseOf<M>>
    : never; // client and bidi streaming are not used by the contracts

/** Every method of a service, typed from its generated definition. */
export type ServiceImplementation<S extends ServiceDefinitionLike> = { readonly [K in keyof S]: HandlerFor<S[K]> };

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

export interface RpcServerOptions {
  /** Receives errors that are not MatrixErrors (logged, then answered as INTERNAL). Default: JSON lines on stderr. */
  readonly logger?: RpcLogger;
  /** A FileDescriptorSet of the served contracts (`fileDescriptorSet` of @membrane/proto); enables server reflection. */
  readonly descriptorSet?: Uint8Array;
  /** Default: insecure (plaintext inside the cluster). */
  readonly credentials?: grpc.ServerCredentials;
  readonly serverOptions?: grpc.ServerOptions;
}

export interface ShutdownOptions {
  /**
   * Time between reporting NOT_SERVING and refusing new calls, so that load
   * balancers and health probes see the change first. Default 0.
   */
  readonly drainDelayMs?: number;
}

export interface ShutdownResult {
  /** True when calls were still running after the grace period and were cut off. */
  readonly forced: boolean;
}

export interface RpcServer {
  /** Adds a service; call before `start`. */
  add<S extends ServiceDefinitionLike>(service: S, implementation: ServiceImplementation<S>): RpcServer;
  /** Sets the grpc.health.v1 status of one service, or of the server ('') and every service. */
  setServing(serving: boolean, serviceName?: string): void;
  /** Binds (e.g. `127.0.0.1:0`), reports SERVING, and resolves to the bound port. */
  start(address: string): Promise<number>;
  /**
   * NOT_SERVING → (drainDelayMs) → refuse new calls and end server streams
   * with UNAVAILABLE (clients resume elsewhere) → wait up to `graceMs` for
   * unary calls in flight → cut off what remains. Idempotent.
   */
  shutdown(graceMs: number, options?: ShutdownOptions): Promise<ShutdownResult>;
  /** Fully qualified names of the added services. */
  readonly serviceNames: readonly string[];
  /** The underlying grpc-js server, for what this layer does not cover. */
  readonly grpcServer: grpc.Server;
}

/** A call the server may have to end at shutdown. */
interface ActiveCall {
  readonly streaming: boolean;
  end(): void;
}

const ABORTED = Symbol('aborted');

function abortedPromise(signal: AbortSignal): { promise: Promise<typeof ABORTED>; dispose(): void } {
  let onAbort = (): void => undefined;
  const promise = new Promise<typeof ABORTED>((resolve) => {
    onAbort = () => resolve(ABORTED);
    if (signal.aborted) resolve(ABORTED);
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

function abortError(message: string): Error {
  const err = new Error(message);
  err.name = 'AbortError';
  return err;
}

function deadlineOf(call: SurfaceCall): Date | undefined {
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

/** Runs a handler so that a synchronous throw becomes a rejection. */
function invoke<T>(fn: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve) => resolve(fn()));
}

/**
 * Writes what the handler yields, respecting back-pressure, until the
 * iterable ends or the signal aborts. On abort it asks the generator to
 * return (running its `finally`) without waiting for it.
 */
async function pump(
  iterable: AsyncIterable<unknown>,
  call: grpc.ServerWritableStream<unknown, unknown>,
  signal: AbortSignal,
): Promise<void> {
  const iterator = iterable[Symbol.asyncIterator]();
  const aborted = abortedPromise(signal);
  let exhausted = false;
  try {
    for (;;) {
      const next = iterator.next();
      next.catch(() => undefined); // a rejection that loses the race must not go unhandled
      const result = await Promise.race([next, aborted.promise]);
      if (result === ABORTED) return;
      if (result.done === true) {
        exhausted = true;
        return;
      }
      if (!call.write(result.value)) {
        try {
          await once(call, 'drain', { signal });
        } catch {
          return; // aborted, or the call failed underneath
        }
      }
    }
  } finally {
    aborted.dispose();
    if (!exhausted) void invoke(async () => iterator.return?.()).catch(() => undefined);
  }
}

export function createRpcServer(options: RpcServerOptions = {}): RpcServer {
  const logger = options.logger ?? stderrLogger;
  const grpcServer = new grpc.Server(options.serverOptions);
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  const serviceNames: string[] = [];
  const activeCalls = new Set<ActiveCall>();
  let started = false;
  let stopping = false;
  let shutdownResult: Promise<ShutdownResult> | undefined;

  const shutdownStatus = (): grpc.ServiceError =>
    toGrpcStatus(new MatrixError(503, ErrCode.UNKNOWN, 'Server is shutting down'));

  /** Unary calls whose answer was sent. */
  const answered = new WeakSet<SurfaceCall>();

  function track(call: ActiveCall): () => void {
    activeCalls.add(call);
    return () => activeCalls.delete(call);
  }

  function statusFor(err: unknown, context: CallContext): grpc.ServiceError {
    if (!isMatrixError(err)) {
      const fields = { method: context.method, requestId: context.requestId, err };
      // After a cancellation the failure is usually the abort itself.
      if (context.signal.aborted) logger.warn(fields, 'RPC handler failed after the call was cancelled');
      else logger.error(fields, 'RPC handler failed with a non-Matrix error');
    }
    return toGrpcStatus(err);
  }

  function contextFor(call: SurfaceCall, method: string): { context: CallContext; controller: AbortController } {
    const controller = new AbortController();
    // grpc-js reports 'cancelled' whenever the stream closes, also after a
    // unary call was answered; only a cancel before the answer matters (and
    // an Error with its stack trace per call is not free).
    call.on('cancelled', () => {
      if (!answered.has(call)) controller.abort(abortError('The call was cancelled'));
    });
    if (call.cancelled) controller.abort(abortError('The call was cancelled'));
    const context: CallContext = {
      method,
      metadata: call.metadata,
      requestId: requestIdOf(call.metadata),
      peer: call.getPeer(),
      deadline: deadlineOf(call),
      signal: controller.signal,
    };
    return { context, controller };
  }

  function unaryHandler(
    method: string,
    handler: UnaryHandler<unknown, unknown>,
  ): grpc.handleUnaryCall<unknown, unknown> {
    return (call, callback) => {
      const { context, controller } = contextFor(call, method);
      const untrack = track({ streaming: false, end: () => controller.abort(abortError('Server is shutting down')) });
      invoke(() => handler(call.request, context))
        .then(
          (response) => {
            answered.add(call);
            callback(null, response);
          },
          (err: unknown) => {
            answered.add(call);
            callback(statusFor(err, context));
          },
        )
        .finally(untrack);
    };
  }

  function serverStreamingHandler(
    method: string,
    handler: ServerStreamingHandler<unknown, unknown>,
  ): grpc.handleServerStreamingCall<unknown, unknown> {
    return (call) => {
      if (stopping) {
        call.emit('error', shutdownStatus());
        return;
      }
      const { context, controller } = contextFor(call, method);
      let endedByShutdown = false;
      const untrack = track({
        streaming: true,
        end: () => {
          endedByShutdown = true;
          controller.abort(abortError('Server is shutting down'));
        },
      });
      invoke(() => pump(handler(call.request, context), call, context.signal))
        .then(
          () => {
            if (endedByShutdown) call.emit('error', shutdownStatus());
            else if (!controller.signal.aborted) call.end();
          },
          (err: unknown) => {
            if (endedByShutdown) call.emit('error', shutdownStatus());
            else if (!controller.signal.aborted) call.emit('error', statusFor(err, context));
          },
        )
        .finally(untrack);
    };
  }

  function handlerFor(definition: MethodDefinitionLike, handler: unknown): grpc.UntypedHandleCall {
    if (typeof handler !== 'function') throw new Error(`no handler for ${definition.path}`);
    if (definition.requestStream) throw new Error(`${definition.path}: client streaming is not supported`);
    return definition.responseStream
      ? serverStreamingHandler(definition.path, handler as ServerStreamingHandler<unknown, unknown>)
      : unaryHandler(definition.path, handler as UnaryHandler<unknown, unknown>);
  }

  // The health Watch stream never ends by itself; track it so that shutdown
  // ends it (after it reported NOT_SERVING) instead of waiting for the grace period.
  health.addToServer({
    addService(definition, implementation) {
      const watch = implementation['watch'] as grpc.handleServerStreamingCall<unknown, unknown> | undefined;
      const trackedWatch: grpc.handleServerStreamingCall<unknown, unknown> = (call) => {
        watch?.(call);
        if (stopping) {
          call.end();
          return;
        }
        const untrack = track({ streaming: true, end: () => call.end() });
        call.on('cancelled', untrack);
        call.on('finish', untrack);
      };
      grpcServer.addService(definition as unknown as grpc.ServiceDefinition, { ...implementation, watch: trackedWatch });
    },
  });

  function setServing(serving: boolean, serviceName?: string): void {
    const status: ServingStatus = serving ? 'SERVING' : 'NOT_SERVING';
    const names = serviceName === undefined ? ['', ...serviceNames] : [serviceName];
    for (const name of names) health.setStatus(name, status);
  }

  function addReflection(descriptorSet: Uint8Array): void {
    const definitions = {
      ...loadFileDescriptorSetFromBuffer(Buffer.from(descriptorSet)),
      ...loadSync(healthProtoPath),
    };
    const reflection = new ReflectionService(definitions, { services: [...serviceNames, HEALTH_SERVICE_NAME] });
    reflection.addToServer(grpcServer);
  }

  async function runShutdown(graceMs: number, shutdownOptions: ShutdownOptions): Promise<ShutdownResult> {
    setServing(false);
    const drainDelayMs = shutdownOptions.drainDelayMs ?? 0;
    if (drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
    stopping = true;
    for (const call of [...activeCalls]) if (call.streaming) call.end();
    let timer: NodeJS.Timeout | undefined;
    const closed = new Promise<'closed'>((resolve) => grpcServer.tryShutdown(() => resolve('closed')));
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), graceMs);
    });
    const outcome = await Promise.race([closed, expired]);
    clearTimeout(timer);
    if (outcome === 'closed') return { forced: false };
    logger.warn({ unfinishedCalls: activeCalls.size, graceMs }, 'RPC server shutdown grace period ended; cutting off calls');
    for (const call of [...activeCalls]) call.end();
    grpcServer.forceShutdown();
    return { forced: true };
  }

  const server: RpcServer = {
    add(service, implementation) {
      if (started) throw new Error('add services before start()');
      const name = serviceNameOf(service);
      const handlers: grpc.UntypedServiceImplementation = {};
      for (const [key, definition] of Object.entries(service)) {
        const handler = (implementation as Record<string, unknown>)[key];
        // Bound, so that an implementation may be a class instance using `this`.
        handlers[key] = handlerFor(definition, typeof handler === 'function' ? handler.bind(implementation) : handler);
      }
      grpcServer.addService(service as unknown as grpc.ServiceDefinition, handlers);
      serviceNames.push(name);
      health.setStatus(name, 'NOT_SERVING');
      return server;
    },
    setServing,
    async start(address) {
      if (!started && options.descriptorSet !== undefined) addReflection(options.descriptorSet);
      started = true;
      const credentials = options.credentials ?? grpc.ServerCredentials.createInsecure();
      const port = await new Promise<number>((resolve, reject) => {
        grpcServer.bindAsync(address, credentials, (err, boundPort) => (err ? reject(err) : resolve(boundPort)));
      });
      if (!stopping) setServing(true);
      return port;
    },
    shutdown(graceMs, shutdownOptions = {}) {
      shutdownResult ??= runShutdown(graceMs, shutdownOptions);
      return shutdownResult;
    },
    serviceNames,
    grpcServer,
  };
  return server;
}
