// A membership service and a federation gateway as real processes (server
// name `hs.test`, real TLS from a test CA, the same signing key file), and
// fake remote servers on loopback that call the gateway.
//
// Names and ports: the gateway under test keeps the name `hs.test`. Nothing
// ever resolves it: remotes are handed the gateway's URL and only use the
// name as X-Matrix destination. The names that must resolve are the remotes'
// (the gateway fetches their keys), and those are `127.0.0.1:<port>`, taken
// after the remote has bound port 0, so no free port has to be guessed.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonObject } from '@membrane/canonical-json';
import { computeEventId, getRoomVersion, hashAndSignEvent } from '@membrane/events';
import type { BuiltPdu, Pdu, RoomVersion } from '@membrane/events';
import { InputKind, Membership, MembershipServiceClient, RoomPreset } from '@membrane/proto';
import { createRpcClient } from '@membrane/rpc';
import { parseSigningKeyFile } from '@membrane/signing';
import type { SigningKey } from '@membrane/signing';
import { createTestCertificateAuthority, startFakeRemoteServer, startFederationGatewayProcess, startMembershipService } from '@membrane/testing';
import type { AppProcess, FakeRemoteServer, FakeRemoteServerOptions, FederationAnswer, FederationCall, FederationPeer, TestCertificateAuthority } from '@membrane/testing';
import type { MembershipClient } from '../federation/membership-client.js';

export const US = 'hs.test';
export const ALICE = `@alice:${US}`;

export const enc = encodeURIComponent;
export const path = (prefix: string, ...ids: string[]): string => `/_matrix/federation/${prefix}/${ids.map(enc).join('/')}`;

/** The answer is a Matrix error with this status and errcode, and an `error` matching `message` when given. */
export function assertError(answer: FederationAnswer, status: number, errcode: string, message?: RegExp): void {
  assert.equal(answer.status, status, answer.text);
  const body = answer.body as { errcode?: unknown; error?: unknown };
  assert.equal(body.errcode, errcode, answer.text);
  if (message !== undefined) assert.match(String(body.error), message, answer.text);
}

/** A copy of the event without these top-level keys. */
export const withoutKeys = (event: Pdu, ...keys: string[]): JsonObject => {
  const copy: JsonObject = { ...(event as unknown as JsonObject) };
  for (const key of keys) delete copy[key];
  return copy;
};

export interface Fixture {
  readonly dir: string;
  readonly ca: TestCertificateAuthority;
  readonly membershipService: AppProcess & { readonly address: string };
  readonly gateway: AppProcess & { readonly url: string };
  readonly peer: FederationPeer;
  readonly grpc: MembershipClient;
  /** The signing key of hs.test (from the shared key file). */
  readonly ourKey: SigningKey;
  readonly remote: FakeRemoteServer;
  newRemote(options?: Omit<FakeRemoteServerOptions, 'ca'>): Promise<FakeRemoteServer>;
  call(call: FederationCall, remote?: FakeRemoteServer): Promise<FederationAnswer>;
  createRoom(options?: { version?: string; joinRule?: string }): Promise<{ roomId: string; version: RoomVersion }>;
  /** make_join + send_join v2 for a remote user; returns the join. */
  join(roomId: string, version: RoomVersion, userId: string, remote?: FakeRemoteServer): Promise<BuiltPdu>;
  /** make_leave, then the remote's signed leave (not sent). */
  leaveEvent(roomId: string, version: RoomVersion, userId: string, remote?: FakeRemoteServer, content?: JsonObject): Promise<BuiltPdu>;
  /** A template straight from the membership service (for users make_* would refuse). */
  serviceTemplate(roomId: string, userId: string, membership: 'join' | 'leave' | 'knock', origin: string): Promise<JsonObject>;
  membership(roomId: string, userId: string): Promise<{ membership: number; eventId: string }>;
  /** A state event by alice, signed by hs.test, input as our own (e.g. an ACL, or an invite of a remote user). */
  sendOurStateEvent(roomId: string, version: RoomVersion, type: string, content: JsonObject, stateKey?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startFixture(gatewayEnv: Readonly<Record<string, string>> = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'fed-gateway-'));
  const ca = createTestCertificateAuthority(join(dir, 'ca'));
  const certificate = ca.issue('gateway', ['127.0.0.1', US]);
  const dataDir = join(dir, 'data');
  const membershipService = await startMembershipService(dataDir);
  const gateway = await startFederationGatewayProcess({
    dataDir,
    membershipAddress: membershipService.address,
    certFile: certificate.certFile,
    keyFile: certificate.keyFile,
    caFile: ca.caFile,
    env: { MEMBRANE_FED_KEY_FETCH__RETRY_AFTER_FAILURE_MS: '0', ...gatewayEnv },
  });
  const grpc = createRpcClient(MembershipServiceClient, membershipService.address, { defaultDeadlineMs: 10_000 });
  const [ourKey] = parseSigningKeyFile(readFileSync(join(dataDir, 'signing.key'), 'utf8'));
  if (ourKey === undefined) throw new Error('no signing key');
  const remotes: FakeRemoteServer[] = [];
  const newRemote: Fixture['newRemote'] = async (options = {}) => {
    const created = await startFakeRemoteServer({ ...options, ca });
    remotes.push(created);
    return created;
  };
  const remote = await newRemote();
  const peer = { url: gateway.url, serverName: US };
  const call: Fixture['call'] = (request, from = remote) => from.request(peer, request);

  const serviceTemplate: Fixture['serviceTemplate'] = async (roomId, userId, membership, origin) => {
    const answer = await grpc.buildMembershipTemplate({
      roomId,
      userId,
      membership: { join: Membership.JOIN, leave: Membership.LEAVE, knock: Membership.KNOCK }[membership],
      origin,
      supportedRoomVersions: [],
    });
    return JSON.parse(answer.eventTemplateJson) as JsonObject;
  };

  return {
    dir,
    ca,
    membershipService,
    gateway,
    peer,
    grpc,
    ourKey,
    remote,
    newRemote,
    call,
    async createRoom(options = {}) {
      const created = await grpc.performCreateRoom({
        creatorUserId: ALICE,
        preset: RoomPreset.PUBLIC_CHAT,
        visibility: 0,
        invitees: [],
        ...(options.version === undefined ? {} : { roomVersion: options.version }),
        ...(options.joinRule === undefined ? {} : { joinRule: options.joinRule }),
      });
      return { roomId: created.roomId, version: getRoomVersion(created.roomVersion) };
    },
    async join(roomId, version, userId, from = remote) {
      const made = await call({ method: 'GET', path: `${path('v1/make_join', roomId, userId)}?ver=${version.id}` }, from);
      if (made.status !== 200) throw new Error(`make_join failed: ${made.text}`);
      const join = from.signTemplate((made.body as { event: JsonObject }).event, version);
      const sent = await call({ method: 'PUT', path: path('v2/send_join', roomId, join.eventId), body: join.event as unknown as JsonObject }, from);
      if (sent.status !== 200) throw new Error(`send_join failed: ${sent.text}`);
      return join;
    },
    async leaveEvent(roomId, version, userId, from = remote, content) {
      const made = await call({ method: 'GET', path: path('v1/make_leave', roomId, userId) }, from);
      if (made.status !== 200) throw new Error(`make_leave failed: ${made.text}`);
      return from.signTemplate((made.body as { event: JsonObject }).event, version, content);
    },
    serviceTemplate,
    async membership(roomId, userId) {
      const answer = await grpc.queryMembership({ roomId, userId });
      return { membership: answer.membership, eventId: answer.eventId };
    },
    async sendOurStateEvent(roomId, version, type, content, stateKey = '') {
      // prev_events and depth from a template (the room's forward extremities);
      // a room whose join rule keeps strangers out may still take a knock.
      const probe = `@probe:${remote.serverName}`;
      const template = await serviceTemplate(roomId, probe, 'join', remote.serverName).catch(() => serviceTemplate(roomId, probe, 'knock', remote.serverName));
      const state = await grpc.queryRoomState({ roomId });
      const events = state.stateEventsJson.map((json) => JSON.parse(json) as Pdu);
      const idOf = (wanted: (e: Pdu) => boolean): string => {
        const found = events.find(wanted);
        if (found === undefined) throw new Error('auth event missing');
        return computeEventId(found, version);
      };
      const authEvents = [
        idOf((e) => e.type === 'm.room.create'),
        idOf((e) => e.type === 'm.room.power_levels'),
        idOf((e) => e.type === 'm.room.member' && e.state_key === ALICE),
      ];
      // Join rules are cited by joins, invites and knocks only (a ban does not).
      if (type === 'm.room.member' && ['join', 'invite', 'knock'].includes(String(content['membership']))) authEvents.push(idOf((e) => e.type === 'm.room.join_rules'));
      const event = {
        type,
        state_key: stateKey,
        sender: ALICE,
        room_id: roomId,
        content,
        prev_events: template['prev_events'] as string[],
        auth_events: authEvents,
        depth: template['depth'] as number,
        origin_server_ts: Date.now(),
      };
      const signed = hashAndSignEvent(event, US, ourKey, version);
      const { results } = await grpc.inputEvents({
        origin: US,
        kind: InputKind.TRANSACTION,
        events: [{ eventJson: JSON.stringify(signed), roomVersion: version.id, strippedStateJson: [] }],
      });
      if (results[0]?.accepted !== true || results[0].softFailed) throw new Error(`state event refused: ${JSON.stringify(results[0])}`);
      return results[0].eventId;
    },
    async stop() {
      grpc.close();
      await Promise.all(remotes.map((r) => r.stop()));
      await gateway.stop().catch(() => undefined);
      await membershipService.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
