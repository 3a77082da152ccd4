// Our `/_matrix/key/v2/server` document: every current key publishes and
// signs it, former keys go to `old_verify_keys`. Signed once and reused until
// half of its validity has passed, so a busy key endpoint costs no signing.
import type { JsonObject } from '@membrane/canonical-json';
import { buildServerKeyResponse } from '@membrane/signing';
import type { OldVerifyKey, SigningKey } from '@membrane/signing';

export interface OwnKeyDocumentOptions {
  readonly serverName: string;
  readonly keys: readonly SigningKey[];
  readonly oldKeys: readonly OldVerifyKey[];
  /** `valid_until_ts` = signing time + this. */
  readonly validityPeriodMs: number;
  readonly clock?: () => number;
}

export class OwnKeyDocument {
  #document: JsonObject | undefined;
  #signedAtMs = 0;
  readonly #clock: () => number;

  constructor(private readonly options: OwnKeyDocumentOptions) {
    this.#clock = options.clock ?? Date.now;
  }

  current(): JsonObject {
    const now = this.#clock();
    if (this.#document === undefined || now - this.#signedAtMs >= this.options.validityPeriodMs / 2) {
      this.#document = buildServerKeyResponse(this.options.serverName, this.options.keys, this.options.oldKeys, now + this.options.validityPeriodMs);
      this.#signedAtMs = now;
    }
    return this.#document;
  }
}
