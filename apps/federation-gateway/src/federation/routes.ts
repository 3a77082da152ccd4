// The federation endpoints served by the gateway. Handlers are thin: checks
// live in inbound-membership.ts, domain decisions in the membership service.
import type { JsonObject } from '@membrane/canonical-json';
import { MatrixError } from '@membrane/matrix-errors';
import { Membership } from '@membrane/proto';
import type { AuthenticatedRequest, Reply, Route } from '../http/router.js';
import type { OwnKeyDocument } from '../keys/own-key-document.js';
import { receiveMembershipEvent } from './inbound-membership.js';
import type { InboundMembershipDeps } from './inbound-membership.js';
import { receiveInvite } from './invites.js';
import { receiveKnock } from './knocks.js';
import { readEvent, readEventAuth, readMissingEvents, readState } from './reads.js';
import { receiveTransaction } from './transactions.js';
import type { TransactionReplayCache } from './transactions.js';
import { assertServerAllowed, lookupRoom } from './rooms.js';

export interface FederationRoutesDeps extends InboundMembershipDeps {
  readonly keyDocument: OwnKeyDocument;
  readonly software: { readonly name: string; readonly version: string };
  readonly transactions: TransactionReplayCache;
  /** Readiness for `/readyz`: the membership service answers and we are not shutting down. Always ready when absent. */
  readonly isReady?: () => Promise<boolean>;
}

const ok = (body: unknown): Reply => ({ status: 200, body });
/** The removed v1 endpoints answered `[200, body]` in the response body. */
const okV1 = (body: unknown): Reply => ({ status: 200, body: [200, body] });

function param(request: { readonly params: Readonly<Record<string, string>> }, name: string): string {
  const value = request.params[name];
  if (value === undefined) throw MatrixError.missingParam(`${name} is required`);
  return value;
}

function bodyOf(request: AuthenticatedRequest): { body: JsonObject; bodyText: string } {
  if (request.body === undefined || request.bodyText === undefined) throw MatrixError.notJson('Content not JSON');
  return { body: request.body, bodyText: request.bodyText };
}

/** `ver` query parameters of make_join; the spec's default is ["1"]. */
export function supportedVersionsOf(query: URLSearchParams): string[] {
  const versions = query.getAll('ver');
  return versions.length === 0 ? ['1'] : versions;
}

const TEMPLATE_MEMBERSHIPS = { leave: Membership.LEAVE, join: Membership.JOIN, knock: Membership.KNOCK } as const;

async function makeMembership(deps: FederationRoutesDeps, request: AuthenticatedRequest, membership: 'leave' | 'join' | 'knock'): Promise<Reply> {
  const roomId = param(request, 'roomId');
  // make_knock has no default for `ver` (knocking came long after version 1).
  if (membership === 'knock' && request.query.getAll('ver').length === 0) throw MatrixError.missingParam('Missing required query parameter: ver');
  // An unknown room has no ACL; the membership service answers 404 for it.
  assertServerAllowed(await lookupRoom(deps.membership, roomId, deps.serverName), request.origin);
  const answer = await deps.membership.buildMembershipTemplate({
    roomId,
    userId: param(request, 'userId'),
    membership: TEMPLATE_MEMBERSHIPS[membership],
    origin: request.origin,
    supportedRoomVersions: membership === 'leave' ? [] : supportedVersionsOf(request.query),
  });
  return ok({ room_version: answer.roomVersion, event: JSON.parse(answer.eventTemplateJson) as unknown });
}

async function sendLeave(deps: FederationRoutesDeps, request: AuthenticatedRequest): Promise<void> {
  await receiveMembershipEvent(deps, { origin: request.origin, roomId: param(request, 'roomId'), eventId: param(request, 'eventId'), ...bodyOf(request), membership: 'leave' });
}

/** send_join: accept the join, then answer with the room state before it and its auth chain. */
async function sendJoin(deps: FederationRoutesDeps, request: AuthenticatedRequest): Promise<JsonObject> {
  const accepted = await receiveMembershipEvent(deps, {
    origin: request.origin,
    roomId: param(request, 'roomId'),
    eventId: param(request, 'eventId'),
    ...bodyOf(request),
    membership: 'join',
  });
  const state = await deps.membership.queryStateAndAuthChain({ roomId: accepted.room.roomId, eventId: accepted.eventId, idsOnly: false });
  const answer: JsonObject = {
    origin: deps.serverName,
    state: state.stateEventsJson.map((json) => JSON.parse(json) as JsonObject),
    auth_chain: state.authChainJson.map((json) => JSON.parse(json) as JsonObject),
    members_omitted: false,
  };
  // Room versions with restricted joins need the event as the resident server signed it.
  if (accepted.room.version.restrictedJoin) answer['event'] = accepted.event as unknown as JsonObject;
  return answer;
}

async function invite(deps: FederationRoutesDeps, request: AuthenticatedRequest, apiVersion: 'v1' | 'v2'): Promise<JsonObject> {
  const signed = await receiveInvite(deps, { origin: request.origin, roomId: param(request, 'roomId'), eventId: param(request, 'eventId'), ...bodyOf(request), apiVersion });
  return { event: signed as unknown as JsonObject };
}

export function federationRoutes(deps: FederationRoutesDeps): Route[] {
  return [
    { method: 'GET', path: '/_matrix/key/v2/server', auth: 'none', handle: async () => ok(deps.keyDocument.current()) },
    { method: 'GET', path: '/_matrix/federation/v1/version', auth: 'none', handle: async () => ok({ server: deps.software }) },
    // Liveness and readiness probes (not Matrix endpoints).
    { method: 'GET', path: '/healthz', auth: 'none', handle: async () => ok({ status: 'ok' }) },
    {
      method: 'GET',
      path: '/readyz',
      auth: 'none',
      handle: async () =>
        (await (deps.isReady?.() ?? Promise.resolve(true)))
          ? ok({ status: 'ready' })
          : { status: 503, body: { errcode: 'M_UNKNOWN', error: 'The membership service is not available' } },
    },
    { method: 'GET', path: '/_matrix/federation/v1/make_leave/{roomId}/{userId}', auth: 'x-matrix', handle: (r) => makeMembership(deps, r, 'leave') },
    { method: 'PUT', path: '/_matrix/federation/v1/send_leave/{roomId}/{eventId}', auth: 'x-matrix', handle: async (r) => (await sendLeave(deps, r), okV1({})) },
    { method: 'PUT', path: '/_matrix/federation/v2/send_leave/{roomId}/{eventId}', auth: 'x-matrix', handle: async (r) => (await sendLeave(deps, r), ok({})) },
    { method: 'GET', path: '/_matrix/federation/v1/make_join/{roomId}/{userId}', auth: 'x-matrix', handle: (r) => makeMembership(deps, r, 'join') },
    { method: 'PUT', path: '/_matrix/federation/v1/send_join/{roomId}/{eventId}', auth: 'x-matrix', handle: async (r) => okV1(await sendJoin(deps, r)) },
    { method: 'PUT', path: '/_matrix/federation/v2/send_join/{roomId}/{eventId}', auth: 'x-matrix', handle: async (r) => ok(await sendJoin(deps, r)) },
    { method: 'GET', path: '/_matrix/federation/v1/make_knock/{roomId}/{userId}', auth: 'x-matrix', handle: (r) => makeMembership(deps, r, 'knock') },
    {
      method: 'PUT',
      path: '/_matrix/federation/v1/send_knock/{roomId}/{eventId}',
      auth: 'x-matrix',
      handle: async (r) => ok(await receiveKnock(deps, { origin: r.origin, roomId: param(r, 'roomId'), eventId: param(r, 'eventId'), ...bodyOf(r) })),
    },
    {
      method: 'PUT',
      path: '/_matrix/federation/v1/send/{txnId}',
      auth: 'x-matrix',
      handle: async (r) => {
        const txnId = param(r, 'txnId');
        return ok(await deps.transactions.answer(r.origin, txnId, () => receiveTransaction(deps, { origin: r.origin, txnId, ...bodyOf(r) })));
      },
    },
    { method: 'GET', path: '/_matrix/federation/v1/event/{eventId}', auth: 'x-matrix', handle: async (r) => ok(await readEvent(deps, r.origin, param(r, 'eventId'))) },
    { method: 'GET', path: '/_matrix/federation/v1/state/{roomId}', auth: 'x-matrix', handle: async (r) => ok(await readState(deps, r.origin, param(r, 'roomId'), r.query, false)) },
    { method: 'GET', path: '/_matrix/federation/v1/state_ids/{roomId}', auth: 'x-matrix', handle: async (r) => ok(await readState(deps, r.origin, param(r, 'roomId'), r.query, true)) },
    {
      method: 'GET',
      path: '/_matrix/federation/v1/event_auth/{roomId}/{eventId}',
      auth: 'x-matrix',
      handle: async (r) => ok(await readEventAuth(deps, r.origin, param(r, 'roomId'), param(r, 'eventId'))),
    },
    {
      method: 'POST',
      path: '/_matrix/federation/v1/get_missing_events/{roomId}',
      auth: 'x-matrix',
      handle: async (r) => ok(await readMissingEvents(deps, r.origin, param(r, 'roomId'), bodyOf(r).body)),
    },
    { method: 'PUT', path: '/_matrix/federation/v1/invite/{roomId}/{eventId}', auth: 'x-matrix', handle: async (r) => okV1(await invite(deps, r, 'v1')) },
    { method: 'PUT', path: '/_matrix/federation/v2/invite/{roomId}/{eventId}', auth: 'x-matrix', handle: async (r) => ok(await invite(deps, r, 'v2')) },
  ];
}
