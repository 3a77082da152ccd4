// Who an access token belongs to. The gateway asks one verifier, chosen by
// configuration: its own user store, or an existing homeserver upstream.
import type { UserStore } from '@membrane/user-store';
import { unknownToken } from './access-token.js';

export interface AuthenticatedUser {
  readonly userId: string;
  readonly deviceId?: string | undefined;
}

export interface TokenVerifier {
  /**
   * The owner of a token. Rejects with a MatrixError: 401 M_UNKNOWN_TOKEN
   * when the token is not (or no longer) valid, 5xx when it cannot be checked.
   */
  verify(accessToken: string): Promise<AuthenticatedUser>;
}

/** Tokens issued by this gateway (POST /login, tools/admin), looked up by hash. */
export class StoreTokenVerifier implements TokenVerifier {
  constructor(private readonly store: UserStore) {}

  async verify(accessToken: string): Promise<AuthenticatedUser> {
    const owner = this.store.findAccessToken(accessToken);
    if (owner === undefined) throw unknownToken();
    return { userId: owner.userId, deviceId: owner.deviceId };
  }
}
