// A fresh stack for black-box tests of what clients (and client SDKs) read:
// the membership service and the CS gateway as real processes on a scratch
// directory, users made with the real admin CLI (each with the password
// `<localpart>-pw`, so a test can log in again on a second device), rate
// limits out of the way.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { CreatedUser, GatewayClient } from './gateway-client.js';
import { createUsersWithCli, startGatewayProcess, startScratchMembership } from './gateway-process.js';
import { CLIENT_V3 } from './raw-reads.js';
import { RoomActions } from './room-actions.js';

export interface ClientStack {
  /** e.g. `http://127.0.0.1:40123`, what an SDK takes as its homeserver URL. */
  readonly baseUrl: string;
  readonly http: GatewayClient;
  readonly actions: RoomActions;
  readonly users: Readonly<Record<string, CreatedUser>>;
  /** Logs the user in again: a new device with its own access token. */
  loginAgain(localpart: string, deviceId: string): Promise<CreatedUser>;
  /** Stops both processes and removes the scratch directory. */
  stop(): Promise<void>;
}

export interface ClientStackOptions {
  /** Environment of the membership service (e.g. its forget-on-leave setting). */
  readonly membershipEnv?: Readonly<Record<string, string>>;
}

export async function startClientStack(localparts: readonly string[], options: ClientStackOptions = {}): Promise<ClientStack> {
  const membership = await startScratchMembership('cs-gateway-client-', options.membershipEnv);
  try {
    const dataDir = join(membership.dir, 'gateway');
    const users = await createUsersWithCli(dataDir, localparts);
    const gateway = await startGatewayProcess(dataDir, membership.address);
    const http = gateway.client;
    return {
      baseUrl: http.baseUrl,
      http,
      actions: new RoomActions(http),
      users,
      async loginAgain(localpart, deviceId) {
        const answer = await http.call('POST', `${CLIENT_V3}/login`, {
          json: { type: 'm.login.password', identifier: { type: 'm.id.user', user: localpart }, password: `${localpart}-pw`, device_id: deviceId },
        });
        assert.equal(answer.status, 200, answer.text);
        return answer.body as unknown as CreatedUser;
      },
      async stop() {
        await gateway.stop().catch(() => undefined);
        await membership.stop();
      },
    };
  } catch (err) {
    await membership.stop();
    throw err;
  }
}
