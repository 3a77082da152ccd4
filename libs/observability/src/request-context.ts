// The request being served, kept across awaits (AsyncLocalStorage), so code
// deep inside a handler and the gRPC calls it makes carry the request ID
// without passing it through every function.
import { AsyncLocalStorage } from 'node:async_hooks';
import * as grpc from '@grpc/grpc-js';
import { REQUEST_ID_METADATA_KEY } from '@membrane/rpc';

const current = new AsyncLocalStorage<{ readonly requestId: string }>();

/** Runs `fn` as part of the request `requestId`. */
export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return current.run({ requestId }, fn);
}

/** The ID of the request being served here, if any. */
export function currentRequestId(): string | undefined {
  return current.getStore()?.requestId;
}

/** A gRPC client interceptor that adds the current request ID as `x-request-id` metadata (unless the call set one). */
export function requestIdClientInterceptor(): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        const requestId = currentRequestId();
        if (requestId !== undefined && metadata.get(REQUEST_ID_METADATA_KEY).length === 0) metadata.set(REQUEST_ID_METADATA_KEY, requestId);
        next(metadata, listener);
      },
    });
}
