// Every failure becomes a standard Matrix error body. MatrixErrors (ours and
// those rebuilt from the membership service's gRPC status) pass through as
// they are; errors of the HTTP layer get their Matrix code; anything else is
// a 500 without details (the details go to the log).
import { ErrCode, MatrixError, isMatrixError } from '@membrane/matrix-errors';
import { retryAfterSeconds } from './rate-limiter.js';

export interface ErrorResponse {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;
  /** True when the error was not expected: log it with its stack. */
  readonly unexpected: boolean;
}

/** Errors of body-parser / http-errors carry a status and a `type`. */
interface HttpLayerError {
  readonly status?: unknown;
  readonly statusCode?: unknown;
  readonly type?: unknown;
  readonly expose?: unknown;
  readonly message?: unknown;
}

function matrixErrorOfHttpLayer(err: unknown): MatrixError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as HttpLayerError;
  // Express decodes path parameters once; bad percent-encoding fails there.
  if (err instanceof URIError) return MatrixError.invalidParam('The request path has invalid percent-encoding');
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined || status < 400 || status > 499) return undefined;
  if (e.type === 'entity.too.large' || status === 413) return MatrixError.tooLarge('The request body is too large');
  if (e.type === 'encoding.unsupported') return new MatrixError(415, ErrCode.UNKNOWN, 'Unsupported Content-Encoding');
  return new MatrixError(status, ErrCode.UNKNOWN, e.expose === true && typeof e.message === 'string' ? e.message : 'Bad request');
}

export function errorResponse(err: unknown): ErrorResponse {
  const matrix = isMatrixError(err) ? err : matrixErrorOfHttpLayer(err);
  if (matrix === undefined) {
    return { status: 500, body: { errcode: ErrCode.UNKNOWN, error: 'Internal server error' }, headers: {}, unexpected: true };
  }
  const retryAfterMs = matrix.extra['retry_after_ms'];
  const headers: Record<string, string> =
    matrix.status === 429 && typeof retryAfterMs === 'number' ? { 'Retry-After': String(retryAfterSeconds(retryAfterMs)) } : {};
  return { status: matrix.status, body: matrix.toJSON(), headers, unexpected: false };
}
