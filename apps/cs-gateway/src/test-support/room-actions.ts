// What black-box tests do over and over against a running gateway: change
// memberships, send events, sync, page through messages; each call asserts
// its own success so that a test reads as the scenario it checks.
import assert from 'node:assert/strict';
import type { Answer, CreatedUser, GatewayClient } from './gateway-client.js';
import { openApi } from './gateway-client.js';
import { CLIENT_V3, enc } from './raw-reads.js';

export type Json = Record<string, unknown>;
export type Section = 'join' | 'invite' | 'leave' | 'knock';

export interface SyncAnswer {
  readonly next_batch: string;
  readonly rooms: Readonly<Record<Section, Readonly<Record<string, Json>>>>;
}

export function assertError(answer: Answer, status: number, errcode: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.body['errcode'], errcode, answer.text);
  assert.equal(typeof answer.body['error'], 'string');
}

/** The events of a sync room's `timeline` or `state` (or `invite_state` / `knock_state`). */
export function eventsOf(room: Json | undefined, part: 'timeline' | 'state' | 'invite_state' | 'knock_state'): Json[] {
  assert.ok(room !== undefined, `the room has no ${part}: it is not in the section`);
  return ((room[part] as Json | undefined)?.['events'] as Json[] | undefined) ?? [];
}

export function membershipOf(event: Json | undefined): unknown {
  return (event?.['content'] as Json | undefined)?.['membership'];
}

/** Checks every room event of a sync answer against the strict client format (default filters only). */
export function assertClientFormat(sync: SyncAnswer): void {
  for (const section of ['join', 'leave'] as const) {
    for (const room of Object.values(sync.rooms[section])) {
      for (const event of [...eventsOf(room, 'timeline'), ...eventsOf(room, 'state')]) {
        assert.deepEqual(openApi.validate({ $ref: '#/components/schemas/ClientEventWithoutRoomId' }, event), []);
      }
    }
  }
}

export class RoomActions {
  constructor(readonly http: GatewayClient) {}

  private async ok(answer: Promise<Answer>): Promise<Answer> {
    const done = await answer;
    assert.equal(done.status, 200, done.text);
    return done;
  }

  async createRoom(user: CreatedUser, body: Json = {}): Promise<string> {
    const answer = await this.ok(this.http.call('POST', `${CLIENT_V3}/createRoom`, { token: user.access_token, json: body }));
    return answer.body['room_id'] as string;
  }

  async join(user: CreatedUser, roomId: string): Promise<void> {
    await this.ok(this.http.call('POST', `${CLIENT_V3}/rooms/${enc(roomId)}/join`, { token: user.access_token, json: {} }));
  }

  async invite(user: CreatedUser, roomId: string, invitee: CreatedUser): Promise<void> {
    await this.ok(this.http.call('POST', `${CLIENT_V3}/rooms/${enc(roomId)}/invite`, { token: user.access_token, json: { user_id: invitee.user_id } }));
  }

  async leave(user: CreatedUser, roomId: string, reason?: string): Promise<void> {
    await this.ok(this.http.call('POST', `${CLIENT_V3}/rooms/${enc(roomId)}/leave`, { token: user.access_token, json: reason === undefined ? {} : { reason } }));
  }

  async forget(user: CreatedUser, roomId: string): Promise<void> {
    await this.ok(this.http.call('POST', `${CLIENT_V3}/rooms/${enc(roomId)}/forget`, { token: user.access_token }));
  }

  sendRaw(user: CreatedUser, roomId: string, content: Json, txnId: string, type = 'm.room.message'): Promise<Answer> {
    return this.http.call('PUT', `${CLIENT_V3}/rooms/${enc(roomId)}/send/${enc(type)}/${enc(txnId)}`, { token: user.access_token, json: content });
  }

  private txn = 0;

  /** Sends an `m.room.message` with this body text; answers its event ID. */
  async say(user: CreatedUser, roomId: string, body: string): Promise<string> {
    this.txn += 1;
    const answer = await this.ok(this.sendRaw(user, roomId, { msgtype: 'm.text', body }, `say-${process.pid}-${this.txn}`));
    return answer.body['event_id'] as string;
  }

  async setState(user: CreatedUser, roomId: string, type: string, stateKey: string, content: Json): Promise<string> {
    const answer = await this.ok(this.http.call('PUT', `${CLIENT_V3}/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, { token: user.access_token, json: content }));
    return answer.body['event_id'] as string;
  }

  async sync(user: CreatedUser, query: Readonly<Record<string, string>> = {}): Promise<SyncAnswer> {
    const answer = await this.ok(this.http.call('GET', `${CLIENT_V3}/sync`, { token: user.access_token, query }));
    return answer.body as unknown as SyncAnswer;
  }

  messages(user: CreatedUser, roomId: string, query: Readonly<Record<string, string>> = {}): Promise<Answer> {
    return this.http.call('GET', `${CLIENT_V3}/rooms/${enc(roomId)}/messages`, { token: user.access_token, query });
  }

  /** The bodies of the messages in a /messages chunk, in the chunk's order. */
  async messageBodies(user: CreatedUser, roomId: string, query: Readonly<Record<string, string>> = {}): Promise<string[]> {
    const answer = await this.ok(this.messages(user, roomId, query));
    return (answer.body['chunk'] as Json[]).filter((e) => e['type'] === 'm.room.message').map((e) => (e['content'] as Json)['body'] as string);
  }

  read(user: CreatedUser, path: string, query: Readonly<Record<string, string>> = {}): Promise<Answer> {
    return this.http.call('GET', `${CLIENT_V3}${path}`, { token: user.access_token, query });
  }
}

/** Timeline message bodies of a sync room. */
export function timelineBodies(room: Json | undefined): string[] {
  return eventsOf(room, 'timeline')
    .filter((e) => e['type'] === 'm.room.message')
    .map((e) => (e['content'] as Json)['body'] as string);
}
