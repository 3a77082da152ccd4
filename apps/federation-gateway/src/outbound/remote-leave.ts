// Leaving a room through other servers (rejecting a remote invite,
// rescinding a knock, leaving a room we are not resident in): for each
// candidate server in order, make_leave, check the template, sign it in the
// room version's format, send_leave v2 and, when the peer does not know v2,
// v1. The first server that accepts wins; every attempt is reported.
import type { JsonObject } from '@membrane/canonical-json';
import { encodeCanonicalJson, isJsonObject } from '@membrane/canonical-json';
import type { PduSigner } from '@membrane/events';
import { checkMembershipTemplate, findRoomVersion, signMembershipTemplate } from '@membrane/events';
import type { ServerAttempt } from '@membrane/proto';
import { AttemptOutcome } from '@membrane/proto';
import type { FederationRequester, FederationResponse } from './federation-client.js';
import { FederationRequestError } from './federation-client.js';

export interface RemoteLeaveRequest {
  readonly roomId: string;
  readonly userId: string;
  readonly serverNames: readonly string[];
  readonly reason?: string;
  readonly roomVersion?: string;
}

export interface RemoteLeaveResult {
  /** Canonical JSON of our leave as accepted; empty when no server accepted it. */
  readonly leaveEventJson: string;
  readonly roomVersion: string;
  readonly serverName: string;
  readonly attempts: ServerAttempt[];
}

export interface RemoteOperationDeps {
  readonly client: FederationRequester;
  readonly signer: PduSigner;
  readonly clock?: () => number;
  /** Servers asked at most (the rest of the list is ignored). */
  readonly maxServers?: number;
  /** Bound of each request. */
  readonly requestTimeoutMs?: number;
  /** Bound of the whole operation; servers left when it passes are not asked. */
  readonly totalTimeoutMs?: number;
}

/** A step's failure, already in the shape of an attempt. */
export class AttemptFailure extends Error {
  constructor(readonly attempt: Omit<ServerAttempt, 'serverName' | 'durationMs'>) {
    super(attempt.message);
  }
}

export const enc = encodeURIComponent;

/** The Matrix error of an answer, when it has one. */
export function matrixErrorOf(body: unknown): { errcode: string; error: string } | undefined {
  if (!isJsonObject(body) || typeof (body as Record<string, unknown>)['errcode'] !== 'string') return undefined;
  const record = body as Record<string, unknown>;
  return { errcode: record['errcode'] as string, error: typeof record['error'] === 'string' ? record['error'] : '' };
}

/**
 * Whether a v2 `send_*` answer means "the peer has no v2 endpoint, try v1":
 * 400 or 404 with M_UNRECOGNIZED, or 404/405 without a Matrix error body.
 */
export function shouldFallBackToV1(answer: FederationResponse): boolean {
  const error = matrixErrorOf(answer.body);
  if (error?.errcode === 'M_UNRECOGNIZED') return answer.status === 400 || answer.status === 404;
  return error === undefined && (answer.status === 404 || answer.status === 405);
}

/** Sends and turns a transport failure into the attempt it is. */
export async function call(deps: RemoteOperationDeps, endpoint: string, destination: string, method: 'GET' | 'PUT', path: string, body?: JsonObject): Promise<FederationResponse> {
  try {
    return await deps.client.request({ destination, method, path, ...(body === undefined ? {} : { body }), ignoreBackoff: true, timeoutMs: deps.requestTimeoutMs ?? 30_000 });
  } catch (err) {
    const timedOut = err instanceof FederationRequestError && err.kind === 'timed-out';
    throw new AttemptFailure({ outcome: timedOut ? AttemptOutcome.TIMED_OUT : AttemptOutcome.UNREACHABLE, endpoint, httpStatus: 0, errcode: '', message: (err as Error).message });
  }
}

/** A non-200 answer as a failed attempt: REFUSED with a Matrix error, INVALID_RESPONSE without. */
export function refusal(endpoint: string, answer: FederationResponse): AttemptFailure {
  const error = matrixErrorOf(answer.body);
  return new AttemptFailure(
    error === undefined
      ? { outcome: AttemptOutcome.INVALID_RESPONSE, endpoint, httpStatus: answer.status, errcode: '', message: `HTTP ${answer.status} without a Matrix error` }
      : { outcome: AttemptOutcome.REFUSED, endpoint, httpStatus: answer.status, errcode: error.errcode, message: error.error },
  );
}

export function invalid(endpoint: string, status: number, message: string): AttemptFailure {
  return new AttemptFailure({ outcome: AttemptOutcome.INVALID_RESPONSE, endpoint, httpStatus: status, errcode: '', message });
}

/** Candidate servers: in order, without duplicates, empty names or ourselves, at most `max`. */
export function candidateServers(names: readonly string[], ourName: string, max: number): string[] {
  return [...new Set(names)].filter((name) => name !== '' && name !== ourName).slice(0, max);
}

/** Tries the servers in order until `attempt` succeeds on one; bounded in servers and total time. */
export async function tryServers<T>(
  deps: RemoteOperationDeps,
  names: readonly string[],
  attempt: (server: string) => Promise<{ value: T; endpoint: string; httpStatus: number }>,
): Promise<{ value: T; serverName: string; attempts: ServerAttempt[] } | { value: undefined; attempts: ServerAttempt[] }> {
  const clock = deps.clock ?? Date.now;
  const started = clock();
  const attempts: ServerAttempt[] = [];
  for (const server of candidateServers(names, deps.signer.serverName, deps.maxServers ?? 10)) {
    if (clock() - started > (deps.totalTimeoutMs ?? 120_000)) break;
    const t0 = clock();
    try {
      const done = await attempt(server);
      attempts.push({ serverName: server, outcome: AttemptOutcome.SUCCEEDED, endpoint: done.endpoint, httpStatus: done.httpStatus, errcode: '', message: '', durationMs: clock() - t0 });
      return { value: done.value, serverName: server, attempts };
    } catch (err) {
      const failure = err instanceof AttemptFailure ? err.attempt : { outcome: AttemptOutcome.INVALID_RESPONSE, endpoint: '', httpStatus: 0, errcode: '', message: (err as Error).message };
      attempts.push({ serverName: server, ...failure, durationMs: clock() - t0 });
    }
  }
  return { value: undefined, attempts };
}

export async function performRemoteLeave(deps: RemoteOperationDeps, request: RemoteLeaveRequest): Promise<RemoteLeaveResult> {
  const clock = deps.clock ?? Date.now;
  const outcome = await tryServers(deps, request.serverNames, async (server) => {
    const made = await call(deps, 'make_leave', server, 'GET', `/_matrix/federation/v1/make_leave/${enc(request.roomId)}/${enc(request.userId)}`);
    if (made.status !== 200) throw refusal('make_leave', made);
    const answer = made.body;
    if (!isJsonObject(answer)) throw invalid('make_leave', made.status, 'the answer is not a JSON object');
    const { room_version: versionField, event: template } = answer as Record<string, unknown>;
    // `room_version` may be absent from old servers' answers: then it is the one we know, or 1.
    const versionId = typeof versionField === 'string' ? versionField : (request.roomVersion ?? '1');
    const version = findRoomVersion(versionId);
    if (version === undefined) throw invalid('make_leave', made.status, `unsupported room version ${versionId}`);
    if (request.roomVersion !== undefined && request.roomVersion !== '' && request.roomVersion !== versionId) {
      throw invalid('make_leave', made.status, `the template is for room version ${versionId}, not ${request.roomVersion}`);
    }
    const problem = checkMembershipTemplate(template, { roomId: request.roomId, userId: request.userId, membership: 'leave' });
    if (problem !== undefined) throw invalid('make_leave', made.status, problem);
    const signed = signMembershipTemplate(
      template as JsonObject,
      { version, originServerTs: clock(), ...(request.reason === undefined ? {} : { content: { reason: request.reason } }) },
      deps.signer,
    );
    const body = signed.event as unknown as JsonObject;
    const path = (v: 'v1' | 'v2'): string => `/_matrix/federation/${v}/send_leave/${enc(request.roomId)}/${enc(signed.eventId)}`;
    let sent = await call(deps, 'send_leave/v2', server, 'PUT', path('v2'), body);
    let endpoint = 'send_leave/v2';
    if (shouldFallBackToV1(sent)) {
      endpoint = 'send_leave/v1';
      sent = await call(deps, endpoint, server, 'PUT', path('v1'), body);
    }
    if (sent.status !== 200) throw refusal(endpoint, sent);
    return { value: { eventJson: encodeCanonicalJson(body), roomVersion: version.id }, endpoint, httpStatus: sent.status };
  });
  if (outcome.value === undefined) return { leaveEventJson: '', roomVersion: request.roomVersion ?? '', serverName: '', attempts: outcome.attempts };
  return { leaveEventJson: outcome.value.eventJson, roomVersion: outcome.value.roomVersion, serverName: outcome.serverName, attempts: outcome.attempts };
}
