// For unit tests of the outbound operations: the two servers of their
// scenarios with their signing keys, and a federation requester that answers
// from a script.
import type { AsyncVerifyKeyLookup } from '@membrane/events';
import { generateSigningKey } from '@membrane/signing';
import type { FederationRequest, FederationRequester, FederationResponse } from '../outbound/federation-client.js';

/** We are us.test, bob's server; the room lives on them.test, carol's. */
export const US = 'us.test';
export const THEM = 'them.test';
export const ROOM = `!room:${THEM}`;
export const BOB = `@bob:${US}`;
export const CAROL = `@carol:${THEM}`;
export const ourKey = generateSigningKey();
export const theirKey = generateSigningKey();
/** What them.test signs its events with. */
export const them = { serverName: THEM, key: theirKey };

/** Our key and theirs, as the key ring would find them. */
export const keyForEvent: AsyncVerifyKeyLookup = async (server, keyId) => {
  const key = server === US ? ourKey : server === THEM ? theirKey : undefined;
  return key !== undefined && key.keyId === keyId ? key.publicKey : undefined;
};

/** The answer to one request, or an Error to throw as a failed exchange would. */
type Script = (req: FederationRequest) => FederationResponse | Error;

/** A requester answering from `script`; `calls` holds every request, in order. */
export function scripted(script: Script): FederationRequester & { calls: FederationRequest[] } {
  const calls: FederationRequest[] = [];
  return {
    calls,
    async request(req) {
      calls.push(req);
      const answer = script(req);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}
