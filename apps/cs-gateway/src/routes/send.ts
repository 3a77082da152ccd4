// Sending events: messages (PUT /send/{type}/{txnId}) and state
// (PUT /state/{type}/{stateKey}). The membership service builds, authorizes
// and stores the event; a repeated transaction ID returns the first event.
import { createHash } from 'node:crypto';
import { MatrixError } from '@membrane/matrix-errors';
import { extractAccessToken } from '../access-token.js';
import { roomIdParam } from '../request-input.js';
import { authedRoute } from './route.js';
import type { AuthedContext, Route } from './route.js';

const MAX_TYPE_BYTES = 255;

/**
 * The content is the whole body and must be a JSON object: unlike the
 * membership endpoints, an empty body is not read as `{}` (as Synapse).
 */
function contentOf(ctx: AuthedContext): string {
  const raw: unknown = ctx.req.body;
  if (!Buffer.isBuffer(raw) || raw.toString('utf8').trim() === '') throw MatrixError.notJson('Content not JSON.');
  return JSON.stringify(ctx.body);
}

function eventTypeOf(ctx: AuthedContext): string {
  const type = ctx.params['eventType'] ?? '';
  if (type === '' || Buffer.byteLength(type, 'utf8') > MAX_TYPE_BYTES) throw MatrixError.invalidParam('The event type must be 1 to 255 bytes');
  return type;
}

/**
 * Who a transaction ID belongs to. The spec scopes transaction IDs to the
 * device of the access token; a token without a device (some upstream
 * verifiers) is its own scope, named by a hash so the token is never stored.
 */
function transactionScope(ctx: AuthedContext): string {
  if (ctx.user.deviceId !== undefined && ctx.user.deviceId !== '') return `device:${ctx.user.deviceId}`;
  const token = extractAccessToken(ctx.req.get('authorization'), ctx.query['access_token']);
  return `token:${createHash('sha256').update(token).digest('base64url')}`;
}

function transactionKey(userId: string, scope: string, txnId: string): string {
  return JSON.stringify(['txn', userId, scope, txnId]);
}

function stateRoute(path: string): Route {
  return authedRoute({
    method: 'PUT',
    path,
    parse: (ctx) => ({ roomId: roomIdParam(ctx.params['roomId'] ?? ''), eventType: eventTypeOf(ctx), stateKey: ctx.params['stateKey'] ?? '', contentJson: contentOf(ctx) }),
    async run(input, ctx) {
      const sent = await ctx.services.membership.performSendEvent({ ...input, sender: ctx.user.userId }, ctx.rpc);
      return { body: { event_id: sent.eventId } };
    },
  });
}

export function sendRoutes(): Route[] {
  return [
    authedRoute({
      method: 'PUT',
      path: '/rooms/:roomId/send/:eventType/:txnId',
      parse: (ctx) => ({
        roomId: roomIdParam(ctx.params['roomId'] ?? ''),
        eventType: eventTypeOf(ctx),
        contentJson: contentOf(ctx),
        idempotencyKey: transactionKey(ctx.user.userId, transactionScope(ctx), ctx.params['txnId'] ?? ''),
      }),
      async run(input, ctx) {
        const sent = await ctx.services.membership.performSendEvent({ ...input, sender: ctx.user.userId }, ctx.rpc);
        return { body: { event_id: sent.eventId } };
      },
    }),
    ...['/rooms/:roomId/state/:eventType/:stateKey', '/rooms/:roomId/state/:eventType', '/rooms/:roomId/state/:eventType/'].map(stateRoute),
  ];
}
