// One error type for every Matrix error the project produces. It carries
// what a client or peer sees (HTTP status, errcode, message, extra fields)
// so it can cross gRPC and be rebuilt exactly at a gateway.

/** Error codes used by the project (spec: client-server API "Standard error response"). */
export const ErrCode = {
  FORBIDDEN: 'M_FORBIDDEN',
  UNKNOWN_TOKEN: 'M_UNKNOWN_TOKEN',
  MISSING_TOKEN: 'M_MISSING_TOKEN',
  UNAUTHORIZED: 'M_UNAUTHORIZED',
  BAD_JSON: 'M_BAD_JSON',
  NOT_JSON: 'M_NOT_JSON',
  NOT_FOUND: 'M_NOT_FOUND',
  LIMIT_EXCEEDED: 'M_LIMIT_EXCEEDED',
  UNRECOGNIZED: 'M_UNRECOGNIZED',
  UNKNOWN: 'M_UNKNOWN',
  INVALID_PARAM: 'M_INVALID_PARAM',
  MISSING_PARAM: 'M_MISSING_PARAM',
  TOO_LARGE: 'M_TOO_LARGE',
  UNSUPPORTED_ROOM_VERSION: 'M_UNSUPPORTED_ROOM_VERSION',
  INCOMPATIBLE_ROOM_VERSION: 'M_INCOMPATIBLE_ROOM_VERSION',
  USER_IN_USE: 'M_USER_IN_USE',
  INVALID_USERNAME: 'M_INVALID_USERNAME',
  ROOM_IN_USE: 'M_ROOM_IN_USE',
  BAD_STATE: 'M_BAD_STATE',
  GUEST_ACCESS_FORBIDDEN: 'M_GUEST_ACCESS_FORBIDDEN',
  SERVER_NOT_TRUSTED: 'M_SERVER_NOT_TRUSTED',
} as const;

export type KnownErrCode = (typeof ErrCode)[keyof typeof ErrCode];

/** Extra fields that travel beside errcode/error, e.g. `retry_after_ms`, `room_version`. */
export type MatrixErrorExtra = Readonly<Record<string, string | number | boolean | null>>;

export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly extra: MatrixErrorExtra = {},
  ) {
    super(message);
    this.name = 'MatrixError';
  }

  /** The JSON body a client or peer receives. Extra fields never override errcode/error. */
  toJSON(): Record<string, string | number | boolean | null> {
    return { ...this.extra, errcode: this.errcode, error: this.message };
  }

  static forbidden(message: string, extra?: MatrixErrorExtra): MatrixError {
    return new MatrixError(403, ErrCode.FORBIDDEN, message, extra);
  }
  static notFound(message: string, extra?: MatrixErrorExtra): MatrixError {
    return new MatrixError(404, ErrCode.NOT_FOUND, message, extra);
  }
  static badJson(message: string, extra?: MatrixErrorExtra): MatrixError {
    return new MatrixError(400, ErrCode.BAD_JSON, message, extra);
  }
  static notJson(message: string): MatrixError {
    return new MatrixError(400, ErrCode.NOT_JSON, message);
  }
  static invalidParam(message: string, extra?: MatrixErrorExtra): MatrixError {
    return new MatrixError(400, ErrCode.INVALID_PARAM, message, extra);
  }
  static missingParam(message: string): MatrixError {
    return new MatrixError(400, ErrCode.MISSING_PARAM, message);
  }
  static unknown(message: string, status = 400): MatrixError {
    return new MatrixError(status, ErrCode.UNKNOWN, message);
  }
  static unauthorized(message: string): MatrixError {
    return new MatrixError(401, ErrCode.UNAUTHORIZED, message);
  }
  static unrecognized(message = 'Unrecognized request', status = 404): MatrixError {
    return new MatrixError(status, ErrCode.UNRECOGNIZED, message);
  }
  static tooLarge(message: string): MatrixError {
    return new MatrixError(413, ErrCode.TOO_LARGE, message);
  }
  static limitExceeded(retryAfterMs: number): MatrixError {
    return new MatrixError(429, ErrCode.LIMIT_EXCEEDED, 'Too many requests', {
      retry_after_ms: retryAfterMs,
    });
  }
  static unsupportedRoomVersion(roomVersion: string): MatrixError {
    return new MatrixError(400, ErrCode.UNSUPPORTED_ROOM_VERSION, `Room version ${roomVersion} is not supported`, {
      room_version: roomVersion,
    });
  }
}

export function isMatrixError(value: unknown): value is MatrixError {
  return value instanceof MatrixError;
}

/**
 * Reads a Matrix error body (`{"errcode","error",...}`) as returned by a peer.
 * Returns undefined when the body is not a Matrix error, which callers use to
 * tell "the endpoint is unknown" (a bare 404) from "the request was refused".
 */
export function matrixErrorFromBody(status: number, body: unknown): MatrixError | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const record = body as Record<string, unknown>;
  const errcode = record['errcode'];
  if (typeof errcode !== 'string') return undefined;
  const message = typeof record['error'] === 'string' ? record['error'] : '';
  const extra: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of Object.entries(record)) {
    if (key === 'errcode' || key === 'error') continue;
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) {
      extra[key] = value as string | number | boolean | null;
    }
  }
  return new MatrixError(status, errcode, message, extra);
}
