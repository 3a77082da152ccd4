// The gRPC face of outbound federation (proto/matrix/federation/v1/remote.proto):
// the membership service asks here for joins, knocks and leaves through
// other servers, and wakes the transaction sender.
import type { JsonObject } from '@membrane/canonical-json';
import { encodeCanonicalJson, isJsonObject } from '@membrane/canonical-json';
import { MatrixError } from '@membrane/matrix-errors';
import type { RemoteMembershipServiceService, ServerAttempt } from '@membrane/proto';
import { AttemptOutcome } from '@membrane/proto';
import type { ServiceImplementation } from '@membrane/rpc';
import type { RemoteJoinDeps } from './remote-join.js';
import { performRemoteJoin } from './remote-join.js';
import { performRemoteLeave } from './remote-leave.js';
import { performRemoteInvite } from './remote-invite.js';
import { performRemoteKnock } from './remote-knock.js';
import type { Pdu } from '@membrane/events';
import { findRoomVersion } from '@membrane/events';

export interface RemoteMembershipLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface RemoteMembershipHandlerDeps extends RemoteJoinDeps {
  readonly notifyOutbox: () => void;
  readonly logger?: RemoteMembershipLogger;
  /** Told how each remote leave ended (for metrics): through v2, through the v1 fallback, or not at all. */
  readonly onRemoteLeave?: (outcome: 'accepted_v2' | 'accepted_v1' | 'failed') => void;
}

/** How a remote leave ended: the last attempt is the one that succeeded, if any did. */
export function remoteLeaveOutcome(result: { readonly leaveEventJson: string; readonly attempts: readonly { readonly endpoint: string }[] }): 'accepted_v2' | 'accepted_v1' | 'failed' {
  if (result.leaveEventJson === '') return 'failed';
  return result.attempts.at(-1)?.endpoint === 'send_leave/v1' ? 'accepted_v1' : 'accepted_v2';
}

function parseObject(json: string, field: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw MatrixError.badJson(`${field} is not JSON`);
  }
  if (!isJsonObject(parsed)) throw MatrixError.badJson(`${field} is not a JSON object`);
  return parsed;
}

function parseExtras(json: string): JsonObject | undefined {
  return json === '' ? undefined : parseObject(json, 'content_extras_json');
}

/**
 * The error of an operation no server accepted: the last Matrix refusal
 * (4xx) as the peer gave it, so the client learns why (e.g. 403 for a room
 * that takes no knocks); otherwise 502, naming what each server did.
 */
export function noServerAccepted(what: string, attempts: readonly ServerAttempt[]): MatrixError {
  const refused = attempts.filter((a) => a.outcome === AttemptOutcome.REFUSED && a.httpStatus >= 400 && a.httpStatus < 500).at(-1);
  if (refused !== undefined) return new MatrixError(refused.httpStatus, refused.errcode, refused.message);
  return new MatrixError(502, 'M_UNKNOWN', `No server could ${what}: ${attempts.map((a) => `${a.serverName}: ${a.message || a.endpoint}`).join('; ') || 'no candidate servers'}`);
}

export function remoteMembershipHandlers(deps: RemoteMembershipHandlerDeps): ServiceImplementation<typeof RemoteMembershipServiceService> {
  return {
    async performRemoteLeave(req, context) {
      if (req.roomId === '' || req.userId === '') throw MatrixError.invalidParam('room_id and user_id are required');
      // Stay within the caller's deadline.
      const budget = context.deadline === undefined ? undefined : context.deadline.getTime() - Date.now() - 500;
      const result = await performRemoteLeave(
        { ...deps, ...(budget === undefined ? {} : { totalTimeoutMs: Math.max(0, Math.min(budget, deps.totalTimeoutMs ?? budget)) }) },
        {
          roomId: req.roomId,
          userId: req.userId,
          serverNames: req.serverNames,
          ...(req.reason === undefined ? {} : { reason: req.reason }),
          ...(req.roomVersion === undefined || req.roomVersion === '' ? {} : { roomVersion: req.roomVersion }),
        },
      );
      const fields = { roomId: req.roomId, userId: req.userId, kind: req.kind, server: result.serverName, attempts: result.attempts };
      if (result.leaveEventJson === '') deps.logger?.warn(fields, 'no server accepted the remote leave');
      else deps.logger?.info(fields, 'remote leave accepted');
      deps.onRemoteLeave?.(remoteLeaveOutcome(result));
      return result;
    },
    async performRemoteJoin(req, context) {
      if (req.userId === '' || req.roomIdOrAlias === '') throw MatrixError.invalidParam('room_id_or_alias and user_id are required');
      if (!req.roomIdOrAlias.startsWith('!')) throw MatrixError.unrecognized('Joining by room alias over federation is not supported yet', 501);
      const budget = context.deadline === undefined ? undefined : context.deadline.getTime() - Date.now() - 500;
      const extras = parseExtras(req.contentExtrasJson);
      const result = await performRemoteJoin(
        { ...deps, ...(budget === undefined ? {} : { totalTimeoutMs: Math.max(0, Math.min(budget, deps.totalTimeoutMs ?? budget)) }) },
        {
          roomId: req.roomIdOrAlias,
          userId: req.userId,
          serverNames: req.serverNames,
          supportedRoomVersions: req.supportedRoomVersions,
          ...(extras === undefined ? {} : { contentExtras: extras }),
        },
      );
      const fields = { roomId: req.roomIdOrAlias, userId: req.userId, server: result.serverName, attempts: result.attempts };
      if (result.joinEventJson === '') {
        deps.logger?.warn(fields, 'no server accepted the remote join');
        const last = result.attempts[result.attempts.length - 1];
        throw new MatrixError(last?.errcode === 'M_FORBIDDEN' ? 403 : 502, last?.errcode === 'M_FORBIDDEN' ? 'M_FORBIDDEN' : 'M_UNKNOWN', `No server could join the room: ${result.attempts.map((a) => `${a.serverName}: ${a.message || a.endpoint}`).join('; ') || 'no candidate servers'}`);
      }
      deps.logger?.info(fields, 'remote join accepted');
      return result;
    },
    async performRemoteKnock(req, context) {
      if (req.roomId === '' || req.userId === '') throw MatrixError.invalidParam('room_id and user_id are required');
      if (req.supportedRoomVersions.length === 0) throw MatrixError.invalidParam('supported_room_versions is required');
      const budget = context.deadline === undefined ? undefined : context.deadline.getTime() - Date.now() - 500;
      const result = await performRemoteKnock(
        { ...deps, ...(budget === undefined ? {} : { totalTimeoutMs: Math.max(0, Math.min(budget, deps.totalTimeoutMs ?? budget)) }) },
        {
          roomId: req.roomId,
          userId: req.userId,
          serverNames: req.serverNames,
          supportedRoomVersions: req.supportedRoomVersions,
          ...(req.reason === undefined ? {} : { reason: req.reason }),
        },
      );
      const fields = { roomId: req.roomId, userId: req.userId, server: result.serverName, attempts: result.attempts };
      if (result.knockEventJson === '') {
        deps.logger?.warn(fields, 'no server accepted the remote knock');
        throw noServerAccepted('take the knock', result.attempts);
      }
      deps.logger?.info(fields, 'remote knock accepted');
      return result;
    },
    async performRemoteInvite(req) {
      if (findRoomVersion(req.roomVersion) === undefined) throw MatrixError.unsupportedRoomVersion(req.roomVersion);
      const event = parseObject(req.eventJson, 'event_json') as unknown as Pdu;
      const result = await performRemoteInvite(deps, {
        roomVersion: req.roomVersion,
        event,
        inviteRoomState: req.inviteRoomStateJson.map((json) => parseObject(json, 'invite_room_state_json')),
      });
      if (result.event === undefined) {
        deps.logger?.warn({ roomId: req.roomId, server: result.serverName, attempts: result.attempts }, 'the invitee server did not sign the invite');
        const last = result.attempts[result.attempts.length - 1];
        if (last?.errcode !== undefined && last.errcode !== '' && last.httpStatus >= 400 && last.httpStatus < 500) throw new MatrixError(last.httpStatus === 404 ? 403 : last.httpStatus, last.errcode, last.message);
        throw new MatrixError(502, 'M_UNKNOWN', `The invitee's server ${result.serverName} could not be reached: ${last?.message ?? ''}`);
      }
      return { eventJson: encodeCanonicalJson(result.event as unknown as JsonObject), serverName: result.serverName, attempts: result.attempts };
    },
    async notifyOutbox() {
      deps.notifyOutbox();
      return {};
    },
  };
}
