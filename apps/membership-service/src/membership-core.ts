// The membership service's verbs, free of gRPC: Perform* for local intents,
// Query* for reads, input for events from other servers. Every change to a
// room runs inside that room's serialized storage transaction, and the
// event, state, memberships, outbox rows and idempotency record commit
// together before the caller gets an answer.
import { randomBytes } from 'node:crypto';
import type { JsonObject, JsonValue } from '@membrane/canonical-json';
import { encodeCanonicalJson, encodeCanonicalJsonBytes, isJsonObject, JsonParseError, parseJson } from '@membrane/canonical-json';
import type { AuthEvent, Membership, Pdu, PduSigner, RoomVersion } from '@membrane/events';
import {
  buildMembershipTemplate,
  buildPdu,
  checkAuthChain,
  checkAuthEventsSanity,
  checkEventAuth,
  authStateFromEvents,
  computeEventId,
  findRoomVersion,
  getRoomVersion,
  MAX_PDU_BYTES,
  namedLevel,
  parsePowerLevels,
  powerLevelOf,
  roomIdFromCreateEventId,
  serverNameOf,
  STRIPPED_STATE_TYPES,
  SUPPORTED_ROOM_VERSIONS,
  validatePdu,
} from '@membrane/events';
import { MatrixError } from '@membrane/matrix-errors';
import type { MembershipRecord as DecisionRecord, RoomCreationRequest } from '@membrane/membership';
import type { RoomMembershipAnswer } from '@membrane/membership';
import {
  allowedRoomIds,
  assertInvitable,
  assertKickable,
  assertUnbannable,
  chooseJoinAuthoriser,
  decideForget,
  decideLeave,
  planRoomCreation,
} from '@membrane/membership';
import {
  appendLocalEvent,
  authEventOf,
  authStateWithCreate,
  eventRow,
  citeStoredEvent,
  currentAuthState,
  loadAuthEventsFor,
  loadPrevEvents,
  membershipOf,
  persistAcceptedEvent,
  generateRoomId,
  SIGNATURES_CHECKED_AT_THE_BORDER,
} from './room-writer.js';
import type { EventDraft } from './room-writer.js';
import type { MembershipRecord, ReadTx, RoomRecord, RoomTx, StateEntry, Storage, StoredMembership } from './storage/index.js';

/** Remote operations the federation gateway performs for us (optional until it is deployed). */
export interface RemoteMembership {
  /** Has the invitee's server counter-sign our invite (federation `invite`); returns the event signed by both. */
  invite?(request: { roomId: string; roomVersion: string; eventJson: string; inviteRoomStateJson: readonly string[] }): Promise<{ eventJson: string }>;
  /** Rejects an invite / rescinds a knock through a server in the room; returns the leave event sent. */
  leave(request: { roomId: string; userId: string; serverNames: readonly string[]; reason?: string; roomVersion: string; kind?: 'reject-invite' | 'rescind-knock' }): Promise<{ eventJson: string }>;
  /**
   * Joins a room through a resident server (make_join / send_join); returns
   * our join event and the room state before it with its auth chain, their
   * signatures checked. Throws a MatrixError when no server let us join.
   */
  join?(request: { roomId: string; userId: string; serverNames: readonly string[]; supportedRoomVersions: readonly string[]; reason?: string }): Promise<RemoteJoinAnswer>;
  /**
   * Knocks on a room through a resident server (make_knock / send_knock);
   * returns our knock event and the room state the server answered.
   * Throws a MatrixError when no server took the knock.
   */
  knock?(request: { roomId: string; userId: string; serverNames: readonly string[]; supportedRoomVersions: readonly string[]; reason?: string }): Promise<RemoteKnockAnswer>;
  /** The outbox has new entries: wake the transaction sender (best effort). */
  notifyOutbox?(): void;
}

export interface RemoteKnockAnswer {
  readonly roomVersion: string;
  readonly knockEventJson: string;
  /** `knock_room_state`: the room's state events that identify it (shown as stripped state), each a JSON object. */
  readonly knockRoomStateJson: readonly string[];
  /** The server that accepted the knock. */
  readonly serverName: string;
}

export interface RemoteJoinAnswer {
  readonly roomVersion: string;
  readonly joinEventJson: string;
  readonly stateJson: readonly string[];
  readonly authChainJson: readonly string[];
}

export interface MembershipCoreOptions {
  readonly storage: Storage;
  readonly signer: PduSigner;
  readonly defaultRoomVersion: string;
  readonly clock?: () => number;
  readonly remote?: RemoteMembership;
  /**
   * Leaving a room (or rejecting an invite) also forgets it, in the leave's
   * transaction; `queryCapabilities` reports it as `forget_forced_upon_leave`.
   */
  readonly forgetRoomsOnLeave?: boolean;
  /** Called after a transaction that stored events has committed (wakes output streams). */
  readonly onCommitted?: () => void;
  /**
   * Called when a leave of a room we are not in could not go through any
   * remote server and was recorded out of band (for logs and metrics).
   */
  readonly onOutOfBandLeave?: (details: { roomId: string; userId: string; reason: 'no-remote-service' | 'no-servers' | 'all-servers-failed'; error?: unknown }) => void;
  /**
   * Called when a transaction brings the end of a user's invite or knock in
   * a room we are not in from a server it is not believed from; the event
   * is ignored (for logs).
   */
  readonly onUnbelievedMembership?: (details: { roomId: string; userId: string; eventId: string; origin: string; pending: 'invite' | 'knock'; believedFrom: readonly string[] }) => void;
}

export interface InputOutcome {
  readonly eventId: string;
  readonly accepted: boolean;
  readonly softFailed: boolean;
  readonly error?: MatrixError;
}

export type InputKind = 'send_join' | 'send_leave' | 'send_knock' | 'invite' | 'transaction';

interface IntentOptions {
  readonly reason?: string | undefined;
  readonly idempotencyKey?: string | undefined;
}

export class MembershipCore {
  private readonly storage: Storage;
  private readonly signer: PduSigner;
  private readonly clock: () => number;

  constructor(private readonly options: MembershipCoreOptions) {
    this.storage = options.storage;
    this.signer = options.signer;
    this.clock = options.clock ?? Date.now;
    getRoomVersion(options.defaultRoomVersion);
  }

  get serverName(): string {
    return this.signer.serverName;
  }

  // ------------------------------------------------------------ Perform

  async createRoom(request: RoomCreationRequest & { roomVersion?: string | undefined; idempotencyKey?: string | undefined }): Promise<{ roomId: string; roomVersion: string }> {
    this.assertLocalUser(request.creator);
    const version = this.roomVersionFor(request.roomVersion);
    const drafts = planRoomCreation(request, version);
    const idempotencyKey = request.idempotencyKey === undefined ? undefined : JSON.stringify(['createRoom', request.creator, request.idempotencyKey]);
    if (idempotencyKey !== undefined) {
      const earlier = await this.storage.read((tx) => tx.getIdempotencyRecord(idempotencyKey));
      if (earlier !== null) return JSON.parse(earlier.resultJson) as { roomId: string; roomVersion: string };
    }
    const [createDraft, ...rest] = drafts as [EventDraft, ...EventDraft[]];
    const isRemoteInvite = (draft: EventDraft): boolean =>
      draft.type === 'm.room.member' && membershipOf(draft.content) === 'invite' && draft.stateKey !== undefined && serverNameOf(draft.stateKey) !== this.serverName;
    // Without a federation gateway remote invites cannot be sent: refuse before creating anything.
    if (this.options.remote?.invite === undefined) for (const draft of rest) if (isRemoteInvite(draft)) this.assertLocalInvitee(draft.stateKey as string);
    const now = this.clock();
    // v12 rooms are named after their create event, so it is built before the room exists.
    const create = version.roomIdFromCreateEvent
      ? buildPdu({ version, proto: protoOf(createDraft), prevEvents: [], authEvents: [], originServerTs: now }, this.signer)
      : undefined;
    const roomId = create === undefined ? generateRoomId(this.serverName, randomBytes) : roomIdFromCreateEventId(create.eventId);
    const result = { roomId, roomVersion: version.id };
    await this.storage.withRoomTransaction(roomId, async (tx) => {
      const { created, room } = await tx.createRoom({ roomVersion: version.id, createdTs: now });
      if (!created) throw MatrixError.unknown('Room ID collision; try again', 500);
      let current = room;
      if (create === undefined) {
        await appendLocalEvent(tx, current, version, createDraft, this.signer, now);
      } else {
        await persistAcceptedEvent(tx, current, create.event, create.eventId, this.serverName, now, [create.eventId]);
      }
      for (const draft of rest) {
        if (isRemoteInvite(draft)) continue;
        current = await this.reloadRoom(tx);
        await appendLocalEvent(tx, current, version, draft, this.signer, now);
      }
      if (idempotencyKey !== undefined) await tx.putIdempotencyRecord(idempotencyKey, JSON.stringify(result), now);
    });
    this.committed();
    // Invites of users on other servers need their server's counter-signature:
    // they go out once the room exists, each like a /invite.
    for (const draft of rest) {
      if (isRemoteInvite(draft)) await this.invite({ roomId, sender: request.creator, invitee: draft.stateKey as string });
    }
    return result;
  }

  async join(request: { roomIdOrAlias: string; userId: string; serverNames?: readonly string[]; reason?: string | undefined } & IntentOptions): Promise<{ roomId: string; eventId: string }> {
    this.assertLocalUser(request.userId);
    if (request.roomIdOrAlias.startsWith('#')) throw MatrixError.notFound(`Room alias ${request.roomIdOrAlias} not found`);
    const roomId = request.roomIdOrAlias;
    const local = await this.joinLocally(roomId, request);
    if (!('remote' in local)) return local;
    return this.joinThroughRemote(roomId, request);
  }

  private async joinLocally(roomId: string, request: { userId: string; serverNames?: readonly string[]; reason?: string | undefined } & IntentOptions): Promise<{ roomId: string; eventId: string } | { roomId: string; eventId: string; remote: true }> {
    return this.changeMembership(roomId, request, async (tx, room, version, current) => {
      if (current?.membership === 'join') return { roomId, eventId: current.eventId };
      if (!(await tx.isServerInRoom(roomId, this.serverName))) return { roomId, eventId: '', remote: true as const };
      const appended = await appendLocalEvent(tx, room, version, memberDraft(request.userId, request.userId, 'join', request.reason), this.signer, this.clock());
      return { roomId, eventId: appended.eventId };
    }).catch((err: unknown) => {
      // A room we have never heard of may still live on the servers named.
      if (err instanceof MatrixError && err.status === 404 && this.options.remote?.join !== undefined && (request.serverNames?.length ?? 0) > 0) return { roomId, eventId: '', remote: true as const };
      throw err;
    });
  }

  async invite(request: { roomId: string; sender: string; invitee: string } & IntentOptions): Promise<{ eventId: string }> {
    this.assertLocalUser(request.sender);
    if (serverNameOf(request.invitee) !== this.serverName && this.options.remote?.invite !== undefined) return this.inviteRemoteUser(request, this.options.remote.invite.bind(this.options.remote));
    this.assertLocalInvitee(request.invitee);
    return this.changeMembership(request.roomId, request, async (tx, room, version) => {
      const target = await tx.getMembership(room.roomId, request.invitee);
      if (target?.membership === 'invite') return { eventId: target.eventId };
      assertInvitable(request.invitee, room.roomId, decisionRecord(target));
      const appended = await appendLocalEvent(tx, room, version, memberDraft(request.sender, request.invitee, 'invite', request.reason), this.signer, this.clock());
      return { eventId: appended.eventId };
    });
  }

  async leave(request: { roomId: string; userId: string } & IntentOptions): Promise<{ eventId: string; eventCreated: boolean; outOfBand: boolean }> {
    this.assertLocalUser(request.userId);
    const outcome = await this.changeMembership(request.roomId, request, async (tx, room, version, current) => {
      // Only an invite or a knock depends on whether this server is in the room.
      const pending = current?.membership === 'invite' || current?.membership === 'knock';
      const presence = !pending || (await tx.isServerInRoom(room.roomId, this.serverName)) ? 'resident' : 'outsider';
      const decision = decideLeave(request.userId, room.roomId, decisionRecord(current), presence);
      switch (decision.kind) {
        case 'already-left':
          return { eventId: decision.eventId, eventCreated: false, outOfBand: false, remote: false };
        case 'send-leave': {
          // Before the event: on PostgreSQL, writes after its insert hold the stream order.
          await tx.deleteReceivedInvite(request.userId);
          const appended = await appendLocalEvent(tx, room, version, memberDraft(request.userId, request.userId, 'leave', request.reason), this.signer, this.clock());
          if (this.options.forgetRoomsOnLeave === true) await tx.setForgotten(request.userId, true);
          return { eventId: appended.eventId, eventCreated: true, outOfBand: false, remote: false };
        }
        case 'remote-leave':
          return { eventId: '', eventCreated: false, outOfBand: false, remote: true };
      }
    });
    if (!outcome.remote) return { eventId: outcome.eventId, eventCreated: outcome.eventCreated, outOfBand: outcome.outOfBand };
    return this.leaveThroughRemote(request);
  }

  async rejectInvite(request: { roomId: string; userId: string } & IntentOptions): Promise<{ eventId: string; outOfBand: boolean }> {
    const membership = await this.storage.read((tx) => tx.getMembership(request.roomId, request.userId));
    if (membership?.membership !== 'invite') throw MatrixError.forbidden(`User ${request.userId} has no invite to room ${request.roomId}`);
    const result = await this.leave(request);
    return { eventId: result.eventId, outOfBand: result.outOfBand };
  }

  async kick(request: { roomId: string; sender: string; target: string } & IntentOptions): Promise<{ eventId: string }> {
    return this.moderate(request, 'leave', (target, roomId) => assertKickable(request.target, roomId, target));
  }

  async ban(request: { roomId: string; sender: string; target: string } & IntentOptions): Promise<{ eventId: string }> {
    return this.moderate(request, 'ban', (target) => (target?.membership === 'ban' ? 'already' : undefined));
  }

  async unban(request: { roomId: string; sender: string; target: string } & IntentOptions): Promise<{ eventId: string }> {
    return this.moderate(request, 'leave', (target, roomId) => assertUnbannable(request.target, roomId, target));
  }

  async forget(request: { roomId: string; userId: string }): Promise<void> {
    this.assertLocalUser(request.userId);
    const changed = await this.storage.withRoomTransaction(request.roomId, async (tx) => {
      const current = await tx.getMembership(request.roomId, request.userId);
      const decision = decideForget(request.userId, request.roomId, decisionRecord(current));
      if (decision.kind === 'nothing-to-do') return false;
      return tx.setForgotten(request.userId, true);
    });
    if (changed) this.committed();
  }

  /**
   * Knocks on a room (room versions 7+, join rule `knock`, or
   * `knock_restricted` from v10): here when this server is in the room,
   * otherwise through the servers named, the room ID's server and those of
   * a received invite (make_knock / send_knock). Knocking again while
   * knocking returns the knock already there; leaving rescinds it.
   */
  async knock(request: { roomIdOrAlias: string; userId: string; serverNames?: readonly string[]; reason?: string | undefined } & IntentOptions): Promise<{ roomId: string; eventId: string }> {
    this.assertLocalUser(request.userId);
    if (request.roomIdOrAlias.startsWith('#')) throw MatrixError.notFound(`Room alias ${request.roomIdOrAlias} not found`);
    const roomId = request.roomIdOrAlias;
    const remote = { roomId, eventId: '', remote: true as const };
    const local =
      (await this.storage.read((tx) => tx.getRoom(roomId))) === null
        ? remote
        : await this.changeMembership(roomId, request, async (tx, room, version, current) => {
            if (current?.membership === 'knock') return { roomId, eventId: current.eventId };
            if (!(await tx.isServerInRoom(roomId, this.serverName))) return remote;
            if (!version.knock) throw MatrixError.forbidden(`Room version ${version.id} does not support knocking`);
            const appended = await appendLocalEvent(tx, room, version, memberDraft(request.userId, request.userId, 'knock', request.reason), this.signer, this.clock());
            return { roomId, eventId: appended.eventId };
          });
    if (!('remote' in local)) return local;
    return this.knockThroughRemote(roomId, request);
  }

  /**
   * Sends a message event, or a state event when `stateKey` is given (`''`
   * included), built, signed and checked by the auth rules here. A repeated
   * idempotency key returns the first event ID and sends nothing; a state
   * event equal to the sender's current one (same content) returns that one.
   */
  async sendEvent(request: { roomId: string; sender: string; type: string; stateKey?: string | undefined; contentJson: string; idempotencyKey?: string | undefined }): Promise<{ eventId: string }> {
    this.assertLocalUser(request.sender);
    assertSendableType(request.type);
    const content = parseEventContent(request.contentJson);
    const draft: EventDraft = { type: request.type, sender: request.sender, content, ...(request.stateKey === undefined ? {} : { stateKey: request.stateKey }) };
    // Transaction IDs are scoped like the client's request path: room and event type.
    const key = request.idempotencyKey === undefined ? undefined : JSON.stringify(['sendEvent', request.sender, request.roomId, request.type, request.idempotencyKey]);
    let created = false;
    const result = await this.storage.withRoomTransaction(request.roomId, async (tx) => {
      if (key !== undefined) {
        const earlier = await tx.getIdempotencyRecord(key);
        if (earlier !== null) return JSON.parse(earlier.resultJson) as { eventId: string };
      }
      const room = await this.requireRoom(tx, request.roomId);
      const version = getRoomVersion(room.roomVersion);
      let eventId = await unchangedStateEventId(tx, draft);
      if (eventId === undefined) {
        const appended = await appendLocalEvent(tx, room, version, draft, this.signer, this.clock());
        // Size and format limits apply to the whole signed event: a refusal rolls the append back.
        const checked = validatePdu(appended.event, version);
        if (!checked.ok) throw new MatrixError(checked.status, checked.errcode, checked.error);
        eventId = appended.eventId;
        created = true;
      }
      const value = { eventId };
      if (key !== undefined) await tx.putIdempotencyRecord(key, JSON.stringify(value), this.clock());
      return value;
    });
    if (created) this.committed();
    return result;
  }

  /** Stores a client filter (validated by the caller) and returns its ID. */
  async putFilter(request: { userId: string; filterJson: string }): Promise<{ filterId: string }> {
    this.assertLocalUser(request.userId);
    let parsed: unknown;
    try {
      parsed = JSON.parse(request.filterJson);
    } catch {
      throw MatrixError.notJson('The filter is not valid JSON');
    }
    if (!isJsonObject(parsed)) throw MatrixError.badJson('The filter must be a JSON object');
    return { filterId: await this.storage.putFilter(request.userId, request.filterJson, this.clock()) };
  }

  // ------------------------------------------------------------ Query

  /** A filter the user stored, as stored; 404 when this user has none with that ID. */
  async queryFilter(request: { userId: string; filterId: string }): Promise<{ filterJson: string }> {
    const filterJson = await this.storage.read((tx) => tx.getFilter(request.userId, request.filterId));
    if (filterJson === null) throw MatrixError.notFound(`No filter ${request.filterId} for user ${request.userId}`);
    return { filterJson };
  }

  /** What clients may rely on: room versions and whether leaving forgets. */
  queryCapabilities(): { defaultRoomVersion: string; supportedRoomVersions: string[]; forgetForcedUponLeave: boolean } {
    return {
      defaultRoomVersion: this.options.defaultRoomVersion,
      supportedRoomVersions: [...SUPPORTED_ROOM_VERSIONS],
      forgetForcedUponLeave: this.options.forgetRoomsOnLeave === true,
    };
  }

  async queryMembership(roomId: string, userId: string): Promise<{ roomKnown: boolean; membership?: MembershipRecord }> {
    return this.storage.read(async (tx) => {
      const room = await tx.getRoom(roomId);
      const membership = await tx.getMembership(roomId, userId);
      return { roomKnown: room !== null, ...(membership === null ? {} : { membership }) };
    });
  }

  async queryRoomState(roomId: string, atEventId?: string): Promise<{ roomVersion: string; stateEventsJson: string[]; members: MembershipRecord[] }> {
    return this.storage.read(async (tx) => {
      const room = await this.requireRoom(tx, roomId);
      const entries = atEventId === undefined ? await tx.getCurrentState(roomId) : await tx.getStateAtEvent(atEventId, 'after');
      if (entries === null) throw MatrixError.notFound(`No state is known at event ${atEventId ?? ''}`);
      const events = await tx.getEvents(entries.map((e) => e.eventId));
      const members = await tx.listRoomMembers(roomId);
      return {
        roomVersion: room.roomVersion,
        stateEventsJson: entries.map((e) => events.get(e.eventId)?.json).filter((j): j is string => j !== undefined),
        members,
      };
    });
  }

  async queryJoinedRooms(userId: string, memberships: readonly StoredMembership[], includeForgotten: boolean): Promise<MembershipRecord[]> {
    return this.storage.read((tx) =>
      tx.listRoomsForUser(userId, {
        ...(memberships.length === 0 ? {} : { memberships }),
        forgotten: includeForgotten ? 'include' : 'exclude',
      }),
    );
  }

  async queryEvent(eventId: string): Promise<{ eventJson: string; roomId: string; roomVersion: string; rejected: boolean }> {
    return this.storage.read(async (tx) => {
      const event = await tx.getEvent(eventId);
      if (event === null) throw MatrixError.notFound(`Event ${eventId} not found`);
      const room = await this.requireRoom(tx, event.roomId);
      return { eventJson: event.json, roomId: event.roomId, roomVersion: room.roomVersion, rejected: event.rejectedReason !== null };
    });
  }

  /** The state at an event (current state when absent) and the auth chain of that state. */
  async queryStateAndAuthChain(roomId: string, eventId?: string): Promise<{ roomVersion: string; stateEventsJson: string[]; authChainJson: string[]; stateEventIds: string[]; authChainIds: string[] }> {
    return this.storage.read(async (tx) => {
      const room = await this.requireRoom(tx, roomId);
      const entries = eventId === undefined ? await tx.getCurrentState(roomId) : await tx.getStateAtEvent(eventId, 'before');
      if (entries === null) throw MatrixError.notFound(`No state is known at event ${eventId ?? ''}`);
      const stateIds = entries.map((e) => e.eventId);
      const stateEvents = await tx.getEvents(stateIds);
      const chain = await authChainOf(tx, [...stateEvents.values()].map((e) => JSON.parse(e.json) as Pdu));
      return {
        roomVersion: room.roomVersion,
        stateEventsJson: stateIds.map((id) => stateEvents.get(id)?.json).filter((j): j is string => j !== undefined),
        stateEventIds: stateIds,
        authChainJson: chain.map((e) => e.json),
        authChainIds: chain.map((e) => e.eventId),
      };
    });
  }

  /** The unsigned template of a `make_leave` / `make_join` answer for a remote user. */
  async buildMembershipTemplate(request: { roomId: string; userId: string; membership: Membership; origin: string; supportedRoomVersions?: readonly string[] }): Promise<{ roomVersion: string; template: JsonObject }> {
    if (serverNameOf(request.userId) !== request.origin) {
      throw MatrixError.forbidden(`User ${request.userId} does not belong to server ${request.origin}`);
    }
    return this.storage.withRoomTransaction(request.roomId, async (tx) => {
      const room = await this.requireRoom(tx, request.roomId);
      const version = getRoomVersion(room.roomVersion);
      if (request.supportedRoomVersions !== undefined && request.supportedRoomVersions.length > 0 && !request.supportedRoomVersions.includes(version.id)) {
        const verb = request.membership === 'knock' ? 'knock on' : 'join';
        throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Your homeserver does not support the features required to ${verb} this room`, { room_version: version.id });
      }
      if (request.membership === 'knock' && !version.knock) throw MatrixError.forbidden('This room version does not support knocking');
      if (!(await tx.isServerInRoom(room.roomId, this.serverName))) throw MatrixError.notFound(`Room ${room.roomId} is not known to this server`);
      const current = await tx.getMembership(room.roomId, request.userId);
      if (request.membership === 'leave' && !(current?.membership === 'join' || current?.membership === 'invite' || current?.membership === 'knock')) {
        throw MatrixError.forbidden('User is not in the room.');
      }
      const content: JsonObject = { membership: request.membership };
      if (request.membership === 'join' && current?.membership !== 'join' && current?.membership !== 'invite') {
        const authoriser = await this.restrictedJoinAuthoriser(tx, room.roomId, request.userId, version);
        if (authoriser !== undefined) content['join_authorised_via_users_server'] = authoriser;
      }
      const draft = { type: 'm.room.member', sender: request.userId, state_key: request.userId, content };
      const authStored = await loadAuthEventsFor(tx, draft, version);
      const template = buildMembershipTemplate({
        version,
        roomId: room.roomId,
        userId: request.userId,
        membership: request.membership,
        content,
        prevEvents: await loadPrevEvents(tx, version),
        authEvents: authStored.map((e) => citeStoredEvent(e, version)),
        originServerTs: this.clock(),
      });
      // Refuse early what the auth rules would refuse when it comes back
      // signed. Signatures cannot be judged yet: the joining server signs the
      // event, and for a restricted join our gateway co-signs it on send_join.
      const decision = checkEventAuth({ ...(template as unknown as AuthEvent), event_id: '$template' }, await authStateWithCreate(tx, authStored, version), version, {
        verifySignature: () => true,
      });
      if (!decision.allowed) throw MatrixError.forbidden(decision.reason);
      return { roomVersion: version.id, template };
    });
  }

  // ------------------------------------------------------------ Input

  /** Events that arrived over federation; their signatures were checked by the gateway. */
  async inputEvents(origin: string, kind: InputKind, events: readonly { json: string; roomVersion?: string; strippedStateJson?: readonly string[] }[]): Promise<InputOutcome[]> {
    const outcomes: InputOutcome[] = [];
    for (const input of events) outcomes.push(await this.inputEvent(origin, kind, input));
    if (outcomes.some((o) => o.accepted)) this.committed();
    return outcomes;
  }

  private async inputEvent(origin: string, kind: InputKind, input: { json: string; roomVersion?: string; strippedStateJson?: readonly string[] }): Promise<InputOutcome> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(input.json);
    } catch {
      return rejected('', MatrixError.badJson('Event is not valid JSON'));
    }
    if (!isJsonObject(parsed)) return rejected('', MatrixError.badJson('Event is not a JSON object'));
    const roomId = parsed['room_id'];
    if (typeof roomId !== 'string') return rejected('', MatrixError.badJson('Event has no room_id'));
    try {
      return await this.storage.withRoomTransaction(roomId, async (tx) => {
        const room = await tx.getRoom(roomId);
        const versionId = room?.roomVersion ?? input.roomVersion;
        if (versionId === undefined) throw MatrixError.notFound(`Room ${roomId} is not known to this server`);
        const version = findRoomVersion(versionId);
        if (version === undefined) throw MatrixError.unsupportedRoomVersion(versionId);
        const validated = validatePdu(parsed, version);
        if (!validated.ok) throw new MatrixError(validated.status, validated.errcode, validated.error);
        const event = validated.event;
        const eventId = computeEventId(event, version);
        if (kind === 'invite') return this.acceptInvite(tx, room, version, event, eventId, input.strippedStateJson ?? [], origin);
        if (room === null) throw MatrixError.notFound(`Room ${roomId} is not known to this server`);
        if (kind === 'transaction' && !(await tx.isServerInRoom(roomId, this.serverName))) return this.acceptOutOfRoomMembership(tx, room, event, eventId, origin);
        return this.acceptRoomEvent(tx, room, version, event, eventId, kind);
      });
    } catch (err) {
      if (err instanceof MatrixError) return rejected(typeof parsed['event_id'] === 'string' ? parsed['event_id'] : '', err);
      throw err;
    }
  }

  private async acceptRoomEvent(tx: RoomTx, room: RoomRecord, version: RoomVersion, event: Pdu, eventId: string, kind: InputKind): Promise<InputOutcome> {
    const existing = await tx.getEvent(eventId);
    if (existing !== null) {
      if (existing.rejectedReason !== null) return rejected(eventId, MatrixError.forbidden(existing.rejectedReason));
      return { eventId, accepted: true, softFailed: existing.softFailed };
    }
    // Auth against the event's own auth events: a failure rejects the event.
    const citedIds = event.auth_events.map((ref) => (typeof ref === 'string' ? ref : ref[0]));
    const cited = await tx.getEvents(citedIds);
    const missing = citedIds.filter((id) => !cited.has(id));
    if (missing.length > 0) throw MatrixError.forbidden(`Unknown auth events: ${missing.join(', ')}`);
    const citedAuth = [...cited.values()].map((e) => ({ ...authEventOf(e), rejected: e.rejectedReason !== null }));
    const createEvent = version.roomIdFromCreateEvent ? await this.createEventOf(tx, room) : undefined;
    const candidate = { ...event, event_id: eventId } as AuthEvent;
    const sanity = checkAuthEventsSanity(candidate, citedAuth, version, createEvent);
    if (!sanity.allowed) throw MatrixError.forbidden(sanity.reason);
    const byAuthEvents = checkEventAuth(candidate, authStateFromEvents(withCreate(citedAuth, createEvent)), version, SIGNATURES_CHECKED_AT_THE_BORDER);
    if (!byAuthEvents.allowed) throw MatrixError.forbidden(byAuthEvents.reason);
    // Then against the current state. Membership endpoints answer the remote
    // server directly, so a failure there is a refusal; in a transaction it
    // is a soft failure (stored, not applied to state, not relayed).
    const current = await currentAuthState(tx, event, version);
    const byCurrentState = checkEventAuth(candidate, current, version, SIGNATURES_CHECKED_AT_THE_BORDER);
    if (!byCurrentState.allowed) {
      if (kind !== 'transaction') throw MatrixError.forbidden(byCurrentState.reason);
      await tx.insertEvent(eventRow(event, eventId, room.roomId, { softFailed: true }));
      return { eventId, accepted: true, softFailed: true };
    }
    if (kind === 'send_leave' && !(event.type === 'm.room.member' && membershipOf(event.content) === 'leave')) {
      throw MatrixError.invalidParam('Not a leave event.');
    }
    if (kind === 'send_knock' && !(event.type === 'm.room.member' && membershipOf(event.content) === 'knock')) {
      throw MatrixError.invalidParam('Not a knock event.');
    }
    const extremities = await tx.getForwardExtremities(room.roomId);
    const prevIds = new Set(event.prev_events.map((ref) => (typeof ref === 'string' ? ref : ref[0])));
    const newExtremities = [...extremities.filter((id) => !prevIds.has(id)), eventId];
    await persistAcceptedEvent(tx, room, event, eventId, this.serverName, this.clock(), newExtremities);
    if (event.type === 'm.room.member' && event.state_key !== undefined) await tx.deleteReceivedInvite(event.state_key);
    return { eventId, accepted: true, softFailed: false };
  }

  /**
   * An event from a transaction for a room this server is not in. All we
   * hold of such a room is our users' invites and knocks (outliers), so the
   * only news we can take is that one of them ended: a leave or ban of that
   * user citing the invite or knock among its auth events (which also keeps
   * an older leave, replayed, from ending a newer knock). Without the room's
   * state the auth rules cannot judge it, so the sender decides: the end of
   * a knock is believed from the server that accepted the knock and the room
   * ID's server, the end of an invite from the server that sent the invite.
   * The event (signatures checked by the gateway) is stored as an outlier
   * and becomes the user's membership, as an out-of-band leave would.
   */
  private async acceptOutOfRoomMembership(tx: RoomTx, room: RoomRecord, event: Pdu, eventId: string, origin: string): Promise<InputOutcome> {
    const existing = await tx.getEvent(eventId);
    // Already here: a retried transaction, or our own leave relayed back by the room.
    if (existing !== null) return existing.rejectedReason === null ? { eventId, accepted: true, softFailed: existing.softFailed } : rejected(eventId, MatrixError.forbidden(existing.rejectedReason));
    const userId = event.state_key;
    const membership = event.type === 'm.room.member' ? membershipOf(event.content) : undefined;
    if (userId === undefined || (membership !== 'leave' && membership !== 'ban') || serverNameOf(userId) !== this.serverName) {
      throw MatrixError.forbidden(`This server is not in room ${room.roomId}`);
    }
    const pending = await this.pendingRemoteMembership(tx, room.roomId, userId);
    if (pending === undefined) throw MatrixError.forbidden(`${userId} has no invite or knock in room ${room.roomId} for this event to end`);
    if (!event.auth_events.some((ref) => (typeof ref === 'string' ? ref : ref[0]) === pending.eventId)) {
      throw MatrixError.forbidden(`The event does not answer ${userId}'s ${pending.kind} ${pending.eventId} (not among its auth events)`);
    }
    if (!pending.believedFrom.includes(origin)) {
      this.options.onUnbelievedMembership?.({ roomId: room.roomId, userId, eventId, origin, pending: pending.kind, believedFrom: pending.believedFrom });
      throw MatrixError.forbidden(`The end of ${userId}'s ${pending.kind} is believed only from ${pending.believedFrom.join(', ')}, not from ${origin}`);
    }
    // Before the event: on PostgreSQL, writes after its insert hold the stream order.
    if (pending.kind === 'knock') await tx.deleteSentKnock(userId);
    else await tx.deleteReceivedInvite(userId);
    await tx.insertEvent(eventRow(event, eventId, room.roomId, { outlier: true }));
    await tx.upsertMembership({ userId, membership, eventId });
    return { eventId, accepted: true, softFailed: false };
  }

  /**
   * The invite or knock of a user of ours in a room we are not in, and the
   * servers whose word ends it; undefined when the user has neither, or
   * their membership is not the one the stored invite or knock tells of.
   */
  /** The servers to try for a room elsewhere, in the order given: named once, never empty, never us. */
  private otherServers(candidates: readonly (string | undefined)[]): string[] {
    return [...new Set(candidates)].filter((s): s is string => s !== undefined && s !== '' && s !== this.serverName);
  }

  private async pendingRemoteMembership(tx: RoomTx, roomId: string, userId: string): Promise<{ kind: 'invite' | 'knock'; eventId: string; believedFrom: string[] } | undefined> {
    const current = await tx.getMembership(roomId, userId);
    if (current?.membership === 'knock') {
      const sent = await tx.getSentKnock(roomId, userId);
      if (sent === null || sent.eventId !== current.eventId) return undefined;
      // The server that accepted the knock is stored first; the others were only
      // candidates (some named by the client or by an inviter) and are used to
      // rescind, never believed.
      const believedFrom = [...new Set([sent.servers[0], serverNameOf(roomId)])].filter((s): s is string => s !== undefined && s !== '');
      return { kind: 'knock', eventId: current.eventId, believedFrom };
    }
    if (current?.membership === 'invite') {
      if ((await tx.getReceivedInvite(roomId, userId)) === null) return undefined;
      const invite = await tx.getEvent(current.eventId);
      const inviter = invite === null ? undefined : serverNameOf(invite.sender);
      return inviter === undefined ? undefined : { kind: 'invite', eventId: current.eventId, believedFrom: [inviter] };
    }
    return undefined;
  }

  /** An invite for one of our users to a room on another server (already counter-signed by the gateway). */
  private async acceptInvite(tx: RoomTx, room: RoomRecord | null, version: RoomVersion, event: Pdu, eventId: string, strippedState: readonly string[], origin: string): Promise<InputOutcome> {
    const invitee = event.state_key;
    if (event.type !== 'm.room.member' || invitee === undefined || membershipOf(event.content) !== 'invite') {
      throw MatrixError.invalidParam('Not an invite event.');
    }
    this.assertLocalInvitee(invitee, 'forbidden');
    const now = this.clock();
    const known = room ?? (await tx.createRoom({ roomVersion: version.id, createdTs: now })).room;
    if (await tx.isServerInRoom(known.roomId, this.serverName)) {
      // We are in the room: the invite is an ordinary room event.
      return this.acceptRoomEvent(tx, known, version, event, eventId, 'transaction');
    }
    const existing = await tx.getMembership(known.roomId, invitee);
    // A ban we hold of a room we are not in may have been lifted since, which
    // we need not hear of: it stands only while the invite itself cites it.
    const banCited = existing?.membership === 'ban' && event.auth_events.some((ref) => (typeof ref === 'string' ? ref : ref[0]) === existing.eventId);
    if (existing?.membership === 'join' || banCited) throw MatrixError.forbidden(`User ${invitee} is already ${existing?.membership ?? ''} in the room`);
    await tx.insertEvent(eventRow(event, eventId, known.roomId, { outlier: true }));
    await tx.upsertMembership({ userId: invitee, membership: 'invite', eventId, forgotten: false });
    // An invite is how a knock is answered: the knock's row has served.
    await tx.deleteSentKnock(invitee);
    const servers = [...new Set([origin, serverNameOf(event.sender), ...serversOfStrippedState(strippedState)])].filter(
      (s): s is string => s !== undefined && s !== this.serverName,
    );
    await tx.putReceivedInvite({ userId: invitee, inviteEventJson: encodeCanonicalJson(event), roomVersion: version.id, strippedStateJson: `[${strippedState.join(',')}]`, servers, receivedTs: now });
    return { eventId, accepted: true, softFailed: false };
  }

  // ------------------------------------------------------------ helpers

  /**
   * Invites a user of another server: the invite is built and checked
   * against the auth rules here, counter-signed by the invitee's server,
   * then stored like any event of the room (and relayed through the outbox).
   */
  private async inviteRemoteUser(request: { roomId: string; sender: string; invitee: string; reason?: string | undefined }, sign: NonNullable<RemoteMembership['invite']>): Promise<{ eventId: string }> {
    const prepared = await this.storage.withRoomTransaction(request.roomId, async (tx) => {
      const room = await this.requireRoom(tx, request.roomId);
      const version = getRoomVersion(room.roomVersion);
      const target = await tx.getMembership(room.roomId, request.invitee);
      if (target?.membership === 'invite') return { existing: target.eventId };
      assertInvitable(request.invitee, room.roomId, decisionRecord(target));
      const draft = memberDraft(request.sender, request.invitee, 'invite', request.reason);
      const proto = { ...protoOf(draft), room_id: room.roomId };
      const authStored = await loadAuthEventsFor(tx, proto, version);
      const built = buildPdu({ version, proto, prevEvents: await loadPrevEvents(tx, version), authEvents: authStored.map((e) => citeStoredEvent(e, version)), originServerTs: this.clock() }, this.signer);
      const decision = checkEventAuth({ ...built.event, event_id: built.eventId } as AuthEvent, await authStateWithCreate(tx, authStored, version), version);
      if (!decision.allowed) throw MatrixError.forbidden(decision.reason);
      const state = await tx.getCurrentStateEvents(room.roomId, STRIPPED_STATE_TYPES.map((type) => ({ type, stateKey: '' })).concat([{ type: 'm.room.member', stateKey: request.sender }]));
      const stripped = state.map((stored) => {
        const event = JSON.parse(stored.json) as Pdu;
        return encodeCanonicalJson({ type: event.type, state_key: event.state_key ?? '', sender: event.sender, content: event.content });
      });
      return { version, event: built.event, eventId: built.eventId, stripped };
    });
    if ('existing' in prepared) return { eventId: prepared.existing };
    const signed = await sign({ roomId: request.roomId, roomVersion: prepared.version.id, eventJson: encodeCanonicalJson(prepared.event), inviteRoomStateJson: prepared.stripped });
    const event = JSON.parse(signed.eventJson) as Pdu;
    const outcome = await this.storage.withRoomTransaction(request.roomId, async (tx) => {
      const room = await this.requireRoom(tx, request.roomId);
      return this.acceptRoomEvent(tx, room, prepared.version, event, prepared.eventId, 'invite');
    });
    this.committed();
    if (outcome.error !== undefined) throw outcome.error;
    return { eventId: outcome.eventId };
  }

  /**
   * Joins a room we are not resident in through the servers named, the
   * inviter's and the room ID's server, then stores the state and auth chain
   * the resident server returned (as outliers and as the current state) and
   * our join on top of it: from then on we are a resident server.
   */
  private async joinThroughRemote(roomId: string, request: { userId: string; serverNames?: readonly string[]; reason?: string | undefined }): Promise<{ roomId: string; eventId: string }> {
    const remote = this.options.remote;
    if (remote?.join === undefined) throw new MatrixError(501, 'M_UNRECOGNIZED', `Joining rooms on other servers (${roomId}) is not supported without a federation gateway`);
    const invite = await this.storage.read((tx) => tx.getReceivedInvite(roomId, request.userId));
    const servers = this.otherServers([...(request.serverNames ?? []), ...(invite?.servers ?? []), serverNameOf(roomId)]);
    if (servers.length === 0) throw MatrixError.notFound(`No server is known to join ${roomId} through`);
    const answer = await remote.join({
      roomId,
      userId: request.userId,
      serverNames: servers,
      supportedRoomVersions: SUPPORTED_ROOM_VERSIONS,
      ...(request.reason === undefined ? {} : { reason: request.reason }),
    });
    const version = getRoomVersion(answer.roomVersion);
    const join = JSON.parse(answer.joinEventJson) as Pdu;
    const joinId = computeEventId(join, version);
    assertReceivedStateAuthorised(answer.authChainJson, answer.stateJson, { ...join, event_id: joinId } as AuthEvent, version);
    const now = this.clock();
    await this.storage.withRoomTransaction(roomId, async (tx) => {
      const room = (await tx.getRoom(roomId)) ?? (await tx.createRoom({ roomVersion: version.id, createdTs: now })).room;
      const state: StateEntry[] = [];
      const members: { userId: string; membership: Membership; eventId: string }[] = [];
      const stateIds = new Set<string>();
      for (const json of [...answer.authChainJson, ...answer.stateJson]) {
        const event = JSON.parse(json) as Pdu;
        const eventId = computeEventId(event, version);
        await tx.insertEvent(eventRow(event, eventId, roomId, { outlier: true }));
      }
      for (const json of answer.stateJson) {
        const event = JSON.parse(json) as Pdu;
        if (event.state_key === undefined) continue;
        const eventId = computeEventId(event, version);
        if (stateIds.has(eventId)) continue;
        stateIds.add(eventId);
        state.push({ type: event.type, stateKey: event.state_key, eventId });
        const membership = event.type === 'm.room.member' ? membershipOf(event.content) : undefined;
        if (membership !== undefined) members.push({ userId: event.state_key, membership, eventId });
      }
      const group = await tx.storeStateGroup({ prevGroupId: null, entries: state });
      await tx.replaceCurrentState(state);
      await tx.setCurrentStateGroup(group);
      for (const member of members) await tx.upsertMembership(member);
      await persistAcceptedEvent(tx, { ...room, roomVersion: version.id, currentStateGroupId: group }, join, joinId, this.serverName, now, [joinId]);
      await tx.deleteReceivedInvite(request.userId);
      await tx.deleteSentKnock(request.userId);
    });
    this.committed();
    return { roomId, eventId: joinId };
  }

  /**
   * Knocks on a room we are not resident in through the servers named, the
   * room ID's server and those of a received invite, then stores our knock
   * as an outlier (as a received invite is stored) with the room state the
   * resident server answered: /sync shows it as stripped state, a leave
   * rescinds the knock through the same servers, and a leave or ban those
   * servers send in a transaction ends it (acceptOutOfRoomMembership).
   */
  private async knockThroughRemote(roomId: string, request: { userId: string; serverNames?: readonly string[]; reason?: string | undefined }): Promise<{ roomId: string; eventId: string }> {
    const remote = this.options.remote;
    if (remote?.knock === undefined) throw knockNeedsFederation(roomId);
    const { invite, current } = await this.storage.read(async (tx) => ({ invite: await tx.getReceivedInvite(roomId, request.userId), current: await tx.getMembership(roomId, request.userId) }));
    // Already knocking (e.g. a retried call): the knock there is the answer.
    if (current?.membership === 'knock') return { roomId, eventId: current.eventId };
    const servers = this.otherServers([...(request.serverNames ?? []), serverNameOf(roomId), ...(invite?.servers ?? [])]);
    if (servers.length === 0) throw MatrixError.notFound(`No server is known to knock on ${roomId} through`);
    const answer = await remote.knock({
      roomId,
      userId: request.userId,
      serverNames: servers,
      supportedRoomVersions: SUPPORTED_ROOM_VERSIONS,
      ...(request.reason === undefined ? {} : { reason: request.reason }),
    });
    const version = findRoomVersion(answer.roomVersion);
    if (version === undefined || !version.knock) throw new MatrixError(502, 'M_UNKNOWN', `The resident server answered a knock for room version ${answer.roomVersion}`);
    const knock = JSON.parse(answer.knockEventJson) as Pdu;
    if (knock.room_id !== roomId || knock.type !== 'm.room.member' || knock.state_key !== request.userId || membershipOf(knock.content) !== 'knock') {
      throw new MatrixError(502, 'M_UNKNOWN', 'The federation gateway returned an event that is not our knock');
    }
    const knockId = computeEventId(knock, version);
    const now = this.clock();
    await this.storage.withRoomTransaction(roomId, async (tx) => {
      const room = (await tx.getRoom(roomId)) ?? (await tx.createRoom({ roomVersion: version.id, createdTs: now })).room;
      const current = await tx.getMembership(room.roomId, request.userId);
      // Joined meanwhile (an invite accepted in between): the knock is moot.
      if (current?.membership === 'join') return;
      // Before the event: on PostgreSQL, writes after its insert hold the stream order.
      await tx.putSentKnock({
        userId: request.userId,
        eventId: knockId,
        knockRoomStateJson: `[${answer.knockRoomStateJson.join(',')}]`,
        servers: [...new Set([answer.serverName, ...servers])].filter((s) => s !== ''),
        sentTs: now,
      });
      await tx.insertEvent(eventRow(knock, knockId, roomId, { outlier: true }));
      await tx.upsertMembership({ userId: request.userId, membership: 'knock', eventId: knockId, forgotten: false });
    });
    this.committed();
    return { roomId, eventId: knockId };
  }

  /**
   * Leaves a room we are not resident in (reject a remote invite, rescind a
   * knock): through the remote servers when the gateway is there, otherwise
   * or when every server fails, by a local out-of-band leave so the user is
   * never stuck with the invite.
   */
  private async leaveThroughRemote(request: { roomId: string; userId: string } & IntentOptions): Promise<{ eventId: string; eventCreated: boolean; outOfBand: boolean }> {
    const { invite, knock, room } = await this.storage.read(async (tx) => {
      const current = await tx.getMembership(request.roomId, request.userId);
      const sent = current?.membership === 'knock' ? await tx.getSentKnock(request.roomId, request.userId) : null;
      return {
        invite: current?.membership === 'knock' ? null : await tx.getReceivedInvite(request.roomId, request.userId),
        // A knock row speaks for the user's knock only while it is that knock.
        knock: sent !== null && sent.eventId === current?.eventId ? sent : null,
        room: await tx.getRoom(request.roomId),
      };
    });
    const roomVersion = invite?.roomVersion ?? room?.roomVersion ?? this.options.defaultRoomVersion;
    const servers = invite?.servers ?? knock?.servers ?? [];
    let why: 'no-remote-service' | 'no-servers' | 'all-servers-failed' = this.options.remote === undefined ? 'no-remote-service' : 'no-servers';
    let error: unknown;
    if (this.options.remote !== undefined && servers.length > 0) {
      try {
        const sent = await this.options.remote.leave({
          roomId: request.roomId,
          userId: request.userId,
          serverNames: servers,
          roomVersion,
          kind: knock === null ? 'reject-invite' : 'rescind-knock',
          ...(request.reason === undefined ? {} : { reason: request.reason }),
        });
        return await this.recordRemoteLeave(request, roomVersion, sent.eventJson, false);
      } catch (err) {
        // Every server failed: fall through to the out-of-band leave.
        why = 'all-servers-failed';
        error = err;
      }
    }
    const result = await this.recordRemoteLeave(request, roomVersion, undefined, true);
    if (result.outOfBand) this.options.onOutOfBandLeave?.({ roomId: request.roomId, userId: request.userId, reason: why, ...(error === undefined ? {} : { error }) });
    return result;
  }

  private async recordRemoteLeave(request: { roomId: string; userId: string; reason?: string | undefined }, roomVersion: string, eventJson: string | undefined, outOfBand: boolean): Promise<{ eventId: string; eventCreated: boolean; outOfBand: boolean }> {
    const version = getRoomVersion(roomVersion);
    const result = await this.storage.withRoomTransaction(request.roomId, async (tx) => {
      const current = await tx.getMembership(request.roomId, request.userId);
      if (current === null || current.membership === 'leave') return { eventId: current?.eventId ?? '', eventCreated: false, outOfBand: false };
      let event: Pdu;
      let eventId: string;
      if (eventJson !== undefined) {
        event = JSON.parse(eventJson) as Pdu;
        eventId = computeEventId(event, version);
      } else {
        // Cites only the invite or knock: the leave lives outside the room's DAG.
        const invite = await tx.getEvent(current.eventId);
        if (invite === null) throw new Error(`invite ${current.eventId} is not stored`);
        const cited = citeStoredEvent(invite, version);
        const built = buildPdu(
          {
            version,
            proto: memberProto(request.roomId, request.userId, request.userId, 'leave', request.reason),
            prevEvents: [cited],
            authEvents: [cited],
            originServerTs: this.clock(),
          },
          this.signer,
        );
        event = built.event;
        eventId = built.eventId;
      }
      await tx.insertEvent(eventRow(event, eventId, request.roomId, { outlier: true }));
      await tx.upsertMembership({ userId: request.userId, membership: 'leave', eventId, ...(this.options.forgetRoomsOnLeave === true ? { forgotten: true } : {}) });
      await tx.deleteReceivedInvite(request.userId);
      await tx.deleteSentKnock(request.userId);
      return { eventId, eventCreated: true, outOfBand };
    });
    this.committed();
    return result;
  }

  private async moderate(
    request: { roomId: string; sender: string; target: string } & IntentOptions,
    membership: 'leave' | 'ban',
    policy: (target: DecisionRecord | undefined, roomId: string) => 'already' | undefined | void,
  ): Promise<{ eventId: string }> {
    this.assertLocalUser(request.sender);
    return this.changeMembership(request.roomId, request, async (tx, room, version) => {
      const target = await tx.getMembership(room.roomId, request.target);
      if (policy(decisionRecord(target), room.roomId) === 'already' && target !== null) return { eventId: target.eventId };
      const appended = await appendLocalEvent(tx, room, version, memberDraft(request.sender, request.target, membership, request.reason), this.signer, this.clock());
      return { eventId: appended.eventId };
    });
  }

  /**
   * Runs a membership intent in the room's transaction, with the room loaded
   * (404 when unknown) and the actor's membership, and records its result
   * under the idempotency key so a retried call returns the same answer.
   */
  private async changeMembership<T>(
    roomId: string,
    request: IntentOptions & { userId?: string; sender?: string },
    fn: (tx: RoomTx, room: RoomRecord, version: RoomVersion, current: MembershipRecord | null) => Promise<T>,
  ): Promise<T> {
    const actor = request.sender ?? request.userId ?? '';
    const key = request.idempotencyKey === undefined ? undefined : JSON.stringify([actor, roomId, request.idempotencyKey]);
    const result = await this.storage.withRoomTransaction(roomId, async (tx) => {
      if (key !== undefined) {
        const earlier = await tx.getIdempotencyRecord(key);
        if (earlier !== null) return JSON.parse(earlier.resultJson) as T;
      }
      const room = await this.requireRoom(tx, roomId);
      const version = getRoomVersion(room.roomVersion);
      const current = await tx.getMembership(roomId, actor);
      const value = await fn(tx, room, version, current);
      if (key !== undefined) await tx.putIdempotencyRecord(key, JSON.stringify(value), this.clock());
      return value;
    });
    this.committed();
    return result;
  }

  /**
   * For a join to a restricted room by someone neither joined nor invited:
   * the local user who authorises it (the `allow` conditions are checked
   * against what this server knows), or undefined when the room is not restricted.
   */
  private async restrictedJoinAuthoriser(tx: RoomTx, roomId: string, userId: string, version: RoomVersion): Promise<string | undefined> {
    if (!version.restrictedJoin) return undefined;
    const [joinRules, powerLevels, create] = await tx.getCurrentStateEvents(roomId, [
      { type: 'm.room.join_rules', stateKey: '' },
      { type: 'm.room.power_levels', stateKey: '' },
      { type: 'm.room.create', stateKey: '' },
    ]).then((events) => ['m.room.join_rules', 'm.room.power_levels', 'm.room.create'].map((type) => events.find((e) => e.type === type)));
    const content = joinRules === undefined ? {} : (JSON.parse(joinRules.json) as Pdu).content;
    const rule = content['join_rule'];
    if (rule !== 'restricted' && !(rule === 'knock_restricted' && version.knockRestricted)) return undefined;
    const state = authStateFromEvents([powerLevels, create].filter((e): e is NonNullable<typeof e> => e !== undefined).map(authEventOf));
    const members = (await tx.listRoomMembers(roomId, ['join'])).filter((m) => m.serverName === this.serverName);
    const allowed = allowedRoomIds(content['allow']);
    const answers = new Map<string, RoomMembershipAnswer>();
    for (const allowedRoom of allowed) {
      const resident = await tx.isServerInRoom(allowedRoom, this.serverName);
      const membership = resident ? await tx.getMembership(allowedRoom, userId) : null;
      answers.set(allowedRoom, !resident ? 'unknown-room' : membership?.membership === 'join' ? 'joined' : 'not-joined');
    }
    return chooseJoinAuthoriser({
      userId,
      allow: content['allow'],
      membershipIn: (id) => answers.get(id) ?? 'unknown-room',
      localMembers: members.map((m) => ({ userId: m.userId, powerLevel: powerLevelOf(m.userId, state, version) })),
      invitePowerLevel: invitePowerLevelIn(state, version),
    });
  }

  private async requireRoom(tx: ReadTx, roomId: string): Promise<RoomRecord> {
    const room = await tx.getRoom(roomId);
    if (room === null) throw MatrixError.notFound(`Room ${roomId} is not known to this server`);
    return room;
  }

  private async reloadRoom(tx: RoomTx): Promise<RoomRecord> {
    return this.requireRoom(tx, tx.roomId);
  }

  private async createEventOf(tx: RoomTx, room: RoomRecord): Promise<(AuthEvent & { rejected?: boolean }) | undefined> {
    const id = await tx.getCurrentStateEventId(room.roomId, 'm.room.create', '');
    if (id === null) return undefined;
    const stored = await tx.getEvent(id);
    return stored === null ? undefined : { ...authEventOf(stored), rejected: stored.rejectedReason !== null };
  }

  private roomVersionFor(requested: string | undefined): RoomVersion {
    const id = requested ?? this.options.defaultRoomVersion;
    const version = findRoomVersion(id);
    if (version === undefined) throw MatrixError.unsupportedRoomVersion(id);
    return version;
  }

  private assertLocalUser(userId: string): void {
    if (serverNameOf(userId) !== this.serverName) throw MatrixError.forbidden(`User ${userId} does not belong to this server`);
  }

  /** Invites of users on other servers need their server's signature (federation /invite), which the gateway obtains. */
  private assertLocalInvitee(userId: string, status: 'unsupported' | 'forbidden' = 'unsupported'): void {
    if (serverNameOf(userId) === this.serverName) return;
    if (status === 'forbidden') throw MatrixError.forbidden(`User ${userId} does not belong to this server`);
    throw new MatrixError(501, 'M_UNRECOGNIZED', `Inviting users of other servers (${userId}) needs a federation gateway`);
  }

  private committed(): void {
    this.options.onCommitted?.();
    this.options.remote?.notifyOutbox?.();
  }
}

function protoOf(draft: EventDraft): { type: string; sender: string; content: JsonObject; state_key?: string } {
  return { type: draft.type, sender: draft.sender, content: draft.content, ...(draft.stateKey === undefined ? {} : { state_key: draft.stateKey }) };
}

function memberDraft(sender: string, target: string, membership: Membership, reason: string | undefined): EventDraft {
  const content: JsonObject = { membership };
  if (reason !== undefined) content['reason'] = reason;
  return { type: 'm.room.member', sender, stateKey: target, content };
}

function memberProto(roomId: string, sender: string, target: string, membership: Membership, reason: string | undefined) {
  const draft = memberDraft(sender, target, membership, reason);
  return { ...protoOf(draft), room_id: roomId };
}

/**
 * The auth chain and state a resident server sent with our join must pass the
 * auth rules event by event (signatures and hashes were checked by the
 * gateway), and our join must be allowed by that state; otherwise the join
 * is refused rather than building on state we cannot trust.
 */
function assertReceivedStateAuthorised(authChainJson: readonly string[], stateJson: readonly string[], join: AuthEvent, version: RoomVersion): void {
  const received = new Map<string, AuthEvent>();
  for (const json of [...authChainJson, ...stateJson]) {
    const event = JSON.parse(json) as Pdu;
    const eventId = computeEventId(event, version);
    received.set(eventId, { ...event, event_id: eventId } as AuthEvent);
  }
  const decisions = checkAuthChain([...received.values()], version, SIGNATURES_CHECKED_AT_THE_BORDER);
  for (const json of stateJson) {
    const eventId = computeEventId(JSON.parse(json) as Pdu, version);
    const decision = decisions.get(eventId);
    if (decision?.allowed !== true) {
      throw new MatrixError(502, 'M_UNKNOWN', `The resident server sent room state that fails the auth rules (${eventId}: ${decision?.allowed === false ? decision.reason : 'not checked'})`);
    }
  }
  const state = authStateFromEvents(stateJson.map((json) => received.get(computeEventId(JSON.parse(json) as Pdu, version)) as AuthEvent));
  const decision = checkEventAuth(join, state, version, SIGNATURES_CHECKED_AT_THE_BORDER);
  if (!decision.allowed) throw new MatrixError(502, 'M_UNKNOWN', `The room state the resident server sent does not allow our join: ${decision.reason}`);
}

/** The power needed to invite, from the room's power levels (spec default 0). */
function invitePowerLevelIn(state: ReturnType<typeof authStateFromEvents>, version: RoomVersion): number {
  const event = state.get('m.room.power_levels', '');
  if (event === undefined) return namedLevel(undefined, 'invite');
  const parsed = parsePowerLevels(event.content, version);
  return namedLevel(parsed.ok ? parsed.powerLevels : undefined, 'invite');
}

function knockNeedsFederation(roomId: string): MatrixError {
  return MatrixError.notFound(`Room ${roomId} is not known to this server, and there is no federation gateway to knock through`);
}

/**
 * Event types `sendEvent` refuses: memberships change through the membership
 * verbs (which apply their own policies), a room has one create event, and
 * redactions are not supported yet.
 */
function assertSendableType(type: string): void {
  if (type === '') throw MatrixError.missingParam('An event type is required');
  if (type === 'm.room.member') throw MatrixError.invalidParam('Membership changes go through the membership endpoints (join, leave, invite, kick, ban, unban, knock)');
  if (type === 'm.room.create') throw MatrixError.invalidParam('A room has exactly one m.room.create event, sent when the room is created');
  if (type === 'm.room.redaction') throw MatrixError.invalidParam('Redactions are not supported yet');
}

/**
 * Event content from its JSON text: an object, with numbers canonical JSON
 * can sign (plain integers within ±(2^53-1)), no larger than a whole event may be.
 */
function parseEventContent(json: string): JsonObject {
  let parsed: JsonValue;
  try {
    parsed = parseJson(json, { strictNumbers: true });
  } catch (err) {
    if (!(err instanceof JsonParseError)) throw err;
    if (err.code === 'syntax') throw MatrixError.notJson(`Content is not valid JSON: ${err.message}`);
    throw MatrixError.badJson(`Content cannot be signed as canonical JSON: ${err.message}`);
  }
  if (!isJsonObject(parsed)) throw MatrixError.badJson('Content must be a JSON object');
  if (encodeCanonicalJsonBytes(parsed).length > MAX_PDU_BYTES) throw MatrixError.tooLarge(`Event content is larger than ${MAX_PDU_BYTES} bytes`);
  return parsed;
}

/**
 * The current state event a state draft would repeat: same key, same sender,
 * same content, and the sender still joined (otherwise the auth rules decide).
 */
async function unchangedStateEventId(tx: RoomTx, draft: EventDraft): Promise<string | undefined> {
  if (draft.stateKey === undefined) return undefined;
  const [current] = await tx.getCurrentStateEvents(tx.roomId, [{ type: draft.type, stateKey: draft.stateKey }]);
  if (current === undefined || current.sender !== draft.sender) return undefined;
  if ((await tx.getMembership(tx.roomId, draft.sender))?.membership !== 'join') return undefined;
  const event = JSON.parse(current.json) as Pdu;
  return encodeCanonicalJson(event.content) === encodeCanonicalJson(draft.content) ? current.eventId : undefined;
}

function decisionRecord(record: MembershipRecord | null): DecisionRecord | undefined {
  return record === null ? undefined : { membership: record.membership, eventId: record.eventId, forgotten: record.forgotten };
}

function rejected(eventId: string, error: MatrixError): InputOutcome {
  return { eventId, accepted: false, softFailed: false, error };
}

function withCreate<T extends AuthEvent>(events: readonly T[], create: AuthEvent | undefined): AuthEvent[] {
  return create === undefined ? [...events] : [create, ...events];
}


function serversOfStrippedState(strippedState: readonly string[]): string[] {
  const servers: string[] = [];
  for (const json of strippedState) {
    try {
      const event = JSON.parse(json) as { sender?: unknown; state_key?: unknown; type?: unknown; content?: { membership?: unknown } };
      if (typeof event.sender === 'string') {
        const server = serverNameOf(event.sender);
        if (server !== undefined) servers.push(server);
      }
    } catch {
      // A malformed stripped-state entry is ignored; it only suggests servers.
    }
  }
  return servers;
}

/** The auth chain of some events: every event reachable through `auth_events`, oldest first. */
async function authChainOf(tx: ReadTx, events: readonly Pdu[]): Promise<{ eventId: string; json: string; depth: number }[]> {
  const seen = new Map<string, { eventId: string; json: string; depth: number }>();
  let frontier = events.flatMap((e) => e.auth_events.map((ref) => (typeof ref === 'string' ? ref : ref[0])));
  // Bounded by the number of events in the room; each round loads one layer.
  while (frontier.length > 0) {
    const wanted = [...new Set(frontier)].filter((id) => !seen.has(id));
    if (wanted.length === 0) break;
    const loaded = await tx.getEvents(wanted);
    frontier = [];
    for (const stored of loaded.values()) {
      seen.set(stored.eventId, { eventId: stored.eventId, json: stored.json, depth: stored.depth });
      const pdu = JSON.parse(stored.json) as Pdu;
      frontier.push(...pdu.auth_events.map((ref) => (typeof ref === 'string' ? ref : ref[0])));
    }
  }
  return [...seen.values()].sort((a, b) => a.depth - b.depth || (a.eventId < b.eventId ? -1 : 1));
}
