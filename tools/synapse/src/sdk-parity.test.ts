// Real client SDKs against our stack and against a real Synapse, with the
// same flows: join, leave with a reason, reject an invite, forget. matrix-js-sdk
// runs in this process; matrix-nio (Debian's python3-matrix-nio) runs through
// the CS gateway's own driver script, apps/cs-gateway/src/sdk/nio_flow.py.
// Each step states the outcome the SDK reports (a value, or the HTTP status
// and errcode of its error); both servers must give exactly that, step by step.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MatrixError, Method, Preset, createClient } from 'matrix-js-sdk';
import type { IStateEventWithRoomId, MatrixClient } from 'matrix-js-sdk';
import { NioDriver, createTestCertificateAuthority, sdkClientOptions, startHomeserverStack } from '@membrane/testing';
import type { HomeserverStack, HomeserverUser, NioResult } from '@membrane/testing';
import { startSynapse } from './index.js';
import type { RunningSynapse } from './index.js';

const NIO_FLOW = fileURLToPath(new URL('../../../apps/cs-gateway/src/sdk/nio_flow.py', import.meta.url));

/** One server as an SDK sees it: a base URL and two users. */
interface Server {
  readonly name: 'ours' | 'synapse';
  readonly baseUrl: string;
  readonly alice: HomeserverUser;
  readonly bob: HomeserverUser;
}

/** What one step gave: a value (IDs replaced by placeholders) or the SDK's error. */
type Outcome = { readonly ok: unknown } | { readonly error: readonly [status: number | null, errcode: string | undefined] };

interface Step {
  readonly step: string;
  readonly outcome: Outcome;
}

/** Records each step's outcome; the room and user IDs of this server become `<room>`, `<alice>`, `<bob>`. */
class Trace {
  readonly steps: Step[] = [];
  private readonly names = new Map<string, string>();

  constructor(server: Server) {
    this.names.set(server.alice.user_id, '<alice>');
    this.names.set(server.bob.user_id, '<bob>');
  }

  room(roomId: string): string {
    this.names.set(roomId, '<room>');
    return roomId;
  }

  normalize(value: unknown): unknown {
    if (value === undefined) return null;
    let text = JSON.stringify(value);
    for (const [id, name] of this.names) text = text.split(JSON.stringify(id).slice(1, -1)).join(name);
    return JSON.parse(text) as unknown;
  }

  record(step: string, outcome: Outcome): void {
    this.steps.push({ step, outcome: 'ok' in outcome ? { ok: this.normalize(outcome.ok) } : outcome });
  }
}

/** The steps of a flow with the outcomes every server must give. */
type Expected = readonly (readonly [step: string, outcome: Outcome])[];

const ok = (value: unknown): Outcome => ({ ok: value });
const error = (status: number, errcode: string): Outcome => ({ error: [status, errcode] });
const asSteps = (expected: Expected): Step[] => expected.map(([step, outcome]) => ({ step, outcome }));

/** Only what a leave lifecycle is about: other keys (Synapse adds a profile to joins and invites) are left out. */
function membershipOf(content: unknown): Record<string, unknown> {
  const object = (content ?? {}) as Record<string, unknown>;
  return Object.fromEntries(['membership', 'reason'].filter((k) => k in object).map((k) => [k, object[k]]));
}

// ---------------------------------------------------------------------------
// matrix-js-sdk

interface JsFlowContext {
  readonly alice: MatrixClient;
  readonly bob: MatrixClient;
  readonly server: Server;
  /** Runs one SDK call and records its outcome (a MatrixError as status and errcode). */
  step<T>(name: string, call: () => Promise<T>, view?: (value: T) => unknown): Promise<T | undefined>;
  readonly trace: Trace;
}

async function runJsFlow(server: Server, flow: (c: JsFlowContext) => Promise<void>): Promise<Step[]> {
  const client = (user: HomeserverUser): MatrixClient => createClient(sdkClientOptions(server.baseUrl, user));
  const trace = new Trace(server);
  const context: JsFlowContext = {
    alice: client(server.alice),
    bob: client(server.bob),
    server,
    trace,
    async step(name, call, view) {
      try {
        const value = await call();
        trace.record(name, { ok: view === undefined ? value : view(value) });
        return value;
      } catch (err) {
        if (!(err instanceof MatrixError)) throw err;
        trace.record(name, { error: [err.httpStatus ?? null, err.errcode] });
        return undefined;
      }
    },
  };
  try {
    await flow(context);
  } finally {
    context.alice.stopClient();
    context.bob.stopClient();
  }
  return trace.steps;
}

const roomIdOf = (created: { room_id: string } | undefined, trace: Trace): string => trace.room(created?.room_id ?? '!creation-failed:nowhere');

/** `members()` is typed as a map in the SDK but returns the spec's `{chunk}`: bob's member events, as membership and sender. */
async function bobsMemberEvents(c: JsFlowContext, client: MatrixClient, roomId: string): Promise<unknown> {
  const answer = (await client.members(roomId)) as unknown as { chunk: IStateEventWithRoomId[] };
  return answer.chunk.filter((e) => e.state_key === c.server.bob.user_id).map((e) => ({ sender: e.sender, content: membershipOf(e.content) }));
}

const bobInRooms = (c: JsFlowContext, roomId: string) => async () => (await c.bob.getJoinedRooms()).joined_rooms.includes(roomId);

interface JsFlow {
  readonly name: string;
  readonly run: (c: JsFlowContext) => Promise<void>;
  readonly expected: Expected;
}

const JS_FLOWS: readonly JsFlow[] = [
  {
    name: 'private room: invite, join, leave with a reason, refused rejoin, members, forget',
    async run(c) {
      const roomId = roomIdOf(await c.step('alice creates a private room', () => c.alice.createRoom({ preset: Preset.PrivateChat, name: 'SDK leave demo' }), () => 'created'), c.trace);
      await c.step('alice invites bob', () => c.alice.invite(roomId, c.server.bob.user_id));
      await c.step('bob joins', () => c.bob.joinRoom(roomId), (room) => room.roomId === roomId);
      await c.step('bob is in the room', bobInRooms(c, roomId));
      await c.step('bob forgets while joined', () => c.bob.forget(roomId));
      await c.step('bob leaves with a reason', () => c.bob.http.authedRequest(Method.Post, `/rooms/${encodeURIComponent(roomId)}/leave`, undefined, { reason: 'Thanks, bye' }));
      await c.step('bob is in the room', bobInRooms(c, roomId));
      await c.step('bob joins again', () => c.bob.joinRoom(roomId), () => 'joined');
      await c.step("alice reads bob's member events", () => bobsMemberEvents(c, c.alice, roomId));
      await c.step("alice reads bob's member state", () => c.alice.getStateEvent(roomId, 'm.room.member', c.server.bob.user_id), membershipOf);
      await c.step('bob reads his own member state', () => c.bob.getStateEvent(roomId, 'm.room.member', c.server.bob.user_id), membershipOf);
      await c.step('bob forgets', () => c.bob.forget(roomId));
      await c.step('bob reads his own member state', () => c.bob.getStateEvent(roomId, 'm.room.member', c.server.bob.user_id), membershipOf);
      await c.step('bob reads the members', () => bobsMemberEvents(c, c.bob, roomId));
      await c.step("alice reads bob's member events", () => bobsMemberEvents(c, c.alice, roomId));
    },
    expected: [
      ['alice creates a private room', ok('created')],
      ['alice invites bob', ok({})],
      ['bob joins', ok(true)],
      ['bob is in the room', ok(true)],
      ['bob forgets while joined', error(400, 'M_UNKNOWN')],
      ['bob leaves with a reason', ok({})],
      ['bob is in the room', ok(false)],
      ['bob joins again', error(403, 'M_FORBIDDEN')],
      ["alice reads bob's member events", ok([{ sender: '<bob>', content: { membership: 'leave', reason: 'Thanks, bye' } }])],
      ["alice reads bob's member state", ok({ membership: 'leave', reason: 'Thanks, bye' })],
      ['bob reads his own member state', ok({ membership: 'leave', reason: 'Thanks, bye' })],
      ['bob forgets', ok({})],
      ['bob reads his own member state', error(403, 'M_FORBIDDEN')],
      ['bob reads the members', error(403, 'M_FORBIDDEN')],
      ["alice reads bob's member events", ok([{ sender: '<bob>', content: { membership: 'leave', reason: 'Thanks, bye' } }])],
    ],
  },
  {
    name: 'public room: join, then leave(roomId) without a reason',
    async run(c) {
      const roomId = roomIdOf(await c.step('alice creates a public room', () => c.alice.createRoom({ preset: Preset.PublicChat }), () => 'created'), c.trace);
      await c.step('bob joins', () => c.bob.joinRoom(roomId), (room) => room.roomId === roomId);
      await c.step('bob leaves', () => c.bob.leave(roomId));
      await c.step("alice reads bob's member state", () => c.alice.getStateEvent(roomId, 'm.room.member', c.server.bob.user_id), membershipOf);
      await c.step('bob is in the room', bobInRooms(c, roomId));
    },
    expected: [
      ['alice creates a public room', ok('created')],
      ['bob joins', ok(true)],
      ['bob leaves', ok({})],
      ["alice reads bob's member state", ok({ membership: 'leave' })],
      ['bob is in the room', ok(false)],
    ],
  },
  {
    name: 'reject an invite with leave(roomId), then forget the room',
    async run(c) {
      const roomId = roomIdOf(await c.step('alice creates a private room', () => c.alice.createRoom({ preset: Preset.PrivateChat }), () => 'created'), c.trace);
      await c.step('alice invites bob with a reason', () => c.alice.invite(roomId, c.server.bob.user_id, 'come along'));
      await c.step("alice reads bob's member state", () => c.alice.getStateEvent(roomId, 'm.room.member', c.server.bob.user_id), membershipOf);
      await c.step('bob rejects the invite', () => c.bob.leave(roomId));
      await c.step("alice reads bob's member events", () => bobsMemberEvents(c, c.alice, roomId));
      await c.step('bob joins', () => c.bob.joinRoom(roomId), () => 'joined');
      await c.step('bob forgets', () => c.bob.forget(roomId));
    },
    expected: [
      ['alice creates a private room', ok('created')],
      ['alice invites bob with a reason', ok({})],
      ["alice reads bob's member state", ok({ membership: 'invite', reason: 'come along' })],
      ['bob rejects the invite', ok({})],
      ["alice reads bob's member events", ok([{ sender: '<bob>', content: { membership: 'leave' } }])],
      ['bob joins', error(403, 'M_FORBIDDEN')],
      ['bob forgets', ok({})],
    ],
  },
  {
    name: 'leave with a reason through kick(roomId, ownUserId, reason)',
    async run(c) {
      const roomId = roomIdOf(await c.step('alice creates a public room', () => c.alice.createRoom({ preset: Preset.PublicChat }), () => 'created'), c.trace);
      await c.step('bob joins', () => c.bob.joinRoom(roomId), (room) => room.roomId === roomId);
      await c.step('bob kicks himself with a reason', () => c.bob.kick(roomId, c.server.bob.user_id, 'self-kick'));
      await c.step("alice reads bob's member events", () => bobsMemberEvents(c, c.alice, roomId));
    },
    expected: [
      ['alice creates a public room', ok('created')],
      ['bob joins', ok(true)],
      ['bob kicks himself with a reason', ok({})],
      ["alice reads bob's member events", ok([{ sender: '<bob>', content: { membership: 'leave', reason: 'self-kick' } }])],
    ],
  },
];

// ---------------------------------------------------------------------------
// matrix-nio, through nio_flow.py

interface NioFlowContext {
  readonly server: Server;
  readonly trace: Trace;
  /** Runs one nio call and records its response class and status, plus `view` of a success or the errcode of an error. */
  step(name: string, as: 'alice' | 'bob', op: string, args?: Record<string, unknown>, view?: (answer: NioResult) => unknown): Promise<NioResult>;
}

interface NioFlow {
  readonly name: string;
  readonly run: (c: NioFlowContext) => Promise<void>;
  readonly expected: Expected;
}

const nioOk = (cls: string, view: unknown = null): Outcome => ok({ class: cls, status: 200, view });
const nioError = (cls: string, status: number, errcode: string): Outcome => ok({ class: cls, status, errcode });
const nioRooms = (roomId: string) => (answer: NioResult) => (answer.fields['rooms'] as string[]).includes(roomId);
const nioContent = (answer: NioResult) => membershipOf(answer.fields['content']);

async function runNioFlow(nio: NioDriver, server: Server, flow: NioFlow): Promise<Step[]> {
  const trace = new Trace(server);
  await flow.run({
    server,
    trace,
    async step(name, as, op, args = {}, view) {
      const answer = await nio.call(as, op, args);
      const outcome = answer.error
        ? { class: answer.class, status: answer.status, errcode: answer.fields['status_code'] }
        : { class: answer.class, status: answer.status, view: view === undefined ? null : view(answer) };
      trace.record(name, { ok: outcome });
      return answer;
    },
  });
  return trace.steps;
}

async function nioRoom(c: NioFlowContext, body: Record<string, unknown>): Promise<string> {
  const created = await c.step('alice creates a room', 'alice', 'room_create_plain', body);
  return c.trace.room(String(created.fields['room_id']));
}

const NIO_FLOWS: readonly NioFlow[] = [
  {
    name: 'private room: invite, join, leave with a reason, refused rejoin, forget',
    async run(c) {
      const roomId = await nioRoom(c, { preset: 'private_chat', name: 'nio leave demo' });
      const bob = c.server.bob.user_id;
      await c.step('alice invites bob', 'alice', 'room_invite', { room_id: roomId, user_id: bob });
      await c.step('bob joins', 'bob', 'join', { room_id: roomId }, (a) => a.fields['room_id']);
      await c.step('bob is in the room', 'bob', 'joined_rooms', {}, nioRooms(roomId));
      await c.step('bob forgets while joined', 'bob', 'room_forget', { room_id: roomId });
      await c.step('bob leaves with a reason', 'bob', 'room_leave_with_reason', { room_id: roomId, reason: 'nio says bye' });
      await c.step('bob is in the room', 'bob', 'joined_rooms', {}, nioRooms(roomId));
      await c.step('bob joins again', 'bob', 'join', { room_id: roomId });
      await c.step("alice reads bob's member state", 'alice', 'room_get_state_event', { room_id: roomId, event_type: 'm.room.member', state_key: bob }, nioContent);
      await c.step('bob reads his own member state', 'bob', 'room_get_state_event', { room_id: roomId, event_type: 'm.room.member', state_key: bob }, nioContent);
      await c.step('bob forgets', 'bob', 'room_forget', { room_id: roomId }, (a) => a.fields['room_id']);
      // nio 0.20.1 makes an error class only of a 404 here: a 403 comes back as a response whose content is the error.
      await c.step('bob reads his own member state', 'bob', 'room_get_state_event', { room_id: roomId, event_type: 'm.room.member', state_key: bob }, (a) =>
        (a.fields['content'] as Record<string, unknown>)['errcode'],
      );
    },
    expected: [
      ['alice creates a room', nioOk('RoomCreateResponse')],
      ['alice invites bob', nioOk('RoomInviteResponse')],
      ['bob joins', nioOk('JoinResponse', '<room>')],
      ['bob is in the room', nioOk('JoinedRoomsResponse', true)],
      ['bob forgets while joined', nioError('RoomForgetError', 400, 'M_UNKNOWN')],
      ['bob leaves with a reason', nioOk('RoomLeaveResponse')],
      ['bob is in the room', nioOk('JoinedRoomsResponse', false)],
      ['bob joins again', nioError('JoinError', 403, 'M_FORBIDDEN')],
      ["alice reads bob's member state", nioOk('RoomGetStateEventResponse', { membership: 'leave', reason: 'nio says bye' })],
      ['bob reads his own member state', nioOk('RoomGetStateEventResponse', { membership: 'leave', reason: 'nio says bye' })],
      ['bob forgets', nioOk('RoomForgetResponse', '<room>')],
      ['bob reads his own member state', ok({ class: 'RoomGetStateEventResponse', status: 403, view: 'M_FORBIDDEN' })],
    ],
  },
  {
    name: 'public room: join, then room_leave without a reason',
    async run(c) {
      const roomId = await nioRoom(c, { preset: 'public_chat' });
      const bob = c.server.bob.user_id;
      await c.step('bob joins', 'bob', 'join', { room_id: roomId }, (a) => a.fields['room_id']);
      await c.step('bob leaves', 'bob', 'room_leave', { room_id: roomId });
      await c.step("alice reads bob's member state", 'alice', 'room_get_state_event', { room_id: roomId, event_type: 'm.room.member', state_key: bob }, nioContent);
    },
    expected: [
      ['alice creates a room', nioOk('RoomCreateResponse')],
      ['bob joins', nioOk('JoinResponse', '<room>')],
      ['bob leaves', nioOk('RoomLeaveResponse')],
      ["alice reads bob's member state", nioOk('RoomGetStateEventResponse', { membership: 'leave' })],
    ],
  },
  {
    name: 'reject an invite with room_leave, then forget the room',
    async run(c) {
      const roomId = await nioRoom(c, { preset: 'private_chat' });
      const bob = c.server.bob.user_id;
      await c.step('alice invites bob', 'alice', 'room_invite', { room_id: roomId, user_id: bob });
      await c.step('bob rejects the invite', 'bob', 'room_leave', { room_id: roomId });
      await c.step("alice reads bob's member state", 'alice', 'room_get_state_event', { room_id: roomId, event_type: 'm.room.member', state_key: bob }, nioContent);
      await c.step('bob joins', 'bob', 'join', { room_id: roomId });
      await c.step('bob forgets', 'bob', 'room_forget', { room_id: roomId }, (a) => a.fields['room_id']);
    },
    expected: [
      ['alice creates a room', nioOk('RoomCreateResponse')],
      ['alice invites bob', nioOk('RoomInviteResponse')],
      ['bob rejects the invite', nioOk('RoomLeaveResponse')],
      ["alice reads bob's member state", nioOk('RoomGetStateEventResponse', { membership: 'leave' })],
      ['bob joins', nioError('JoinError', 403, 'M_FORBIDDEN')],
      ['bob forgets', nioOk('RoomForgetResponse', '<room>')],
    ],
  },
  {
    name: 'leave with a reason through room_kick on oneself',
    async run(c) {
      const roomId = await nioRoom(c, { preset: 'public_chat' });
      const bob = c.server.bob.user_id;
      await c.step('bob joins', 'bob', 'join', { room_id: roomId }, (a) => a.fields['room_id']);
      await c.step('bob kicks himself with a reason', 'bob', 'room_kick', { room_id: roomId, user_id: bob, reason: 'self-kick' });
      await c.step("alice reads bob's member state", 'alice', 'room_get_state_event', { room_id: roomId, event_type: 'm.room.member', state_key: bob }, nioContent);
    },
    expected: [
      ['alice creates a room', nioOk('RoomCreateResponse')],
      ['bob joins', nioOk('JoinResponse', '<room>')],
      ['bob kicks himself with a reason', nioOk('RoomKickResponse')],
      ["alice reads bob's member state", nioOk('RoomGetStateEventResponse', { membership: 'leave', reason: 'self-kick' })],
    ],
  },
];

// ---------------------------------------------------------------------------

describe('client SDKs give the same results against our stack and a real Synapse', { timeout: 300_000 }, () => {
  let dir = '';
  let ours: HomeserverStack;
  let synapse: RunningSynapse;
  const servers: Server[] = [];
  const nios = new Map<string, NioDriver>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sdk-parity-'));
    const ca = createTestCertificateAuthority(join(dir, 'ca'));
    [ours, synapse] = await Promise.all([startHomeserverStack({ dir: join(dir, 'ours'), ca }), startSynapse({ dir: join(dir, 'synapse'), ca })]);
    const ourUser = async (localpart: string): Promise<HomeserverUser> => {
      const user = await ours.createUser(localpart);
      return { user_id: user.user_id, access_token: user.access_token, device_id: user.device_id };
    };
    const synapseUser = async (localpart: string): Promise<HomeserverUser> => {
      const user = await synapse.registerUser(localpart);
      return { user_id: user.userId, access_token: user.accessToken, device_id: user.deviceId };
    };
    const [oursAlice, oursBob, synapseAlice, synapseBob] = await Promise.all([ourUser('alice'), ourUser('bob'), synapseUser('alice'), synapseUser('bob')]);
    servers.push({ name: 'ours', baseUrl: ours.csUrl, alice: oursAlice, bob: oursBob }, { name: 'synapse', baseUrl: synapse.clientUrl, alice: synapseAlice, bob: synapseBob });
  });

  after(async () => {
    const codes = await Promise.all([...nios.values()].map((nio) => nio.close()));
    await synapse?.stop();
    await ours?.stop();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(codes, codes.map(() => 0), 'nio_flow.py ends cleanly');
  });

  const server = (name: 'ours' | 'synapse'): Server => {
    const found = servers.find((s) => s.name === name);
    assert.ok(found !== undefined);
    return found;
  };

  async function nioFor(s: Server): Promise<NioDriver> {
    const existing = nios.get(s.name);
    if (existing !== undefined) return existing;
    // Bounded like the whole suite, which starts it on demand.
    const started = await NioDriver.start(NIO_FLOW, s.baseUrl, { alice: s.alice, bob: s.bob }, { lifetimeMs: 300_000 });
    nios.set(s.name, started);
    assert.equal(started.nioVersion, '0.20.1', 'the version the README names');
    return started;
  }

  /** Both servers, side by side; each trace must be the expected one (so they are the same). */
  async function assertSameOnBoth(run: (s: Server) => Promise<Step[]>, expected: Expected): Promise<void> {
    const [oursTrace, synapseTrace] = await Promise.all([run(server('ours')), run(server('synapse'))]);
    assert.deepEqual(oursTrace, asSteps(expected), 'our stack');
    assert.deepEqual(synapseTrace, asSteps(expected), 'Synapse');
  }

  for (const flow of JS_FLOWS) {
    it(`matrix-js-sdk: ${flow.name}`, () => assertSameOnBoth((s) => runJsFlow(s, flow.run), flow.expected));
  }

  for (const flow of NIO_FLOWS) {
    it(`matrix-nio: ${flow.name}`, () => assertSameOnBoth(async (s) => runNioFlow(await nioFor(s), s, flow), flow.expected));
  }
});
