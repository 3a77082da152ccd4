// The MembershipService contract mapped onto MembershipCore: convert proto
// messages to core calls and back, nothing else. MatrixErrors thrown by the
// core travel as gRPC status + metadata (see @membrane/rpc).
import { MatrixError } from '@membrane/matrix-errors';
import type { RoomCreationRequest, RoomPreset as DomainPreset } from '@membrane/membership';
import type { MembershipChange, MembershipServiceService, WatchRoomEventsResponse } from '@membrane/proto';
import { InputKind, RoomOutputKind, RoomPreset, RoomVisibility } from '@membrane/proto';
import type { CallContext, ServiceImplementation } from '@membrane/rpc';
import type { InputKind as CoreInputKind, MembershipCore } from './membership-core.js';
import type { Storage, StoredEvent } from './storage/index.js';
import type { CommitNotifier } from './commit-notifier.js';
import { queryMessages, queryVisibleEvent, queryVisibleMembers, queryVisibleState } from './views/visible-reads.js';
import { querySync } from './views/sync.js';
import { isStoredMembership, membershipFromProto, membershipToProto } from './membership-mapping.js';

export { membershipFromProto, membershipToProto };

const PRESETS: Readonly<Partial<Record<RoomPreset, DomainPreset>>> = {
  [RoomPreset.PRIVATE_CHAT]: 'private_chat',
  [RoomPreset.TRUSTED_PRIVATE_CHAT]: 'trusted_private_chat',
  [RoomPreset.PUBLIC_CHAT]: 'public_chat',
};

const INPUT_KINDS: Readonly<Partial<Record<InputKind, CoreInputKind>>> = {
  [InputKind.SEND_JOIN]: 'send_join',
  [InputKind.SEND_LEAVE]: 'send_leave',
  [InputKind.SEND_KNOCK]: 'send_knock',
  [InputKind.INVITE]: 'invite',
  [InputKind.TRANSACTION]: 'transaction',
  [InputKind.OUTLIER]: 'transaction',
};

/** Requests carry optional proto3 fields as `undefined`; empty strings mean "absent" too. */
function optional(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function required(value: string, name: string): string {
  if (value === '') throw MatrixError.missingParam(`${name} is required`);
  return value;
}

export interface HandlerDeps {
  readonly core: MembershipCore;
  readonly storage: Storage;
  readonly notifier: CommitNotifier;
  /** Longest wait of a watch stream before it polls storage again. */
  readonly watchPollMs?: number;
}

export function membershipServiceHandlers(deps: HandlerDeps): ServiceImplementation<typeof MembershipServiceService> {
  const { core, storage } = deps;
  return {
    async performCreateRoom(req) {
      const preset = PRESETS[req.preset];
      const visibility = req.visibility === RoomVisibility.PUBLIC ? 'public' : req.visibility === RoomVisibility.PRIVATE ? 'private' : undefined;
      const request: RoomCreationRequest & { roomVersion?: string; idempotencyKey?: string } = {
        creator: required(req.creatorUserId, 'creator_user_id'),
        ...(preset === undefined ? {} : { preset }),
        ...(visibility === undefined ? {} : { visibility }),
        ...(req.name === undefined ? {} : { name: req.name }),
        ...(req.topic === undefined ? {} : { topic: req.topic }),
        invitees: req.invitees,
        ...(optional(req.joinRule) === undefined ? {} : { joinRule: req.joinRule as RoomCreationRequest['joinRule'] & string }),
        ...(optional(req.historyVisibility) === undefined ? {} : { historyVisibility: req.historyVisibility as RoomCreationRequest['historyVisibility'] & string }),
        ...(optional(req.roomVersion) === undefined ? {} : { roomVersion: req.roomVersion as string }),
        ...(optional(req.idempotencyKey) === undefined ? {} : { idempotencyKey: req.idempotencyKey as string }),
      };
      return core.createRoom(request);
    },
    async performJoin(req) {
      return core.join({
        roomIdOrAlias: required(req.roomIdOrAlias, 'room_id_or_alias'),
        userId: required(req.userId, 'user_id'),
        serverNames: req.serverNames,
        reason: optional(req.reason),
        idempotencyKey: optional(req.idempotencyKey),
      });
    },
    async performInvite(req) {
      return core.invite({
        roomId: required(req.roomId, 'room_id'),
        sender: required(req.sender, 'sender'),
        invitee: required(req.invitee, 'invitee'),
        reason: optional(req.reason),
        idempotencyKey: optional(req.idempotencyKey),
      });
    },
    async performLeave(req) {
      const result = await core.leave({
        roomId: required(req.roomId, 'room_id'),
        userId: required(req.userId, 'user_id'),
        reason: req.reason,
        idempotencyKey: optional(req.idempotencyKey),
      });
      return { eventId: result.eventId, eventCreated: result.eventCreated };
    },
    async performKick(req) {
      return core.kick({ ...moderation(req), reason: req.reason, idempotencyKey: optional(req.idempotencyKey) });
    },
    async performBan(req) {
      return core.ban({ ...moderation(req), reason: req.reason, idempotencyKey: optional(req.idempotencyKey) });
    },
    async performUnban(req) {
      return core.unban({ ...moderation(req), reason: req.reason, idempotencyKey: optional(req.idempotencyKey) });
    },
    async performForget(req) {
      await core.forget({ roomId: required(req.roomId, 'room_id'), userId: required(req.userId, 'user_id') });
      return {};
    },
    async performRejectInvite(req) {
      return core.rejectInvite({
        roomId: required(req.roomId, 'room_id'),
        userId: required(req.userId, 'user_id'),
        reason: req.reason,
        idempotencyKey: optional(req.idempotencyKey),
      });
    },
    async performKnock(req) {
      return core.knock({
        roomIdOrAlias: required(req.roomIdOrAlias, 'room_id_or_alias'),
        userId: required(req.userId, 'user_id'),
        serverNames: req.serverNames,
        reason: req.reason,
        idempotencyKey: optional(req.idempotencyKey),
      });
    },
    async performSendEvent(req) {
      return core.sendEvent({
        roomId: required(req.roomId, 'room_id'),
        sender: required(req.sender, 'sender'),
        type: required(req.eventType, 'event_type'),
        // '' is a valid state key: only absence means a message event.
        stateKey: req.stateKey,
        contentJson: req.contentJson,
        idempotencyKey: optional(req.idempotencyKey),
      });
    },
    async performPutFilter(req) {
      return core.putFilter({ userId: required(req.userId, 'user_id'), filterJson: required(req.filterJson, 'filter_json') });
    },
    async queryFilter(req) {
      return core.queryFilter({ userId: required(req.userId, 'user_id'), filterId: required(req.filterId, 'filter_id') });
    },
    async queryCapabilities() {
      return core.queryCapabilities();
    },
    async queryMembership(req) {
      const found = await core.queryMembership(required(req.roomId, 'room_id'), required(req.userId, 'user_id'));
      return {
        roomKnown: found.roomKnown,
        membership: membershipToProto(found.membership?.membership),
        eventId: found.membership?.eventId ?? '',
        forgotten: found.membership?.forgotten ?? false,
      };
    },
    async queryRoomState(req) {
      const state = await core.queryRoomState(required(req.roomId, 'room_id'), optional(req.atEventId));
      return {
        roomVersion: state.roomVersion,
        stateEventsJson: state.stateEventsJson,
        members: state.members.map((m) => ({ userId: m.userId, membership: membershipToProto(m.membership), eventId: m.eventId })),
      };
    },
    async queryJoinedRooms(req) {
      const rooms = await core.queryJoinedRooms(required(req.userId, 'user_id'), req.memberships.map(membershipFromProto), req.includeForgotten);
      return { rooms: rooms.map((r) => ({ roomId: r.roomId, membership: membershipToProto(r.membership), forgotten: r.forgotten })) };
    },
    async queryEvent(req) {
      return core.queryEvent(required(req.eventId, 'event_id'));
    },
    async queryMessages(req) {
      return queryMessages(storage, {
        roomId: required(req.roomId, 'room_id'),
        viewerUserId: required(req.viewerUserId, 'viewer_user_id'),
        fromPosition: req.fromPosition,
        toPosition: req.toPosition,
        backwards: req.backwards,
        limit: req.limit,
        filterJson: req.filterJson,
      });
    },
    async queryVisibleState(req) {
      return queryVisibleState(storage, {
        roomId: required(req.roomId, 'room_id'),
        viewerUserId: required(req.viewerUserId, 'viewer_user_id'),
        eventType: req.eventType,
        stateKey: req.stateKey,
      });
    },
    async queryVisibleMembers(req) {
      return queryVisibleMembers(storage, {
        roomId: required(req.roomId, 'room_id'),
        viewerUserId: required(req.viewerUserId, 'viewer_user_id'),
        atPosition: req.atPosition,
        memberships: req.memberships.map(membershipFromProto),
        notMemberships: req.notMemberships.map(membershipFromProto),
      });
    },
    async queryVisibleEvent(req) {
      return queryVisibleEvent(storage, {
        roomId: required(req.roomId, 'room_id'),
        eventId: required(req.eventId, 'event_id'),
        viewerUserId: required(req.viewerUserId, 'viewer_user_id'),
      });
    },
    async queryStateAndAuthChain(req) {
      const answer = await core.queryStateAndAuthChain(required(req.roomId, 'room_id'), optional(req.eventId));
      return req.idsOnly ? { ...answer, stateEventsJson: [], authChainJson: [] } : answer;
    },
    async buildMembershipTemplate(req) {
      const result = await core.buildMembershipTemplate({
        roomId: required(req.roomId, 'room_id'),
        userId: required(req.userId, 'user_id'),
        membership: membershipFromProto(req.membership),
        origin: required(req.origin, 'origin'),
        supportedRoomVersions: req.supportedRoomVersions,
      });
      return { roomVersion: result.roomVersion, eventTemplateJson: JSON.stringify(result.template) };
    },
    async inputEvents(req) {
      const kind = INPUT_KINDS[req.kind];
      if (kind === undefined) throw MatrixError.invalidParam('An input kind is required');
      const outcomes = await core.inputEvents(
        required(req.origin, 'origin'),
        kind,
        req.events.map((e) => ({ json: e.eventJson, ...(optional(e.roomVersion) === undefined ? {} : { roomVersion: e.roomVersion as string }), strippedStateJson: e.strippedStateJson })),
      );
      return {
        results: outcomes.map((o) => ({
          eventId: o.eventId,
          accepted: o.accepted,
          softFailed: o.softFailed,
          ...(o.error === undefined
            ? {}
            : { error: { httpStatus: o.error.status, errcode: o.error.errcode, message: o.error.message, extraJson: Object.keys(o.error.extra).length === 0 ? '' : JSON.stringify(o.error.extra) } }),
        })),
      };
    },
    querySync: (req, context) =>
      querySync(storage, req, { notifier: deps.notifier, signal: context.signal, deadline: context.deadline, pollMs: deps.watchPollMs }),
    watchRoomEvents: (req, context) => watchRoomEvents(deps, req.fromPosition, req.roomIds, req.startAtEnd, context),
    async claimOutbox(req) {
      const batch = await storage.claimOutboxBatch({
        ...(optional(req.destination) === undefined ? {} : { destination: req.destination as string }),
        limit: Math.min(Math.max(req.limit || 50, 1), 50),
        leaseMs: req.leaseMs > 0 ? req.leaseMs : 60_000,
        now: Date.now(),
      });
      return {
        entries: (batch?.items ?? []).map((item) => ({
          id: item.id,
          destination: item.destination,
          eventJson: item.eventJson,
          roomId: item.roomId,
          eventId: item.eventId,
          attempts: item.attempts,
          createdAtMs: item.createdTs,
        })),
      };
    },
    async ackOutbox(req) {
      if (req.deliveredIds.length > 0) await storage.ackOutbox(req.deliveredIds);
      const now = Date.now();
      // Group failures by their retry time so each group is one update.
      const byRetry = new Map<number, number[]>();
      for (const failure of req.failed) {
        const at = now + Math.max(failure.retryAfterMs, 0);
        byRetry.set(at, [...(byRetry.get(at) ?? []), failure.id]);
      }
      for (const [at, ids] of byRetry) await storage.retryOutboxLater(ids, at);
      return {};
    },
  };
}

function moderation(req: { roomId: string; sender: string; target: string }): { roomId: string; sender: string; target: string } {
  return { roomId: required(req.roomId, 'room_id'), sender: required(req.sender, 'sender'), target: required(req.target, 'target') };
}

/**
 * The ordered output stream: every stored event after `fromPosition`, in
 * stream order, then new ones as they commit. A consumer resumes by passing
 * the last position it processed.
 */
async function* watchRoomEvents(
  deps: HandlerDeps,
  fromPosition: number,
  roomIds: readonly string[],
  startAtEnd: boolean,
  context: CallContext,
): AsyncGenerator<WatchRoomEventsResponse> {
  const { storage, notifier } = deps;
  let cursor = startAtEnd ? await storage.read((tx) => tx.maxStreamPosition()) : fromPosition;
  const rooms = roomIds.length === 0 ? undefined : roomIds;
  const versions = new Map<string, string>();
  while (!context.signal.aborted) {
    const wake = notifier.next();
    const events = await storage.read((tx) => tx.eventsSince(cursor, 200, rooms));
    for (const event of events) {
      cursor = event.position;
      yield await outputOf(storage, event, versions);
    }
    if (events.length === 0) await notifier.wait(wake, deps.watchPollMs ?? 1000, context.signal);
  }
}

async function outputOf(storage: Storage, event: StoredEvent, versions: Map<string, string>): Promise<WatchRoomEventsResponse> {
  let roomVersion = versions.get(event.roomId);
  if (roomVersion === undefined) {
    roomVersion = (await storage.read((tx) => tx.getRoom(event.roomId)))?.roomVersion ?? '';
    versions.set(event.roomId, roomVersion);
  }
  const output: WatchRoomEventsResponse = {
    position: event.position,
    roomId: event.roomId,
    kind: RoomOutputKind.NEW_EVENT,
    eventId: event.eventId,
    eventJson: event.json,
    roomVersion,
    userId: '',
  };
  if (event.type === 'm.room.member' && event.stateKey !== null && event.rejectedReason === null && !event.softFailed) {
    const change = await membershipChangeOf(storage, event);
    if (change !== undefined) return { ...output, membershipChange: change, userId: event.stateKey };
  }
  return output;
}

async function membershipChangeOf(storage: Storage, event: StoredEvent): Promise<MembershipChange | undefined> {
  const content = (JSON.parse(event.json) as { content?: { membership?: unknown } }).content;
  const current = content?.membership;
  if (!isStoredMembership(current)) return undefined;
  const previous = await storage.read(async (tx) => {
    // One key of the state before the event, not the whole state of a large room.
    const groups = await tx.getEventStateGroups(event.eventId);
    if (groups === null || event.stateKey === null) return undefined;
    const [entry] = (await tx.getStateGroupEntries(groups.beforeGroupId, [{ type: 'm.room.member', stateKey: event.stateKey }])) ?? [];
    if (entry === undefined) return undefined;
    const prev = await tx.getEvent(entry.eventId);
    const prevContent = prev === null ? undefined : (JSON.parse(prev.json) as { content?: { membership?: unknown } }).content;
    return isStoredMembership(prevContent?.membership) ? prevContent.membership : undefined;
  });
  return {
    userId: event.stateKey ?? '',
    previous: membershipToProto(previous),
    current: membershipToProto(current),
    sender: event.sender,
    // Outliers are memberships recorded without the room's state (e.g. an out-of-band leave).
    outOfBand: event.outlier,
  };
}
