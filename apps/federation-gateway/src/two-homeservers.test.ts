// Two complete homeservers (membership service + CS gateway + federation
// gateway each, as processes) federating over real TLS on loopback, with
// their own certificates from a test CA and their own signing keys.
// Everything is checked through the CS API of both sides.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCertificateAuthority, startHomeserverStack } from '@membrane/testing';
import type { HomeserverStack, HomeserverUser } from '@membrane/testing';

const V3 = '/_matrix/client/v3';
const enc = (id: string): string => encodeURIComponent(id).replace(/!/g, '%21');

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

function cs(hs: HomeserverStack, user: HomeserverUser, method: string, path: string, json?: unknown): Promise<Answer> {
  const url = new URL(hs.csUrl);
  const payload = json === undefined ? undefined : JSON.stringify(json);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: `${V3}${path}`,
        headers: { authorization: `Bearer ${user.access_token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) },
        timeout: 90_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The membership of `userId` in `roomId` as `reader` sees it on `hs` (undefined when unknown to them). */
async function membershipSeen(hs: HomeserverStack, reader: HomeserverUser, roomId: string, userId: string): Promise<string | undefined> {
  const answer = await cs(hs, reader, 'GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(userId)}`);
  return answer.status === 200 ? (answer.body['membership'] as string) : undefined;
}

/** Polls until `probe` returns `want`, at most `timeoutMs`; returns the last value seen. */
async function eventually<T>(probe: () => Promise<T>, want: T, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (last !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    last = await probe();
  }
  return last;
}

describe('two homeservers federating', { timeout: 240_000 }, () => {
  let dir = '';
  let hs1: HomeserverStack;
  let hs2: HomeserverStack;
  let alice: HomeserverUser;
  let bob: HomeserverUser;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'two-hs-'));
    const ca = createTestCertificateAuthority(join(dir, 'ca'));
    // Short retry delays so a restarted peer is served again within the test.
    const federationEnv = { MEMBRANE_FED_SENDER__RETRY_INITIAL_MS: '200', MEMBRANE_FED_SENDER__RETRY_MAX_MS: '1000', MEMBRANE_FED_SENDER__POLL_INTERVAL_MS: '500' };
    [hs1, hs2] = await Promise.all([
      startHomeserverStack({ dir: join(dir, 'hs1'), ca, federationEnv }),
      startHomeserverStack({ dir: join(dir, 'hs2'), ca, federationEnv }),
    ]);
    [alice, bob] = await Promise.all([hs1.createUser('alice'), hs2.createUser('bob')]);
  });

  after(async () => {
    await Promise.allSettled([hs1?.stop(), hs2?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('1. a user of hs2 joins a room on hs1 and leaves it; hs1 sees the leave; the user forgets the room', async () => {
    const created = await cs(hs1, alice, 'POST', '/createRoom', { preset: 'public_chat' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const roomId = created.body['room_id'] as string;

    const joined = await cs(hs2, bob, 'POST', `/join/${enc(roomId)}?server_name=${enc(hs1.serverName)}`, {});
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    assert.equal(await membershipSeen(hs1, alice, roomId, bob.user_id), 'join', 'hs1 accepted the send_join');
    assert.equal(await membershipSeen(hs2, bob, roomId, alice.user_id), 'join', 'hs2 stored the room state it got from hs1');
    const rooms = await cs(hs2, bob, 'GET', '/joined_rooms');
    assert.deepEqual(rooms.body['joined_rooms'], [roomId]);

    const left = await cs(hs2, bob, 'POST', `/rooms/${enc(roomId)}/leave`, { reason: 'bye' });
    assert.equal(left.status, 200, JSON.stringify(left.body));
    assert.equal(await eventually(() => membershipSeen(hs1, alice, roomId, bob.user_id), 'leave'), 'leave', 'the leave reached hs1 through the outbox');

    const forgot = await cs(hs2, bob, 'POST', `/rooms/${enc(roomId)}/forget`, {});
    assert.equal(forgot.status, 200, JSON.stringify(forgot.body));
    const after = await cs(hs2, bob, 'GET', '/joined_rooms');
    assert.deepEqual(after.body['joined_rooms'], []);
  });

  it('2. a user of hs1 invites a user of hs2, who rejects; hs1 sees the leave through its send_leave', async () => {
    const created = await cs(hs1, alice, 'POST', '/createRoom', { preset: 'private_chat' });
    const roomId = created.body['room_id'] as string;
    const invited = await cs(hs1, alice, 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: bob.user_id });
    assert.equal(invited.status, 200, JSON.stringify(invited.body));
    assert.equal(await membershipSeen(hs1, alice, roomId, bob.user_id), 'invite');
    const forgetWhileInvited = await cs(hs2, bob, 'POST', `/rooms/${enc(roomId)}/forget`, {});
    assert.equal(forgetWhileInvited.status, 400, 'hs2 holds the invite');

    const rejected = await cs(hs2, bob, 'POST', `/rooms/${enc(roomId)}/leave`, { reason: 'no thanks' });
    assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
    assert.equal(await membershipSeen(hs1, alice, roomId, bob.user_id), 'leave', 'send_leave reached hs1 before the rejection returned');
    const members = await cs(hs1, alice, 'GET', `/rooms/${enc(roomId)}/members`);
    const leave = (members.body['chunk'] as { state_key: string; content: { reason?: string } }[]).find((e) => e.state_key === bob.user_id);
    assert.equal(leave?.content.reason, 'no thanks');
    const forgot = await cs(hs2, bob, 'POST', `/rooms/${enc(roomId)}/forget`, {});
    assert.equal(forgot.status, 200, 'the invite is gone on hs2');
  });

  it('4. hs2 is stopped while hs1 has events for it; after the restart everything arrives, in order', async () => {
    const created = await cs(hs1, alice, 'POST', '/createRoom', { preset: 'public_chat' });
    const roomId = created.body['room_id'] as string;
    const joined = await cs(hs2, bob, 'POST', `/join/${enc(roomId)}?server_name=${enc(hs1.serverName)}`, {});
    assert.equal(joined.status, 200, JSON.stringify(joined.body));

    await hs2.stop();
    const locals = ['carol', 'dave', 'erin'];
    for (const localpart of locals) {
      const invited = await cs(hs1, alice, 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: `@${localpart}:${hs1.serverName}` });
      assert.equal(invited.status, 200, JSON.stringify(invited.body));
    }
    // The last change of a member who is invited, then uninvited: order matters for its final state.
    const kicked = await cs(hs1, alice, 'POST', `/rooms/${enc(roomId)}/kick`, { user_id: `@erin:${hs1.serverName}` });
    assert.equal(kicked.status, 200, JSON.stringify(kicked.body));

    await hs2.restart();
    for (const localpart of ['carol', 'dave']) {
      assert.equal(await eventually(() => membershipSeen(hs2, bob, roomId, `@${localpart}:${hs1.serverName}`), 'invite'), 'invite', `${localpart}'s invite reached hs2`);
    }
    assert.equal(await eventually(() => membershipSeen(hs2, bob, roomId, `@erin:${hs1.serverName}`), 'leave'), 'leave', 'the kick came after the invite');
    const retried = hs1.processes.some((p) => p.logs.some((l) => l['msg'] === 'transaction not delivered; will retry' && l['destination'] === hs2.serverName));
    assert.ok(retried, 'hs1 failed to deliver while hs2 was down and delivered on a retry');
  });

  /** A room of alice on hs1 whose join rule takes knocks. */
  async function knockRoom(name: string): Promise<string> {
    const created = await cs(hs1, alice, 'POST', '/createRoom', { preset: 'private_chat', name });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const roomId = created.body['room_id'] as string;
    const rules = await cs(hs1, alice, 'PUT', `/rooms/${enc(roomId)}/state/m.room.join_rules/`, { join_rule: 'knock' });
    assert.equal(rules.status, 200, JSON.stringify(rules.body));
    return roomId;
  }

  /** The events of bob's room in a section of his /sync on hs2 (`knock` → knock_state, `invite` → invite_state). */
  async function syncSection(section: 'knock' | 'invite', roomId: string): Promise<{ type: string; state_key: string; content: Record<string, unknown> }[] | undefined> {
    const answer = await cs(hs2, bob, 'GET', '/sync');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const rooms = (answer.body['rooms'] as Record<string, Record<string, Record<string, { events: never[] }>>>)[section];
    return rooms?.[roomId]?.[`${section}_state`]?.events;
  }

  it('5. a user of hs2 knocks on a room of hs1 (make_knock / send_knock); hs1 sees the knock and invites; the user joins', async () => {
    const roomId = await knockRoom('Knock here');
    const knocked = await cs(hs2, bob, 'POST', `/knock/${enc(roomId)}?server_name=${enc(hs1.serverName)}`, { reason: 'let me in' });
    assert.equal(knocked.status, 200, JSON.stringify(knocked.body));
    assert.deepEqual(knocked.body, { room_id: roomId });
    assert.equal(await membershipSeen(hs1, alice, roomId, bob.user_id), 'knock', 'send_knock reached hs1 before the knock returned');

    const knockState = await syncSection('knock', roomId);
    assert.ok(knockState !== undefined, "the knock is in bob's /sync on hs2");
    assert.deepEqual(knockState.find((e) => e.type === 'm.room.name')?.content, { name: 'Knock here' }, 'with the knock_room_state hs1 answered');
    assert.deepEqual(knockState.find((e) => e.type === 'm.room.join_rules')?.content, { join_rule: 'knock' });
    assert.deepEqual([knockState.at(-1)?.state_key, knockState.at(-1)?.content['membership'], knockState.at(-1)?.content['reason']], [bob.user_id, 'knock', 'let me in']);
    const again = await cs(hs2, bob, 'POST', `/knock/${enc(roomId)}?server_name=${enc(hs1.serverName)}`, {});
    assert.equal(again.status, 200, 'knocking again while knocking is fine');

    const invited = await cs(hs1, alice, 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: bob.user_id });
    assert.equal(invited.status, 200, JSON.stringify(invited.body));
    assert.equal(await syncSection('knock', roomId), undefined, 'the invite answered the knock');
    assert.ok((await syncSection('invite', roomId)) !== undefined, "the invite is in bob's /sync");

    const joined = await cs(hs2, bob, 'POST', `/join/${enc(roomId)}`, {});
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    assert.equal(await membershipSeen(hs1, alice, roomId, bob.user_id), 'join');
    assert.equal(await membershipSeen(hs2, bob, roomId, alice.user_id), 'join', 'hs2 is in the room now');
  });

  it('6. a user of hs2 rescinds a knock on a room of hs1 by leaving (make_leave / send_leave); a room without knocking refuses', async () => {
    const roomId = await knockRoom('Changed my mind');
    const knocked = await cs(hs2, bob, 'POST', `/knock/${enc(roomId)}?server_name=${enc(hs1.serverName)}`, {});
    assert.equal(knocked.status, 200, JSON.stringify(knocked.body));
    const left = await cs(hs2, bob, 'POST', `/rooms/${enc(roomId)}/leave`, { reason: 'never mind' });
    assert.equal(left.status, 200, JSON.stringify(left.body));
    assert.equal(await membershipSeen(hs1, alice, roomId, bob.user_id), 'leave', 'send_leave reached hs1 before the leave returned');
    assert.equal(await syncSection('knock', roomId), undefined);
    const forgot = await cs(hs2, bob, 'POST', `/rooms/${enc(roomId)}/forget`, {});
    assert.equal(forgot.status, 200, 'the knock is over on hs2 too');

    const closed = await cs(hs1, alice, 'POST', '/createRoom', { preset: 'private_chat' });
    const closedId = closed.body['room_id'] as string;
    const refused = await cs(hs2, bob, 'POST', `/knock/${enc(closedId)}?server_name=${enc(hs1.serverName)}`, {});
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(refused.body['errcode'], 'M_FORBIDDEN');
    assert.equal(await membershipSeen(hs1, alice, closedId, bob.user_id), undefined);
  });

  it("7. hs1 turns down the knock of a user of hs2 (a kick); hs1's transaction tells hs2, where the user sees the room as left", async () => {
    const roomId = await knockRoom('Not for you');
    const knocked = await cs(hs2, bob, 'POST', `/knock/${enc(roomId)}?server_name=${enc(hs1.serverName)}`, { reason: 'let me in' });
    assert.equal(knocked.status, 200, JSON.stringify(knocked.body));
    assert.equal(await membershipSeen(hs1, alice, roomId, bob.user_id), 'knock');
    const initial = await cs(hs2, bob, 'GET', '/sync');
    const since = initial.body['next_batch'] as string;
    assert.ok((initial.body['rooms'] as { knock?: Record<string, unknown> }).knock?.[roomId] !== undefined, 'bob is knocking');

    const kicked = await cs(hs1, alice, 'POST', `/rooms/${enc(roomId)}/kick`, { user_id: bob.user_id, reason: 'not today' });
    assert.equal(kicked.status, 200, JSON.stringify(kicked.body));
    assert.equal(await membershipSeen(hs1, alice, roomId, bob.user_id), 'leave');

    /** The events of the room under rooms.leave of bob's incremental /sync on hs2, as [sender, state_key, membership, reason]. */
    const leftSeen = async (): Promise<string> => {
      const answer = await cs(hs2, bob, 'GET', `/sync?since=${encodeURIComponent(since)}`);
      const left = (answer.body['rooms'] as { leave?: Record<string, { timeline: { events: { sender: string; state_key?: string; content: Record<string, unknown> }[] } }> }).leave?.[roomId];
      return JSON.stringify(left?.timeline.events.map((e) => [e.sender, e.state_key, e.content['membership'], e.content['reason']]) ?? null);
    };
    const want = JSON.stringify([[alice.user_id, bob.user_id, 'leave', 'not today']]);
    assert.equal(await eventually(leftSeen, want), want, "the kick reached hs2 in hs1's transaction and shows under rooms.leave");
    assert.equal(await syncSection('knock', roomId), undefined, 'bob no longer knocks');
    const forgot = await cs(hs2, bob, 'POST', `/rooms/${enc(roomId)}/forget`, {});
    assert.equal(forgot.status, 200, 'the knock is over on hs2: the room can be forgotten');
  });

  it('3. with hs1 stopped, rejecting its invite records a local out-of-band leave and the invite is gone', async () => {
    const created = await cs(hs1, alice, 'POST', '/createRoom', { preset: 'private_chat' });
    const roomId = created.body['room_id'] as string;
    const invited = await cs(hs1, alice, 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: bob.user_id });
    assert.equal(invited.status, 200, JSON.stringify(invited.body));
    await hs1.stop();

    const rejected = await cs(hs2, bob, 'POST', `/rooms/${enc(roomId)}/leave`, {});
    assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
    const forgot = await cs(hs2, bob, 'POST', `/rooms/${enc(roomId)}/forget`, {});
    assert.equal(forgot.status, 200, 'the invite is gone: the user left (out of band) and may forget the room');
    const warned = hs2.processes.find((p) => p.logs.some((l) => l['msg'] === 'no server accepted the remote leave'));
    assert.ok(warned !== undefined, 'the gateway logged that no server accepted the leave');
  });
});
