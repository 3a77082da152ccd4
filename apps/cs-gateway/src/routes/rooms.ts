// Reads about rooms: the rooms a user is in, a room's members, one state
// event. Who may read follows Synapse: members read the current state;
// users who left (and did not forget) read the state as it was when they
// left; anyone reads a world_readable room; everyone else gets 403.
import { MatrixError } from '@membrane/matrix-errors';
import { Membership } from '@membrane/proto';
import type { QueryRoomStateResponse } from '@membrane/proto';
import { clientEventFromJson } from '../client-event.js';
import { optionalQueryValue, roomIdParam } from '../request-input.js';
import type { JsonObject } from '../request-input.js';
import { authedRoute } from './route.js';
import type { AuthedContext, MembershipClient, Route } from './route.js';

const MEMBERSHIPS = ['join', 'invite', 'knock', 'leave', 'ban'] as const;

interface StateEvent {
  readonly json: string;
  readonly parsed: JsonObject;
}

interface ReadableState {
  readonly roomVersion: string;
  readonly events: readonly StateEvent[];
}

function notReadable(userId: string, roomId: string): MatrixError {
  return MatrixError.forbidden(`User ${userId} not in room ${roomId}, and room previews are disabled`);
}

function parsedState(state: QueryRoomStateResponse): ReadableState {
  return { roomVersion: state.roomVersion, events: state.stateEventsJson.map((json) => ({ json, parsed: JSON.parse(json) as JsonObject })) };
}

function findState(state: ReadableState, type: string, stateKey: string): StateEvent | undefined {
  return state.events.find((e) => e.parsed['type'] === type && e.parsed['state_key'] === stateKey);
}

function isWorldReadable(state: ReadableState): boolean {
  const content = findState(state, 'm.room.history_visibility', '')?.parsed['content'];
  return typeof content === 'object' && content !== null && (content as JsonObject)['history_visibility'] === 'world_readable';
}

/** The room state this user may see, or 403 (also for rooms this server does not know). */
export async function readableState(membership: MembershipClient, roomId: string, userId: string, ctx: AuthedContext): Promise<ReadableState> {
  const mine = await membership.queryMembership({ roomId, userId }, ctx.rpc);
  if (mine.membership === Membership.JOIN) return parsedState(await membership.queryRoomState({ roomId }, ctx.rpc));
  if (mine.membership === Membership.LEAVE && !mine.forgotten && mine.eventId !== '') {
    try {
      return parsedState(await membership.queryRoomState({ roomId, atEventId: mine.eventId }, ctx.rpc));
    } catch (err) {
      // A leave recorded without the room's state (a rejected remote invite) has no state to show.
      if (err instanceof MatrixError && err.status === 404) throw notReadable(userId, roomId);
      throw err;
    }
  }
  if (mine.roomKnown) {
    const current = parsedState(await membership.queryRoomState({ roomId }, ctx.rpc));
    if (isWorldReadable(current)) return current;
  }
  throw notReadable(userId, roomId);
}

function membershipFilter(ctx: AuthedContext, key: string): string | undefined {
  const value = optionalQueryValue(ctx.query, key);
  if (value !== undefined && !(MEMBERSHIPS as readonly string[]).includes(value)) {
    throw MatrixError.invalidParam(`Query parameter "${key}" must be one of ${MEMBERSHIPS.join(', ')}`);
  }
  return value;
}

function membershipOf(event: StateEvent): unknown {
  const content = event.parsed['content'];
  return typeof content === 'object' && content !== null ? (content as JsonObject)['membership'] : undefined;
}

export function roomReadRoutes(): Route[] {
  return [
    authedRoute({
      method: 'GET',
      path: '/joined_rooms',
      async run(_input, ctx) {
        const answer = await ctx.services.membership.queryJoinedRooms({ userId: ctx.user.userId, memberships: [Membership.JOIN], includeForgotten: false }, ctx.rpc);
        return { body: { joined_rooms: answer.rooms.map((r) => r.roomId) } };
      },
    }),
    authedRoute({
      method: 'GET',
      path: '/rooms/:roomId/members',
      // `at` (a sync token) is not supported: the answer is the state the user may see now.
      parse: (ctx) => ({ roomId: roomIdParam(ctx.params['roomId'] ?? ''), only: membershipFilter(ctx, 'membership'), not: membershipFilter(ctx, 'not_membership') }),
      async run(input, ctx) {
        const state = await readableState(ctx.services.membership, input.roomId, ctx.user.userId, ctx);
        const chunk = state.events
          .filter((e) => e.parsed['type'] === 'm.room.member')
          .filter((e) => (input.only === undefined || membershipOf(e) === input.only) && (input.not === undefined || membershipOf(e) !== input.not))
          .map((e) => clientEventFromJson(e.json, state.roomVersion, input.roomId));
        return { body: { chunk } };
      },
    }),
    ...['/rooms/:roomId/state/:eventType/:stateKey', '/rooms/:roomId/state/:eventType', '/rooms/:roomId/state/:eventType/'].map((path) =>
      authedRoute({
        method: 'GET',
        path,
        parse: (ctx) => {
          const eventType = ctx.params['eventType'] ?? '';
          const stateKey = ctx.params['stateKey'] ?? '';
          return { roomId: roomIdParam(ctx.params['roomId'] ?? ''), eventType, stateKey, asEvent: optionalQueryValue(ctx.query, 'format') === 'event' };
        },
        async run(input, ctx) {
          const state = await readableState(ctx.services.membership, input.roomId, ctx.user.userId, ctx);
          const event = findState(state, input.eventType, input.stateKey);
          if (event === undefined) throw MatrixError.notFound('Event not found.');
          return { body: input.asEvent ? clientEventFromJson(event.json, state.roomVersion, input.roomId) : event.parsed['content'] };
        },
      }),
    ),
  ];
}
