// Types that read request/response types and call shapes out of the grpc-js
// service definitions ts-proto generates (`FooService` objects), so servers
// and clients are typed from the contract without hand-written interfaces.

/** One method of a generated grpc-js service definition. */
export interface MethodDefinitionLike {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  requestSerialize(value: never): Buffer;
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(value: never): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

/** A generated grpc-js service definition, e.g. `MembershipServiceService`. */
export type ServiceDefinitionLike = { readonly [method: string]: MethodDefinitionLike };

export type RequestOf<M> = M extends { requestDeserialize(bytes: Buffer): infer Request } ? Request : never;
export type ResponseOf<M> = M extends { responseDeserialize(bytes: Buffer): infer Response } ? Response : never;

export type UnaryMethod = { readonly requestStream: false; readonly responseStream: false };
export type ServerStreamingMethod = { readonly requestStream: false; readonly responseStream: true };

/** `/matrix.membership.v1.MembershipService/PerformLeave` → `matrix.membership.v1.MembershipService`. */
export function serviceNameOfPath(path: string): string {
  const match = /^\/([^/]+)\/[^/]+$/.exec(path);
  if (!match?.[1]) throw new Error(`not a gRPC method path: ${path}`);
  return match[1];
}

/** The fully qualified name of a service, read from its method paths. */
export function serviceNameOf(service: ServiceDefinitionLike): string {
  const first = Object.values(service)[0];
  if (!first) throw new Error('a service definition needs at least one method');
  return serviceNameOfPath(first.path);
}
