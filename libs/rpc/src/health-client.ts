// Asks a gRPC server's grpc.health.v1 Check whether one of its services is
// SERVING. Gateways use it for readiness: ready only while their backend is.
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import type { ServiceDefinitionLike } from './service-types.js';
import { serviceNameOf } from './service-types.js';

interface HealthCheckResponse {
  readonly status?: string;
}

type HealthClient = grpc.Client & {
  check(request: { service: string }, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, response?: HealthCheckResponse) => void): grpc.ClientUnaryCall;
};

type HealthClientConstructor = new (address: string, credentials: grpc.ChannelCredentials) => HealthClient;

let constructorCache: HealthClientConstructor | undefined;

function healthClientConstructor(): HealthClientConstructor {
  constructorCache ??= (
    grpc.loadPackageDefinition(loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true })) as unknown as {
      grpc: { health: { v1: { Health: HealthClientConstructor } } };
    }
  ).grpc.health.v1.Health;
  return constructorCache;
}

export interface ServiceHealth {
  /** True when the service answers SERVING within the timeout; false on any error. */
  isServing(): Promise<boolean>;
  close(): void;
}

export function serviceHealth(address: string, service: ServiceDefinitionLike, timeoutMs: number): ServiceHealth {
  const Health = healthClientConstructor();
  const client = new Health(address, grpc.credentials.createInsecure());
  const name = serviceNameOf(service);
  return {
    isServing: () =>
      new Promise((resolve) => {
        client.check({ service: name }, { deadline: Date.now() + timeoutMs }, (err, response) => resolve(err === null && response?.status === 'SERVING'));
      }),
    close: () => client.close(),
  };
}
