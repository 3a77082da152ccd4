// Is the membership service there? Asks its grpc.health.v1 Check for the
// MembershipService; SERVING means ready. Used by /readyz.
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { MembershipServiceService } from '@membrane/proto';
import { serviceNameOf } from '@membrane/rpc';

interface HealthCheckResponse {
  readonly status?: string;
}

type HealthClient = grpc.Client & {
  check(request: { service: string }, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, response?: HealthCheckResponse) => void): grpc.ClientUnaryCall;
};

type HealthClientConstructor = new (address: string, credentials: grpc.ChannelCredentials) => HealthClient;

function healthClientConstructor(): HealthClientConstructor {
  const loaded = grpc.loadPackageDefinition(loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true })) as unknown as {
    grpc: { health: { v1: { Health: HealthClientConstructor } } };
  };
  return loaded.grpc.health.v1.Health;
}

export interface MembershipHealth {
  isServing(): Promise<boolean>;
  close(): void;
}

export function membershipHealth(address: string, timeoutMs: number): MembershipHealth {
  const Health = healthClientConstructor();
  const client = new Health(address, grpc.credentials.createInsecure());
  const service = serviceNameOf(MembershipServiceService);
  return {
    isServing: () =>
      new Promise((resolve) => {
        client.check({ service }, { deadline: Date.now() + timeoutMs }, (err, response) => resolve(err === null && response?.status === 'SERVING'));
      }),
    close: () => client.close(),
  };
}
