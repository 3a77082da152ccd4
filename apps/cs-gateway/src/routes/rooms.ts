// Reads about rooms: joined rooms, state, members, one event, and /messages.
// What a user may see is the membership service's decision (history
// visibility, the room frozen at the user's leave, forgotten rooms hidden):
// it answers 403 or 404 itself, and the gateway only shapes the events.
import { MatrixError } from '@membrane/matrix-errors';
import { Membership } from '@membrane/proto';
import type { ViewedEvent } from '@membrane/proto';
import { parseRoomEventFilter } from '@membrane/views';
import { optionalEnumQuery, optionalIntegerQuery, optionalJsonQuery } from '../query-input.js';
import { optionalQueryValue, roomIdParam } from '../request-input.js';
import { formatStreamToken, parseStreamToken } from '../stream-token.js';
import { viewedEventForClient } from '../viewed-event.js';
import type { EventFormat } from '../viewed-event.js';
import { authedRoute } from './route.js';
import type { AuthedContext, Route } from './route.js';

const MEMBERSHIPS: Readonly<Record<string, Membership>> = {
  join: Membership.JOIN,
  invite: Membership.INVITE,
  knock: Membership.KNOCK,
  leave: Membership.LEAVE,
  ban: Membership.BAN,
};

/** /messages without `limit` (as Synapse), and the most it answers at once. */
const DEFAULT_MESSAGES_LIMIT = 10;
const MAX_MESSAGES_LIMIT = 1000;

function roomOf(ctx: AuthedContext): string {
  return roomIdParam(ctx.params['roomId'] ?? '');
}

function membershipsOf(ctx: AuthedContext, key: string): Membership[] {
  const value = optionalEnumQuery(ctx.query, key, Object.keys(MEMBERSHIPS));
  return value === undefined ? [] : [MEMBERSHIPS[value] as Membership];
}

function clientEvents(events: readonly ViewedEvent[], roomId: string, format?: EventFormat): Record<string, unknown>[] {
  const now = Date.now();
  return events.map((e) => viewedEventForClient(e, { roomId, withRoomId: true, now, ...(format === undefined ? {} : { format }) }));
}

/** GET of one state event: its content, or the whole event with `?format=event`. */
function stateEventRoute(path: string): Route {
  return authedRoute({
    method: 'GET',
    path,
    parse: (ctx) => ({
      roomId: roomOf(ctx),
      eventType: ctx.params['eventType'] ?? '',
      stateKey: ctx.params['stateKey'] ?? '',
      asEvent: optionalEnumQuery(ctx.query, 'format', ['content', 'event'] as const) === 'event',
    }),
    async run(input, ctx) {
      const answer = await ctx.services.membership.queryVisibleState(
        { roomId: input.roomId, viewerUserId: ctx.user.userId, eventType: input.eventType, stateKey: input.stateKey },
        ctx.rpc,
      );
      const [event] = clientEvents(answer.events, input.roomId);
      if (event === undefined) throw MatrixError.notFound('Event not found.');
      return { body: input.asEvent ? event : event['content'] };
    },
  });
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
      parse: (ctx) => {
        const at = optionalQueryValue(ctx.query, 'at');
        return {
          roomId: roomOf(ctx),
          atPosition: at === undefined ? undefined : parseStreamToken(at, 'at'),
          memberships: membershipsOf(ctx, 'membership'),
          notMemberships: membershipsOf(ctx, 'not_membership'),
        };
      },
      async run(input, ctx) {
        const answer = await ctx.services.membership.queryVisibleMembers({ ...input, viewerUserId: ctx.user.userId }, ctx.rpc);
        return { body: { chunk: clientEvents(answer.events, input.roomId) } };
      },
    }),
    authedRoute({
      method: 'GET',
      path: '/rooms/:roomId/state',
      parse: (ctx) => ({ roomId: roomOf(ctx) }),
      async run(input, ctx) {
        const answer = await ctx.services.membership.queryVisibleState({ roomId: input.roomId, viewerUserId: ctx.user.userId }, ctx.rpc);
        return { body: clientEvents(answer.events, input.roomId) };
      },
    }),
    // The empty state key may be left out, with or without the trailing slash.
    ...['/rooms/:roomId/state/:eventType/:stateKey', '/rooms/:roomId/state/:eventType', '/rooms/:roomId/state/:eventType/'].map(stateEventRoute),
    authedRoute({
      method: 'GET',
      path: '/rooms/:roomId/event/:eventId',
      parse: (ctx) => {
        const eventId = ctx.params['eventId'] ?? '';
        if (!eventId.startsWith('$')) throw MatrixError.invalidParam(`Not a valid event ID: ${eventId}`);
        return { roomId: roomOf(ctx), eventId };
      },
      async run(input, ctx) {
        const answer = await ctx.services.membership.queryVisibleEvent({ ...input, viewerUserId: ctx.user.userId }, ctx.rpc);
        if (answer.event === undefined) throw MatrixError.notFound('Event not found.');
        const [event] = clientEvents([answer.event], input.roomId);
        return { body: event };
      },
    }),
    authedRoute({
      method: 'GET',
      path: '/rooms/:roomId/messages',
      parse: (ctx) => {
        const from = optionalQueryValue(ctx.query, 'from');
        const to = optionalQueryValue(ctx.query, 'to');
        const filter = optionalJsonQuery(ctx.query, 'filter');
        return {
          roomId: roomOf(ctx),
          fromPosition: from === undefined ? undefined : parseStreamToken(from, 'from'),
          toPosition: to === undefined ? undefined : parseStreamToken(to, 'to'),
          // The spec requires `dir`; Synapse reads a missing one as `f`, and so do we.
          backwards: (optionalEnumQuery(ctx.query, 'dir', ['b', 'f'] as const) ?? 'f') === 'b',
          limit: Math.min(optionalIntegerQuery(ctx.query, 'limit') ?? DEFAULT_MESSAGES_LIMIT, MAX_MESSAGES_LIMIT),
          filter: filter === undefined ? undefined : parseRoomEventFilter(filter),
        };
      },
      async run(input, ctx) {
        const { filter, ...rest } = input;
        const answer = await ctx.services.membership.queryMessages(
          { ...rest, viewerUserId: ctx.user.userId, filterJson: filter === undefined ? '' : JSON.stringify(filter) },
          ctx.rpc,
        );
        // A RoomEventFilter may carry the Filter's `event_format` (Synapse honours it here too).
        const federation = (filter as { event_format?: unknown } | undefined)?.event_format === 'federation';
        return {
          body: {
            chunk: clientEvents(answer.events, input.roomId, { federation }),
            start: formatStreamToken(answer.startPosition),
            ...(answer.endPosition === undefined ? {} : { end: formatStreamToken(answer.endPosition) }),
            // Lazy-loaded members are not served: clients read /members.
            state: [],
          },
        };
      },
    }),
  ];
}
