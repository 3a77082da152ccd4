// Membership changes: leave, forget, join, knock, invite, kick, ban, unban
// and createRoom. Each reads its input, and hands the intent to the membership
// service, which decides and answers with a Matrix error when it refuses.
import { MatrixError } from '@membrane/matrix-errors';
import { RoomPreset, RoomVisibility } from '@membrane/proto';
import {
  isJsonObject,
  isUserId,
  joinServers,
  optionalBoolean,
  optionalString,
  requiredUserId,
  roomIdOrAliasParam,
  roomIdParam,
} from '../request-input.js';
import type { JsonObject } from '../request-input.js';
import { EMPTY_REPLY, authedRoute } from './route.js';
import type { AuthedContext, MembershipClient, Route } from './route.js';

function roomOf(ctx: AuthedContext): string {
  return roomIdParam(ctx.params['roomId'] ?? '');
}

function reasonOf(ctx: AuthedContext): string | undefined {
  return optionalString(ctx.body, 'reason');
}

/** invite / kick / ban / unban: `{user_id, reason?}` about another user. */
function targetInput(ctx: AuthedContext): { roomId: string; target: string; reason: string | undefined } {
  return { roomId: roomOf(ctx), target: requiredUserId(ctx.body, 'user_id'), reason: reasonOf(ctx) };
}

type ModerationRequest = { roomId: string; sender: string; target: string; reason: string | undefined };

/** kick / ban / unban: the same input and answer, a different verb of the membership service. */
function moderationRoute(
  path: string,
  perform: (membership: MembershipClient, request: ModerationRequest, rpc: AuthedContext['rpc']) => Promise<unknown>,
): Route {
  return authedRoute({
    method: 'POST',
    path,
    rateLimit: 'membership',
    parse: targetInput,
    async run(input, ctx) {
      await perform(ctx.services.membership, { roomId: input.roomId, sender: ctx.user.userId, target: input.target, reason: input.reason }, ctx.rpc);
      return EMPTY_REPLY;
    },
  });
}

const PRESETS: Readonly<Record<string, RoomPreset>> = {
  private_chat: RoomPreset.PRIVATE_CHAT,
  trusted_private_chat: RoomPreset.TRUSTED_PRIVATE_CHAT,
  public_chat: RoomPreset.PUBLIC_CHAT,
};

const VISIBILITIES: Readonly<Record<string, RoomVisibility>> = {
  public: RoomVisibility.PUBLIC,
  private: RoomVisibility.PRIVATE,
};

function oneOf<T>(body: JsonObject, key: string, allowed: Readonly<Record<string, T>>): T | undefined {
  const value = optionalString(body, key);
  if (value === undefined) return undefined;
  const found = Object.hasOwn(allowed, value) ? allowed[value] : undefined;
  if (found === undefined) throw MatrixError.invalidParam(`"${key}" must be one of ${Object.keys(allowed).join(', ')}`);
  return found;
}

function inviteList(body: JsonObject): string[] {
  const value = body['invite'];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw MatrixError.badJson('"invite" must be a list of user IDs');
  for (const userId of value as string[]) if (!isUserId(userId)) throw MatrixError.invalidParam(`Not a valid user ID in "invite": ${userId}`);
  return value as string[];
}

/**
 * createRoom fields this server cannot honour: refusing beats silently
 * creating a different room. `creation_content: {"m.federate": true}` only
 * states the default (matrix-nio always sends it), so it is accepted.
 */
function refuseUnsupported(body: JsonObject): void {
  const nonEmpty = (value: unknown): boolean =>
    value !== undefined && !(Array.isArray(value) && value.length === 0) && !(isJsonObject(value) && Object.keys(value).length === 0);
  const creation = body['creation_content'];
  const onlyDefaults = isJsonObject(creation) && Object.entries(creation).every(([key, value]) => key === 'm.federate' && value === true);
  for (const key of ['room_alias_name', 'initial_state', 'creation_content', 'power_level_content_override', 'invite_3pid']) {
    if (key === 'creation_content' && onlyDefaults) continue;
    if (nonEmpty(body[key])) throw MatrixError.invalidParam(`"${key}" is not supported by this server`);
  }
}

export function membershipRoutes(): Route[] {
  return [
    authedRoute({
      method: 'POST',
      path: '/rooms/:roomId/leave',
      rateLimit: 'membership',
      parse: (ctx) => ({ roomId: roomOf(ctx), reason: reasonOf(ctx) }),
      async run(input, ctx) {
        await ctx.services.membership.performLeave({ roomId: input.roomId, userId: ctx.user.userId, reason: input.reason }, ctx.rpc);
        return EMPTY_REPLY;
      },
    }),
    authedRoute({
      method: 'POST',
      path: '/rooms/:roomId/forget',
      rateLimit: 'membership',
      // The body is ignored, but when there is one it must be a JSON object.
      parse: (ctx) => ({ roomId: roomOf(ctx) }),
      async run(input, ctx) {
        await ctx.services.membership.performForget({ roomId: input.roomId, userId: ctx.user.userId }, ctx.rpc);
        return EMPTY_REPLY;
      },
    }),
    ...['/join/:roomIdOrAlias', '/rooms/:roomIdOrAlias/join'].map((path) =>
      authedRoute({
        method: 'POST',
        path,
        rateLimit: 'membership',
        parse: (ctx) => {
          const raw = ctx.params['roomIdOrAlias'] ?? '';
          const roomIdOrAlias = path.startsWith('/rooms/') ? roomIdParam(raw) : roomIdOrAliasParam(raw);
          if (ctx.body['third_party_signed'] !== undefined) throw MatrixError.invalidParam('"third_party_signed" is not supported by this server');
          return { roomIdOrAlias, reason: optionalString(ctx.body, 'reason'), serverNames: joinServers(ctx.query) };
        },
        async run(input, ctx) {
          const joined = await ctx.services.membership.performJoin({ ...input, userId: ctx.user.userId }, ctx.rpc);
          return { body: { room_id: joined.roomId } };
        },
      }),
    ),
    authedRoute({
      method: 'POST',
      path: '/knock/:roomIdOrAlias',
      rateLimit: 'membership',
      parse: (ctx) => ({ roomIdOrAlias: roomIdOrAliasParam(ctx.params['roomIdOrAlias'] ?? ''), reason: reasonOf(ctx), serverNames: joinServers(ctx.query) }),
      async run(input, ctx) {
        const knocked = await ctx.services.membership.performKnock({ ...input, userId: ctx.user.userId }, ctx.rpc);
        return { body: { room_id: knocked.roomId } };
      },
    }),
    authedRoute({
      method: 'POST',
      path: '/rooms/:roomId/invite',
      rateLimit: 'membership',
      parse: (ctx) => {
        if (ctx.body['medium'] !== undefined || ctx.body['address'] !== undefined) {
          throw MatrixError.invalidParam('Third-party invites are not supported by this server');
        }
        return targetInput(ctx);
      },
      async run(input, ctx) {
        await ctx.services.membership.performInvite({ roomId: input.roomId, sender: ctx.user.userId, invitee: input.target, reason: input.reason }, ctx.rpc);
        return EMPTY_REPLY;
      },
    }),
    moderationRoute('/rooms/:roomId/kick', (membership, request, rpc) => membership.performKick(request, rpc)),
    moderationRoute('/rooms/:roomId/ban', (membership, request, rpc) => membership.performBan(request, rpc)),
    moderationRoute('/rooms/:roomId/unban', (membership, request, rpc) => membership.performUnban(request, rpc)),
    authedRoute({
      method: 'POST',
      path: '/createRoom',
      rateLimit: 'membership',
      parse: (ctx) => {
        refuseUnsupported(ctx.body);
        optionalBoolean(ctx.body, 'is_direct'); // accepted; direct-chat flags are client account data
        return {
          preset: oneOf(ctx.body, 'preset', PRESETS) ?? RoomPreset.UNSPECIFIED,
          visibility: oneOf(ctx.body, 'visibility', VISIBILITIES) ?? RoomVisibility.UNSPECIFIED,
          name: optionalString(ctx.body, 'name'),
          topic: optionalString(ctx.body, 'topic'),
          invitees: inviteList(ctx.body),
          roomVersion: optionalString(ctx.body, 'room_version') ?? ctx.services.defaultRoomVersion,
        };
      },
      async run(input, ctx) {
        const created = await ctx.services.membership.performCreateRoom({ ...input, creatorUserId: ctx.user.userId }, ctx.rpc);
        return { body: { room_id: created.roomId } };
      },
    }),
  ];
}
