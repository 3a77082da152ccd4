// Interoperability with a real Synapse (from PyPI) on loopback: our stack and
// Synapse federate over TLS with certificates from one test CA, and every
// outcome is checked through each server's own Client-Server API.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createTestCertificateAuthority, startHomeserverStack } from '@membrane/testing';
import type { HomeserverStack, HomeserverUser, TestCertificateAuthority } from '@membrane/testing';
import { Membership, MembershipServiceClient } from '@membrane/proto';
import { createRpcClient } from '@membrane/rpc';
import { startSynapse } from './index.js';
import type { RunningSynapse, SynapseUser } from './index.js';
import { cs, eventually } from './test-support/cs-client.js';


const enc = encodeURIComponent;

describe('interoperability with a real Synapse', { timeout: 300_000 }, () => {
  let dir = '';
  let ours: HomeserverStack;
  let synapse: RunningSynapse;
  let alice: HomeserverUser;
  let bob: SynapseUser;
  let ca: TestCertificateAuthority;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'interop-'));
    ca = createTestCertificateAuthority(join(dir, 'ca'));
    // Short outbound backoff: one test stops Synapse and expects us to reach it again soon after.
    ours = await startHomeserverStack({ dir: join(dir, 'ours'), ca, federationEnv: { MEMBRANE_FED_OUTBOUND__BACKOFF_INITIAL_MS: '100', MEMBRANE_FED_OUTBOUND__BACKOFF_MAX_MS: '200' } });
    synapse = await startSynapse({ dir: join(dir, 'synapse'), ca });
    alice = await ours.createUser('alice');
    bob = await synapse.registerUser('bob');
  });

  after(async () => {
    await synapse?.stop();
    await ours?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const memberOnOurSide = (roomId: string, userId: string) => () => cs(ours.csUrl, alice.access_token, 'GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(userId)}`);

  it('a Synapse user joins a room on our server (make_join/send_join) and leaves with a reason; we see the leave', async () => {
    const created = await cs(ours.csUrl, alice.access_token, 'POST', '/createRoom', { preset: 'public_chat' });
    assert.equal(created.status, 200);
    const roomId = String(created.body['room_id']);
    const joined = await cs(synapse.clientUrl, bob.accessToken, 'POST', `/join/${enc(roomId)}?server_name=${enc(ours.serverName)}`, {});
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    const seenJoin = await eventually(memberOnOurSide(roomId, bob.userId), (a) => a.body['membership'] === 'join');
    assert.equal(seenJoin.body['membership'], 'join', JSON.stringify(seenJoin.body));
    assert.equal(seenJoin.body['displayname'], 'bob', 'Synapse puts the profile in the join; we keep the content as sent');

    const left = await cs(synapse.clientUrl, bob.accessToken, 'POST', `/rooms/${enc(roomId)}/leave`, { reason: 'bye' });
    assert.equal(left.status, 200);
    const seenLeave = await eventually(memberOnOurSide(roomId, bob.userId), (a) => a.body['membership'] === 'leave');
    assert.equal(seenLeave.body['membership'], 'leave', JSON.stringify(seenLeave.body));
    assert.equal(seenLeave.body['reason'], 'bye');
  });

  it('our user invites a Synapse user, who rejects: Synapse calls our make_leave and send_leave', async () => {
    const created = await cs(ours.csUrl, alice.access_token, 'POST', '/createRoom', { preset: 'private_chat', invite: [bob.userId] });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const roomId = String(created.body['room_id']);
    assert.deepEqual((await memberOnOurSide(roomId, bob.userId)()).body, { membership: 'invite' });
    // Synapse knows the invite once our invite request returned; the rejection goes back to us.
    const rejected = await eventually(
      () => cs(synapse.clientUrl, bob.accessToken, 'POST', `/rooms/${enc(roomId)}/leave`, {}),
      (a) => a.status === 200,
    );
    assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
    const seen = await eventually(memberOnOurSide(roomId, bob.userId), (a) => a.body['membership'] === 'leave');
    assert.deepEqual(seen.body, { membership: 'leave' });
  });

  const memberOnSynapse = (roomId: string, userId: string) => () => cs(synapse.clientUrl, bob.accessToken, 'GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(userId)}`);

  it('our user joins a room on Synapse, leaves (the leave reaches Synapse), and forgets it', async () => {
    const created = await cs(synapse.clientUrl, bob.accessToken, 'POST', '/createRoom', { preset: 'public_chat' });
    const roomId = String(created.body['room_id']);
    const joined = await cs(ours.csUrl, alice.access_token, 'POST', `/join/${enc(roomId)}?server_name=${enc(synapse.serverName)}`, {});
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    assert.equal((await eventually(memberOnSynapse(roomId, alice.user_id), (a) => a.body['membership'] === 'join')).body['membership'], 'join');
    const left = await cs(ours.csUrl, alice.access_token, 'POST', `/rooms/${enc(roomId)}/leave`, { reason: 'done' });
    assert.equal(left.status, 200);
    const seen = await eventually(memberOnSynapse(roomId, alice.user_id), (a) => a.body['membership'] === 'leave');
    assert.equal(seen.body['membership'], 'leave', JSON.stringify(seen.body));
    assert.equal(seen.body['reason'], 'done');
    assert.equal((await cs(ours.csUrl, alice.access_token, 'POST', `/rooms/${enc(roomId)}/forget`, {})).status, 200);
    const rooms = await cs(ours.csUrl, alice.access_token, 'GET', '/joined_rooms');
    assert.ok(!(rooms.body['joined_rooms'] as string[]).includes(roomId));
  });

  it('a Synapse user invites our user, who rejects: we call Synapse\'s make_leave and send_leave', async () => {
    const created = await cs(synapse.clientUrl, bob.accessToken, 'POST', '/createRoom', { preset: 'private_chat', invite: [alice.user_id] });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const roomId = String(created.body['room_id']);
    assert.equal((await memberOnSynapse(roomId, alice.user_id)()).body['membership'], 'invite');
    const rejected = await cs(ours.csUrl, alice.access_token, 'POST', `/rooms/${enc(roomId)}/leave`, {});
    assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
    const seen = await eventually(memberOnSynapse(roomId, alice.user_id), (a) => a.body['membership'] === 'leave');
    assert.equal(seen.body['membership'], 'leave', 'Synapse saw the rejection, so it went through its send_leave (not out of band)');
  });

  it('Synapse is down while our user rejects its invite: an out-of-band leave; once it is back, a new invite and rejection work', async () => {
    const created = await cs(synapse.clientUrl, bob.accessToken, 'POST', '/createRoom', { preset: 'private_chat', invite: [alice.user_id] });
    const roomId = String(created.body['room_id']);
    // Our membership service's own view (the CS API shows no invites without /sync).
    const membershipAddress = String(ours.processes[0]?.ready['address']);
    const membership = createRpcClient(MembershipServiceClient, membershipAddress, { defaultDeadlineMs: 10_000 });
    const ourMembership = () => membership.queryMembership({ roomId, userId: alice.user_id });
    assert.equal((await eventually(async () => ({ status: (await ourMembership()).membership, body: {} }), (a) => a.status === Membership.INVITE)).status, Membership.INVITE);
    const ports = { clientPort: Number(new URL(synapse.clientUrl).port), federationPort: Number(synapse.serverName.split(':')[1]) };
    await synapse.stop();
    const rejected = await cs(ours.csUrl, alice.access_token, 'POST', `/rooms/${enc(roomId)}/leave`, {});
    assert.equal(rejected.status, 200, 'the user is never stuck with the invite');
    assert.equal((await ourMembership()).membership, Membership.LEAVE, 'recorded as an out-of-band leave');
    const forgotten = await cs(ours.csUrl, alice.access_token, 'POST', `/rooms/${enc(roomId)}/forget`, {});
    assert.equal(forgotten.status, 200);
    assert.equal((await ourMembership()).forgotten, true, 'and the room can be forgotten');
    membership.close();

    synapse = await startSynapse({ dir: join(dir, 'synapse'), ca, ...ports });
    // Synapse never heard of the rejection (as with its own out-of-band
    // rejections). Federation between the two works again: a new invite from
    // Synapse reaches us and its rejection goes through Synapse.
    const second = await cs(synapse.clientUrl, bob.accessToken, 'POST', '/createRoom', { preset: 'private_chat', invite: [alice.user_id] });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    const secondRoom = String(second.body['room_id']);
    const rejectedAgain = await eventually(
      () => cs(ours.csUrl, alice.access_token, 'POST', `/rooms/${enc(secondRoom)}/leave`, {}),
      (a) => a.status === 200,
    );
    assert.equal(rejectedAgain.status, 200, JSON.stringify(rejectedAgain.body));
    const seen = await eventually(memberOnSynapse(secondRoom, alice.user_id), (a) => a.body['membership'] === 'leave', 30_000);
    assert.equal(seen.body['membership'], 'leave', JSON.stringify(seen.body));
  });
});
