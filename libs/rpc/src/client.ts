// A promise-based client built from a generated grpc-js client constructor:
// unary calls return promises and always carry a deadline, server-streaming
// calls are async iterables, and every failure is a MatrixError.
import * as grpc from '@grpc/grpc-js';
import { fromGrpcError } from './errors.js';
import { toMetadata } from './metadata.js';
import type { MetadataInit } from './metadata.js';
import type {
  MethodDefinitionLike,
  RequestOf,
  ResponseOf,
  ServerStreamingMethod,
  ServiceDefinitionLike,
  UnaryMethod,
} from './service-types.js';

export const DEFAULT_DEADLINE_MS = 10_000;

/** A generated client constructor, e.g. `MembershipServiceClient` of @membrane/proto. */
export interface ServiceClientConstructor<S extends ServiceDefinitionLike> {
  new (address: string, credentials: grpc.ChannelCredentials, options?: Partial<grpc.ClientOptions>): grpc.Client;
  readonly service: S;
}

export interface RpcClientOptions {
  /** Deadline of unary calls that set none. Default 10 s. */
  readonly defaultDeadlineMs?: number;
  /** Default: insecure (plaintext inside the cluster). */
  readonly credentials?: grpc.ChannelCredentials;
  readonly channelOptions?: Partial<grpc.ClientOptions>;
}

export interface RpcCallOptions {
  /** Relative deadline; overrides the client's default. */
  readonly deadlineMs?: number | undefined;
  /** Absolute deadline, e.g. a handler's `context.deadline`; the earlier of the two wins. */
  readonly deadline?: Date | undefined;
  readonly metadata?: MetadataInit | undefined;
  /** Sent as `x-request-id`. */
  readonly requestId?: string | undefined;
  /** Cancels the call; the call then rejects with `signal.reason` (not a MatrixError). */
  readonly signal?: AbortSignal | undefined;
}

export type UnaryClientMethod<Request, Response> = (request: Request, options?: RpcCallOptions) => Promise<Response>;
/** Iterating starts the call; leaving the loop early cancels it. */
export type ServerStreamingClientMethod<Request, Response> = (
  request: Request,
  options?: RpcCallOptions,
) => AsyncIterable<Response>;

type ClientMethodFor<M> = M extends UnaryMethod
  ? UnaryClientMethod<RequestOf<M>, ResponseOf<M>>
  : M extends ServerStreamingMethod
    ? ServerStreamingClientMethod<RequestOf<M>, ResponseOf<M>>
    : never;

/** Every method of a service plus `close()` (so no RPC may be named `Close`). */
export type RpcClient<S extends ServiceDefinitionLike> = { readonly [K in keyof S]: ClientMethodFor<S[K]> } & {
  /** Closes the channel; calls in flight fail. */
  close(): void;
};

function deadlineFor(options: RpcCallOptions, defaultMs: number | undefined): Date | undefined {
  const relativeMs = options.deadlineMs ?? defaultMs;
  const relative = relativeMs === undefined ? undefined : Date.now() + relativeMs;
  const absolute = options.deadline?.getTime();
  if (relative === undefined) return absolute === undefined ? undefined : new Date(absolute);
  return new Date(absolute === undefined ? relative : Math.min(relative, absolute));
}

function callOptionsFor(options: RpcCallOptions, defaultDeadlineMs: number | undefined): grpc.CallOptions {
  const deadline = deadlineFor(options, defaultDeadlineMs);
  return deadline === undefined ? {} : { deadline };
}

function rejectionFor(err: unknown, signal: AbortSignal | undefined): unknown {
  return signal?.aborted === true ? signal.reason : fromGrpcError(err);
}

function unaryMethod(
  client: grpc.Client,
  definition: MethodDefinitionLike,
  defaultDeadlineMs: number,
): UnaryClientMethod<unknown, unknown> {
  const serialize = definition.requestSerialize as (value: unknown) => Buffer;
  const deserialize = definition.responseDeserialize as (bytes: Buffer) => unknown;
  return (request, options = {}) =>
    new Promise((resolve, reject) => {
      const { signal } = options;
      if (signal?.aborted === true) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => call.cancel();
      const call = client.makeUnaryRequest(
        definition.path,
        serialize,
        deserialize,
        request,
        toMetadata(options.metadata, options.requestId),
        callOptionsFor(options, defaultDeadlineMs),
        (err, response) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) reject(rejectionFor(err, signal));
          else resolve(response);
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
}

function serverStreamingMethod(
  client: grpc.Client,
  definition: MethodDefinitionLike,
): ServerStreamingClientMethod<unknown, unknown> {
  const serialize = definition.requestSerialize as (value: unknown) => Buffer;
  const deserialize = definition.responseDeserialize as (bytes: Buffer) => unknown;
  return async function* stream(request, options = {}) {
    const { signal } = options;
    if (signal?.aborted === true) throw signal.reason;
    const call = client.makeServerStreamRequest(
      definition.path,
      serialize,
      deserialize,
      request,
      toMetadata(options.metadata, options.requestId),
      callOptionsFor(options, undefined),
    );
    // The status error is emitted beside the stream's end; keep it here so it is
    // neither lost nor an unhandled 'error' event (e.g. after our own cancel).
    let failure: unknown;
    call.on('error', (err: unknown) => {
      failure ??= err;
    });
    const onAbort = (): void => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const message of call) yield message as unknown;
    } catch (err) {
      failure ??= err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      call.cancel(); // no-op when finished; stops the server when the consumer left early
    }
    if (failure !== undefined) throw rejectionFor(failure, signal);
  };
}

/**
 * A typed promise-based client for one service, e.g.
 * `createRpcClient(MembershipServiceClient, 'membership:50051', { defaultDeadlineMs: 5000 })`.
 * Unary calls always have a deadline (the default unless overridden per call);
 * streaming calls have none unless given. Failures reject with a MatrixError.
 */
export function createRpcClient<S extends ServiceDefinitionLike>(
  Client: ServiceClientConstructor<S>,
  address: string,
  options: RpcClientOptions = {},
): RpcClient<S> {
  const credentials = options.credentials ?? grpc.credentials.createInsecure();
  const client = new Client(address, credentials, options.channelOptions);
  const defaultDeadlineMs = options.defaultDeadlineMs ?? DEFAULT_DEADLINE_MS;
  const methods: Record<string, unknown> = {};
  for (const [name, definition] of Object.entries(Client.service)) {
    if (definition.requestStream) throw new Error(`${definition.path}: client streaming is not supported`);
    methods[name] = definition.responseStream
      ? serverStreamingMethod(client, definition)
      : unaryMethod(client, definition, defaultDeadlineMs);
  }
  methods['close'] = () => client.close();
  return methods as RpcClient<S>;
}
