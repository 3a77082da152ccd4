// Raw reads of the gateway, to confirm what a client SDK reported; every
// answer is checked against the OpenAPI document by the client.
import assert from 'node:assert/strict';
import type { Answer, CreatedUser, GatewayClient } from './gateway-client.js';

export const CLIENT_V3 = '/_matrix/client/v3';

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
