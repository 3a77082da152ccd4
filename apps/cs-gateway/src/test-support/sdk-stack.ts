// A fresh stack for client SDK tests: the membership service and the CS
// gateway as real processes on a scratch directory, users made with the real
// admin CLI, and raw HTTP reads (checked against the OpenAPI document) to
// confirm what an SDK reported.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, startMembershipService } from '@membrane/testing';
import { GatewayClient, createUserWithCli } from './gateway-client.js';
import type { Answer, CreatedUser } from './gateway-client.js';

export const CLIENT_V3 = '/_matrix/client/v3';

export interface SdkStack {
  /** e.g. `http://127.0.0.1:40123`, what an SDK takes as its homeserver URL. */
  readonly baseUrl: string;
  readonly http: GatewayClient;
  readonly users: Readonly<Record<string, CreatedUser>>;
  /** Stops both processes and removes the scratch directory. */
  stop(): Promise<void>;
}

/** Starts the membership service and the gateway (rate limits out of the way) and creates one user per localpart. */
export async function startSdkStack(localparts: readonly string[]): Promise<SdkStack> {
  const scratch = mkdtempSync(join(tmpdir(), 'cs-gateway-sdk-'));
  const dataDir = join(scratch, 'gateway');
  const membership = await startMembershipService(join(scratch, 'membership'));
  const users: Record<string, CreatedUser> = {};
  try {
    // The first call creates the store; the others may then run side by side.
    const [first, ...rest] = localparts;
    if (first !== undefined) users[first] = await createUserWithCli(dataDir, first);
    const created = await Promise.all(rest.map((name) => createUserWithCli(dataDir, name)));
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
      },
    });
    const baseUrl = String(gateway.ready['url']);
    return {
      baseUrl,
      http: new GatewayClient(baseUrl),
      users,
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

/** Percent-encodes every reserved character, `!` included (encodeURIComponent leaves it). */
export function enc(id: string): string {
  return encodeURIComponent(id).replace(/!/g, '%21');
}

/** Raw reads of the gateway, as `reader`, to cross-check what an SDK reported. */
export class RawReads {
  constructor(private readonly http: GatewayClient) {}

  /** `GET /rooms/{roomId}/state/m.room.member/{userId}`: the whole answer (status and content). */
  memberState(reader: CreatedUser, roomId: string, userId: string): Promise<Answer> {
    return this.http.call('GET', `${CLIENT_V3}/rooms/${enc(roomId)}/state/m.room.member/${enc(userId)}`, { token: reader.access_token });
  }

  /** `GET /rooms/{roomId}/members`: the whole answer. */
  members(reader: CreatedUser, roomId: string): Promise<Answer> {
    return this.http.call('GET', `${CLIENT_V3}/rooms/${enc(roomId)}/members`, { token: reader.access_token });
  }

  /** The member events of `userId` in the `/members` answer read by `reader` (which must succeed). */
  async memberEventsOf(reader: CreatedUser, roomId: string, userId: string): Promise<Record<string, unknown>[]> {
    const answer = await this.members(reader, roomId);
    assert.equal(answer.status, 200, answer.text);
    return (answer.body['chunk'] as Record<string, unknown>[]).filter((e) => e['state_key'] === userId);
  }

  async joinedRooms(user: CreatedUser): Promise<string[]> {
    const answer = await this.http.call('GET', `${CLIENT_V3}/joined_rooms`, { token: user.access_token });
    assert.equal(answer.status, 200, answer.text);
    return answer.body['joined_rooms'] as string[];
  }
}
