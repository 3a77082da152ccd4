// The membership service as the gateway calls it.
import type { MembershipServiceService } from '@membrane/proto';
import type { RpcClient } from '@membrane/rpc';

export type MembershipClient = RpcClient<typeof MembershipServiceService>;
