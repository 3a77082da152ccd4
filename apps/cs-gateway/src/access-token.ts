// Where a client puts its access token: `Authorization: Bearer <token>` or,
// for older clients, `?access_token=<token>`. Using both at once is refused,
// as Synapse does, so that a proxy cannot smuggle a second identity.
import { ErrCode, MatrixError } from '@membrane/matrix-errors';

export function missingToken(message = 'Missing access token.'): MatrixError {
  return new MatrixError(401, ErrCode.MISSING_TOKEN, message);
}

export function unknownToken(message = 'Unrecognised access token.'): MatrixError {
  return new MatrixError(401, ErrCode.UNKNOWN_TOKEN, message, { soft_logout: false });
}

/** The access token of a request; 401 M_MISSING_TOKEN when there is none or it is malformed. */
export function extractAccessToken(authorization: string | undefined, queryToken: unknown): string {
  const fromQuery = Array.isArray(queryToken) ? queryToken[0] : queryToken;
  if (authorization !== undefined) {
    if (queryToken !== undefined) throw missingToken('Mixing Authorization headers and access_token query parameters.');
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (match?.[1] === undefined) throw missingToken('Invalid Authorization header.');
    return match[1];
  }
  if (typeof fromQuery !== 'string' || fromQuery === '') throw missingToken();
  return fromQuery;
}
