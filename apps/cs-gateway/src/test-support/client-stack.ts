// A fresh stack for black-box tests of what clients read: the membership
// service and the CS gateway as real processes on a scratch directory, users
// made with the real admin CLI (each with the password `<localpart>-pw`, so a
// test can log in again on a second device), rate limits out of the way.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { startApp, startMembershipService } from '@membrane/testing';
import { GatewayClient, createUserWithCli } from './gateway-client.js';
import type { CreatedUser } from './gateway-client.js';
import { RoomActions } from './room-actions.js';
import { CLIENT_V3 } from './sdk-stack.js';

export interface ClientStack {
  readonly baseUrl: string;
  readonly http: GatewayClient;
  readonly actions: RoomActions;
  readonly users: Readonly<Record<string, CreatedUser>>;
  /** Logs the user in again: a new device with its own access token. */
  loginAgain(localpart: string, deviceId: string): Promise<CreatedUser>;
  stop(): Promise<void>;
}

export interface ClientStackOptions {
  /** Environment of the membership service (e.g. its forget-on-leave setting). */
  readonly membershipEnv?: Readonly<Record<string, string>>;
}

export async function startClientStack(localparts: readonly string[], options: ClientStackOptions = {}): Promise<ClientStack> {
  const scratch = mkdtempSync(join(tmpdir(), 'cs-gateway-client-'));
  const dataDir = join(scratch, 'gateway');
  const membership = await startMembershipService(join(scratch, 'membership'), options.membershipEnv);
  try {
    const users: Record<string, CreatedUser> = {};
    // The first call creates the store; the others may then run side by side.
    const [first, ...rest] = localparts;
    if (first !== undefined) users[first] = await createUserWithCli(dataDir, first, ['--password', `${first}-pw`]);
    const created = await Promise.all(rest.map((name) => createUserWithCli(dataDir, name, ['--password', `${name}-pw`])));
    rest.forEach((name, i) => (users[name] = created[i] as CreatedUser));
    const gateway = await startApp('cs-gateway', {
      readyMessage: 'cs gateway listening',
      env: {
        MEMBRANE_CS_DATA_DIR: dataDir,
        MEMBRANE_CS_SERVER_NAME: 'hs.test',
        MEMBRANE_CS_LISTEN__PORT: '0',
        MEMBRANE_CS_MEMBERSHIP__ADDRESS: membership.address,
        MEMBRANE_CS_RATE_LIMIT__MEMBERSHIP__PER_SECOND: '1000',
        MEMBRANE_CS_RATE_LIMIT__MEMBERSHIP__BURST: '1000',
        MEMBRANE_CS_RATE_LIMIT__LOGIN__PER_SECOND: '1000',
        MEMBRANE_CS_RATE_LIMIT__LOGIN__BURST: '1000',
      },
    });
    const baseUrl = String(gateway.ready['url']);
    const http = new GatewayClient(baseUrl);
    return {
      baseUrl,
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
        await membership.stop().catch(() => undefined);
        rmSync(scratch, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await membership.stop().catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
    throw err;
  }
}
