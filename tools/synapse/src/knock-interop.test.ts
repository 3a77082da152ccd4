// Knocking between our stack and a real Synapse (from PyPI), both ways, over
// TLS from one test CA: our user knocks on Synapse's rooms (we call its
// make_knock / send_knock) and Synapse's user knocks on ours (it calls
// ours). Every outcome is read through each server's own Client-Server API.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createTestCertificateAuthority, startHomeserverStack } from '@membrane/testing';
import type { HomeserverStack, HomeserverUser } from '@membrane/testing';
import { startSynapse } from './index.js';
import type { RunningSynapse, SynapseUser } from './index.js';
import { cs, eventually } from './test-support/cs-client.js';
import type { Answer } from './test-support/cs-client.js';


interface StrippedEvent {
  readonly type: string;
  readonly state_key: string;
  readonly content: Record<string, unknown>;
}

const enc = encodeURIComponent;

let syncs = 0;
/**
 * Synapse answers a repeated /sync (same user, token and filter) from a
 * cache for up to two minutes; an inline filter of its own per call keeps
 * each answer fresh.
 */
const freshFilter = (): string => enc(JSON.stringify({ room: { timeline: { limit: 10 + (syncs++ % 1000) } } }));

/** The stripped state of a room in a section of a /sync answer (`knock` → knock_state, `invite` → invite_state). */
function syncSection(answer: Answer, section: 'knock' | 'invite', roomId: string): StrippedEvent[] | undefined {
  const rooms = (answer.body['rooms'] as Record<string, Record<string, Record<string, { events: StrippedEvent[] }>> | undefined> | undefined)?.[section];
  return rooms?.[roomId]?.[`${section}_state`]?.events;
}

describe('knocking between our server and a real Synapse', { timeout: 300_000 }, () => {
  let dir = '';
  let ours: HomeserverStack;
  let synapse: RunningSynapse;
  let alice: HomeserverUser;
  let bob: SynapseUser;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'knock-interop-'));
    const ca = createTestCertificateAuthority(join(dir, 'ca'));
    ours = await startHomeserverStack({ dir: join(dir, 'ours'), ca });
    synapse = await startSynapse({ dir: join(dir, 'synapse'), ca });
    alice = await ours.createUser('alice');
    bob = await synapse.registerUser('bob');
  });

  after(async () => {
    await synapse?.stop();
    await ours?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const onSynapse = (method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) => cs(synapse.clientUrl, bob.accessToken, method, path, body);
  const onOurs = (method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) => cs(ours.csUrl, alice.access_token, method, path, body);
  const membershipOn = (read: typeof onOurs, roomId: string, userId: string) => () => read('GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(userId)}`);

  /** A room of bob on Synapse whose join rule takes knocks. */
  async function synapseKnockRoom(name: string, roomVersion?: string): Promise<string> {
    const created = await onSynapse('POST', '/createRoom', {
      preset: 'private_chat',
      name,
      ...(roomVersion === undefined ? {} : { room_version: roomVersion }),
      initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } }],
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    return String(created.body['room_id']);
  }

  /** A room of alice on our server whose join rule takes knocks. */
  async function ourKnockRoom(name: string, roomVersion?: string): Promise<string> {
    const created = await onOurs('POST', '/createRoom', { preset: 'private_chat', name, ...(roomVersion === undefined ? {} : { room_version: roomVersion }) });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const roomId = String(created.body['room_id']);
    const rules = await onOurs('PUT', `/rooms/${enc(roomId)}/state/m.room.join_rules/`, { join_rule: 'knock' });
    assert.equal(rules.status, 200, JSON.stringify(rules.body));
    return roomId;
  }

  // 11: our default; 12: Synapse's, where the create event names the room (MSC4311 checks).
  for (const roomVersion of ['11', '12']) {
    const label = `room version ${roomVersion}`;

    it(`our user knocks on a Synapse room (${label}); our /sync shows Synapse's knock_room_state; Synapse's user invites and ours joins`, async () => {
      const roomId = await synapseKnockRoom('Knock on Synapse', roomVersion);
      const knocked = await onOurs('POST', `/knock/${enc(roomId)}?server_name=${enc(synapse.serverName)}`, { reason: 'let me in' });
      assert.equal(knocked.status, 200, JSON.stringify(knocked.body));
      const seen = await eventually(membershipOn(onSynapse, roomId, alice.user_id), (a) => a.body['membership'] === 'knock');
      assert.deepEqual(seen.body, { membership: 'knock', reason: 'let me in' }, 'Synapse took the knock through its send_knock');

      const knockState = syncSection(await onOurs('GET', '/sync'), 'knock', roomId);
      assert.ok(knockState !== undefined, 'the knock is in our /sync');
      assert.deepEqual(knockState.find((e) => e.type === 'm.room.name')?.content, { name: 'Knock on Synapse' });
      assert.deepEqual(knockState.find((e) => e.type === 'm.room.join_rules')?.content, { join_rule: 'knock' });
      assert.ok(knockState.some((e) => e.type === 'm.room.create'));
      assert.deepEqual([knockState.at(-1)?.state_key, knockState.at(-1)?.content['membership']], [alice.user_id, 'knock']);

      const invited = await onSynapse('POST', `/rooms/${enc(roomId)}/invite`, { user_id: alice.user_id });
      assert.equal(invited.status, 200, JSON.stringify(invited.body));
      const joined = await eventually(
        () => onOurs('POST', `/join/${enc(roomId)}`, {}),
        (a) => a.status === 200,
      );
      assert.equal(joined.status, 200, JSON.stringify(joined.body));
      const member = await eventually(membershipOn(onSynapse, roomId, alice.user_id), (a) => a.body['membership'] === 'join');
      assert.equal(member.body['membership'], 'join');
    });

    it(`a Synapse user knocks on our room (${label}); Synapse's /sync shows our knock_room_state; our user invites and Synapse's joins`, async () => {
      const roomId = await ourKnockRoom('Knock on us', roomVersion);
      const knocked = await onSynapse('POST', `/knock/${enc(roomId)}?server_name=${enc(ours.serverName)}`, { reason: 'hello' });
      assert.equal(knocked.status, 200, JSON.stringify(knocked.body));
      const seen = await eventually(membershipOn(onOurs, roomId, bob.userId), (a) => a.body['membership'] === 'knock');
      assert.equal(seen.body['membership'], 'knock', JSON.stringify(seen.body));
      assert.equal(seen.body['reason'], 'hello');

      const synced = await eventually(
        () => onSynapse('GET', `/sync?filter=${freshFilter()}`),
        (a) => syncSection(a, 'knock', roomId) !== undefined,
      );
      const knockState = syncSection(synced, 'knock', roomId) ?? [];
      assert.deepEqual(knockState.find((e) => e.type === 'm.room.name')?.content, { name: 'Knock on us' }, 'Synapse shows the state we answered');
      assert.deepEqual(knockState.find((e) => e.type === 'm.room.join_rules')?.content, { join_rule: 'knock' });

      const invited = await onOurs('POST', `/rooms/${enc(roomId)}/invite`, { user_id: bob.userId });
      assert.equal(invited.status, 200, JSON.stringify(invited.body));
      const joined = await eventually(
        () => onSynapse('POST', `/join/${enc(roomId)}?server_name=${enc(ours.serverName)}`, {}),
        (a) => a.status === 200,
      );
      assert.equal(joined.status, 200, JSON.stringify(joined.body));
      const member = await eventually(membershipOn(onOurs, roomId, bob.userId), (a) => a.body['membership'] === 'join');
      assert.equal(member.body['membership'], 'join');
    });
  }

  it("our user rescinds a knock on a Synapse room by leaving (Synapse's make_leave / send_leave)", async () => {
    const roomId = await synapseKnockRoom('Rescinded');
    assert.equal((await onOurs('POST', `/knock/${enc(roomId)}?server_name=${enc(synapse.serverName)}`, {})).status, 200);
    const left = await onOurs('POST', `/rooms/${enc(roomId)}/leave`, { reason: 'never mind' });
    assert.equal(left.status, 200, JSON.stringify(left.body));
    const seen = await eventually(membershipOn(onSynapse, roomId, alice.user_id), (a) => a.body['membership'] === 'leave');
    assert.deepEqual(seen.body, { membership: 'leave', reason: 'never mind' }, 'Synapse saw the leave, so it went through its send_leave');
  });

  it("a Synapse user's leave rescinds its knock on our room only on Synapse (Synapse sends no remote rescind); our user can still turn the knock down", async () => {
    const roomId = await ourKnockRoom('Rescinded here');
    assert.equal((await onSynapse('POST', `/knock/${enc(roomId)}?server_name=${enc(ours.serverName)}`, {})).status, 200);
    assert.equal((await eventually(membershipOn(onOurs, roomId, bob.userId), (a) => a.body['membership'] === 'knock')).body['membership'], 'knock');
    const left = await onSynapse('POST', `/rooms/${enc(roomId)}/leave`, {});
    assert.equal(left.status, 200, JSON.stringify(left.body));
    // Synapse 1.163 records an out-of-band leave (remote_rescind_knock: "We don't
    // yet support rescinding knocks over federation"), so nothing reaches us.
    assert.equal((await membershipOn(onOurs, roomId, bob.userId)()).body['membership'], 'knock');
    const kicked = await onOurs('POST', `/rooms/${enc(roomId)}/kick`, { user_id: bob.userId, reason: 'not now' });
    assert.equal(kicked.status, 200, JSON.stringify(kicked.body));
    assert.deepEqual((await membershipOn(onOurs, roomId, bob.userId)()).body, { membership: 'leave', reason: 'not now' });
  });

  it('each side refuses a knock on a room whose join rule takes none, and the refusal reaches the knocking user', async () => {
    const theirs = await onSynapse('POST', '/createRoom', { preset: 'private_chat' });
    const refusedThere = await onOurs('POST', `/knock/${enc(String(theirs.body['room_id']))}?server_name=${enc(synapse.serverName)}`, {});
    assert.deepEqual([refusedThere.status, refusedThere.body['errcode']], [403, 'M_FORBIDDEN'], JSON.stringify(refusedThere.body));
    const ourRoom = await onOurs('POST', '/createRoom', { preset: 'private_chat' });
    const refusedHere = await onSynapse('POST', `/knock/${enc(String(ourRoom.body['room_id']))}?server_name=${enc(ours.serverName)}`, {});
    assert.deepEqual([refusedHere.status, refusedHere.body['errcode']], [403, 'M_FORBIDDEN'], JSON.stringify(refusedHere.body));
  });
});
