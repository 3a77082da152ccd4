// Pagination and sync tokens as clients see them: `s<position>`, where the
// position is one of the membership service's stream positions (a token P
// stands for the point just after the event at position P). Clients treat
// tokens as opaque; the prefix keeps them from looking like plain numbers
// and leaves room for other kinds later.
import { MatrixError } from '@membrane/matrix-errors';

const TOKEN = /^s(0|[1-9][0-9]{0,15})$/;

export function formatStreamToken(position: number): string {
  return `s${position}`;
}

/** The position of a token; 400 M_INVALID_PARAM naming `param` when it is not one of ours. */
export function parseStreamToken(value: string, param: string): number {
  const match = TOKEN.exec(value);
  const position = match === null ? Number.NaN : Number(match[1]);
  if (!Number.isSafeInteger(position)) throw MatrixError.invalidParam(`Query parameter "${param}" is not a valid token: ${value}`);
  return position;
}
