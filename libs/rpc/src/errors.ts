// Matrix errors over gRPC. A MatrixError crosses the wire as a gRPC status
// (code chosen from the HTTP status, details = the message) plus metadata that
// carries what the status code cannot: the exact HTTP status, the errcode and
// the extra fields. The client side rebuilds the identical MatrixError.
import * as grpc from '@grpc/grpc-js';
import { ErrCode, MatrixError, isMatrixError } from '@membrane/matrix-errors';
import type { MatrixErrorExtra } from '@membrane/matrix-errors';

export const MATRIX_STATUS_METADATA_KEY = 'matrix-status';
export const MATRIX_ERRCODE_METADATA_KEY = 'matrix-errcode';
/** JSON object of the extra fields, UTF-8 (a `-bin` key: sent base64 by gRPC). */
export const MATRIX_EXTRA_METADATA_KEY = 'matrix-extra-bin';

/** What a caller sees for errors that must not leak details (stack traces, addresses). */
export const INTERNAL_ERROR_MESSAGE = 'Internal server error';

const HTTP_TO_GRPC: ReadonlyMap<number, grpc.status> = new Map([
  [400, grpc.status.INVALID_ARGUMENT],
  [401, grpc.status.UNAUTHENTICATED],
  [403, grpc.status.PERMISSION_DENIED],
  [404, grpc.status.NOT_FOUND],
  [405, grpc.status.UNIMPLEMENTED],
  [408, grpc.status.DEADLINE_EXCEEDED],
  [409, grpc.status.ALREADY_EXISTS],
  [413, grpc.status.OUT_OF_RANGE],
  [429, grpc.status.RESOURCE_EXHAUSTED],
  [500, grpc.status.INTERNAL],
  [501, grpc.status.UNIMPLEMENTED],
  [502, grpc.status.UNAVAILABLE],
  [503, grpc.status.UNAVAILABLE],
  [504, grpc.status.DEADLINE_EXCEEDED],
]);

/** The gRPC status code for an HTTP status; the exact HTTP status travels in metadata anyway. */
export function grpcCodeForHttpStatus(httpStatus: number): grpc.status {
  const known = HTTP_TO_GRPC.get(httpStatus);
  if (known !== undefined) return known;
  if (httpStatus >= 400 && httpStatus < 500) return grpc.status.FAILED_PRECONDITION;
  return grpc.status.INTERNAL;
}

function serviceError(code: grpc.status, details: string, metadata: grpc.Metadata): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata });
}

// gRPC metadata values must be printable ASCII; errcodes always are in practice.
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * The gRPC status a handler answers for a thrown value. A MatrixError keeps
 * every field; anything else becomes INTERNAL with a generic message (the
 * caller never sees a stack trace or an internal message).
 */
export function toGrpcStatus(err: unknown): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  if (!isMatrixError(err)) return serviceError(grpc.status.INTERNAL, INTERNAL_ERROR_MESSAGE, metadata);
  metadata.set(MATRIX_STATUS_METADATA_KEY, String(err.status));
  metadata.set(MATRIX_ERRCODE_METADATA_KEY, PRINTABLE_ASCII.test(err.errcode) ? err.errcode : ErrCode.UNKNOWN);
  if (Object.keys(err.extra).length > 0) {
    metadata.set(MATRIX_EXTRA_METADATA_KEY, Buffer.from(JSON.stringify(err.extra), 'utf8'));
  }
  return serviceError(grpcCodeForHttpStatus(err.status), err.message, metadata);
}

/** A gRPC status as seen by a client (duck-typed: it may come from another grpc-js copy). */
export function isGrpcServiceError(value: unknown): value is grpc.ServiceError {
  if (!(value instanceof Error)) return false;
  const record = value as unknown as Record<string, unknown>;
  return typeof record['code'] === 'number' && typeof record['details'] === 'string';
}

function firstString(metadata: grpc.Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

function parseHttpStatus(text: string | undefined): number | undefined {
  if (text === undefined || !/^[1-5][0-9]{2}$/.test(text)) return undefined;
  return Number(text);
}

function parseExtra(metadata: grpc.Metadata): MatrixErrorExtra {
  const raw = metadata.get(MATRIX_EXTRA_METADATA_KEY)[0];
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : raw);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  const extra: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      extra[key] = value;
    }
  }
  return extra;
}

/** Errors that carry no Matrix metadata: transport failures and foreign servers. */
function matrixErrorForBareStatus(code: number): MatrixError {
  switch (code) {
    case grpc.status.DEADLINE_EXCEEDED:
      return new MatrixError(504, ErrCode.UNKNOWN, 'The request timed out');
    case grpc.status.UNAVAILABLE:
      return new MatrixError(503, ErrCode.UNKNOWN, 'Service temporarily unavailable');
    case grpc.status.CANCELLED:
      return new MatrixError(503, ErrCode.UNKNOWN, 'The request was cancelled');
    case grpc.status.UNIMPLEMENTED:
      return new MatrixError(501, ErrCode.UNRECOGNIZED, 'Not implemented');
    default:
      return new MatrixError(500, ErrCode.UNKNOWN, INTERNAL_ERROR_MESSAGE);
  }
}

/**
 * The MatrixError for an error a gRPC call failed with. A status sent by
 * `toGrpcStatus` gives back the identical error; deadline and connection
 * failures become 504/503 M_UNKNOWN; anything else 500 M_UNKNOWN. The original
 * error is kept as `cause` for logs, never in the message.
 */
export function fromGrpcError(err: unknown): MatrixError {
  if (isMatrixError(err)) return err;
  let result: MatrixError;
  if (isGrpcServiceError(err)) {
    const metadata = err.metadata instanceof grpc.Metadata ? err.metadata : new grpc.Metadata();
    const httpStatus = parseHttpStatus(firstString(metadata, MATRIX_STATUS_METADATA_KEY));
    const errcode = firstString(metadata, MATRIX_ERRCODE_METADATA_KEY);
    result =
      httpStatus !== undefined && errcode !== undefined && errcode !== ''
        ? new MatrixError(httpStatus, errcode, err.details, parseExtra(metadata))
        : matrixErrorForBareStatus(err.code);
  } else {
    result = new MatrixError(500, ErrCode.UNKNOWN, INTERNAL_ERROR_MESSAGE);
  }
  // Like a native `cause`: non-enumerable, so the error compares and serialises as before.
  Object.defineProperty(result, 'cause', { value: err, enumerable: false, writable: true, configurable: true });
  return result;
}
