import * as grpc from '@grpc/grpc-js';

/** Request metadata key that carries a request id from gateway to service (for logs). */
export const REQUEST_ID_METADATA_KEY = 'x-request-id';

export type MetadataInit = grpc.Metadata | Readonly<Record<string, string>>;

/** A fresh Metadata from either a Metadata (copied) or a plain object of ASCII values. */
export function toMetadata(init: MetadataInit | undefined, requestId: string | undefined): grpc.Metadata {
  const metadata = init instanceof grpc.Metadata ? init.clone() : new grpc.Metadata();
  if (init !== undefined && !(init instanceof grpc.Metadata)) {
    for (const [key, value] of Object.entries(init)) metadata.set(key, value);
  }
  if (requestId !== undefined) metadata.set(REQUEST_ID_METADATA_KEY, requestId);
  return metadata;
}

/** The request id a caller sent, if any. */
export function requestIdOf(metadata: grpc.Metadata): string | undefined {
  const value = metadata.get(REQUEST_ID_METADATA_KEY)[0];
  return typeof value === 'string' ? value : undefined;
}
