// `PUT /_matrix/federation/v1/send/{txnId}` (spec §"Transactions";
// MATRIX_FACTS §8): up to 50 PDUs and 100 EDUs. Each PDU gets its own result
// (`{}` handled, `{error}` refused); one bad PDU never fails the request. A
// transaction ID seen before from the same origin answers as it did the first
// time, without processing anything again. PDUs of rooms we are in go through
// the receipt checks (format, ACL, signatures, hash) and then, per room and in
// order, to the membership service. Of a room we know but are not in (one of
// our users is invited or knocking) only leaves and bans of our users pass,
// through the same checks: they may end that invite or knock, and the
// membership service decides whether the origin is believed. PDUs of rooms
// we do not hold are ignored.
// EDUs are accepted and not used: nothing in this project consumes them yet.
import { JsonParseError, encodeCanonicalJson, isJsonObject, parseJson } from '@membrane/canonical-json';
import type { JsonObject, JsonValue } from '@membrane/canonical-json';
import { applyContentHashCheck, computeEventId, serverNameOf, validatePdu, verifyEventSignaturesAsync } from '@membrane/events';
import type { Pdu } from '@membrane/events';
import { MatrixError } from '@membrane/matrix-errors';
import { InputKind } from '@membrane/proto';
import type { InboundMembershipDeps } from './inbound-membership.js';
import { lookupRoom } from './rooms.js';
import type { RoomSnapshot } from './rooms.js';
import { isServerAllowedByAcl } from './server-acl.js';

export const MAX_TRANSACTION_PDUS = 50;
export const MAX_TRANSACTION_EDUS = 100;

export interface TransactionRequest {
  readonly origin: string;
  readonly txnId: string;
  readonly body: JsonObject;
  readonly bodyText: string;
}

export type PduResult = Record<string, never> | { readonly error: string };

export interface TransactionResponse {
  readonly pdus: Record<string, PduResult>;
}

/** Answers of recent transactions by (origin, txnId); in flight ones are shared. Oldest forgotten first. */
export class TransactionReplayCache {
  readonly #entries = new Map<string, Promise<TransactionResponse>>();

  constructor(private readonly maxEntries = 10_000) {}

  /** The first answer for this key, computing it with `run` when there is none. A failed run is not remembered. */
  answer(origin: string, txnId: string, run: () => Promise<TransactionResponse>): Promise<TransactionResponse> {
    const key = `${origin}\u0000${txnId}`;
    const known = this.#entries.get(key);
    if (known !== undefined) return known;
    const running = run();
    this.#entries.set(key, running);
    running.catch(() => this.#entries.delete(key));
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return running;
  }
}

/**
 * Indexes of PDUs whose text breaks the canonical-JSON number rules (`1.0`,
 * `1e5`, `-0`, out-of-range integers), which JSON.parse hides. A strict
 * parse says whether there is any; if so, one pass over the tokens of the
 * body (valid JSON, parsed already) names the PDU of each, however many
 * there are and wherever they are: a bound on the search would let a PDU
 * hide behind enough numbers before it.
 */
export function pdusWithNonCanonicalNumbers(bodyText: string): Set<number> {
  const found = new Set<number>();
  try {
    parseJson(bodyText, { strictNumbers: true });
    return found;
  } catch (err) {
    if (!(err instanceof JsonParseError) || (err.code !== 'number-not-allowed' && err.code !== 'number-out-of-range')) return found;
  }
  // The containers around the current token: an object's current key (kept for the top level only), an array's index.
  const open: { array: boolean; key?: string; index: number }[] = [];
  let topLevelString: string | undefined;
  const token = /\s+|"[^"\\]*(?:\\.[^"\\]*)*"|[{}[\]:,]|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
  for (let match = token.exec(bodyText); match !== null; match = token.exec(bodyText)) {
    const text = match[0];
    const top = open.at(-1);
    switch (text[0]) {
      case '{':
      case '[':
        open.push({ array: text === '[', index: 0 });
        break;
      case '}':
      case ']':
        open.pop();
        break;
      case ',':
        if (top?.array === true) top.index++;
        break;
      case ':':
        if (top !== undefined && open.length === 1 && topLevelString !== undefined) top.key = JSON.parse(topLevelString) as string;
        break;
      case '"':
        topLevelString = open.length === 1 ? text : undefined;
        break;
      default:
        if (!/^-?\d/.test(text)) break;
        if (/^-?(?:0|[1-9]\d*)$/.test(text) && text !== '-0' && Number.isSafeInteger(Number(text))) break;
        if (open[0]?.array === false && open[0].key === 'pdus' && open[1]?.array === true) found.add(open[1].index);
    }
  }
  return found;
}

function listOf(body: JsonObject, key: string, required: boolean): JsonValue[] {
  const value = body[key];
  if (value === undefined && !required) return [];
  if (!Array.isArray(value)) throw MatrixError.badJson(`${key} must be a list`);
  return value;
}

interface CheckedPdu {
  readonly index: number;
  readonly eventId: string;
  readonly event: Pdu;
}

/**
 * Whether a PDU of a room we are not in may matter to us: a leave or ban of
 * one of our users, which can end their invite or knock. Everything else of
 * such a room is ignored before any signature is checked.
 */
export function mayEndLocalMembership(json: JsonObject, ourServerName: string): boolean {
  const stateKey = json['state_key'];
  const content = json['content'];
  if (json['type'] !== 'm.room.member' || typeof stateKey !== 'string' || !isJsonObject(content)) return false;
  return (content['membership'] === 'leave' || content['membership'] === 'ban') && serverNameOf(stateKey) === ourServerName;
}

/** Receipt checks of one PDU of a room we hold: format, ACL, signatures, hash. */
async function checkPdu(deps: InboundMembershipDeps, origin: string, room: RoomSnapshot, json: JsonObject, nonCanonical: boolean): Promise<{ event: Pdu } | { error: string }> {
  const { version } = room;
  if (nonCanonical && version.strictCanonicalJson) return { error: `Not canonical JSON for room version ${version.id}` };
  const validated = validatePdu(json, version);
  if (!validated.ok) return { error: validated.error };
  if (room.acl !== undefined && !isServerAllowedByAcl(origin, room.acl)) return { error: 'Server is banned from room' };
  const signatures = await verifyEventSignaturesAsync(validated.event, version, (server, keyId, validAtTs) => deps.keys.keyForEvent(server, keyId, validAtTs));
  if (!signatures.ok) return { error: `Signature check failed: ${signatures.error}` };
  return { event: applyContentHashCheck(validated.event, version).event };
}

/** Every PDU of one room, checked, then input in order in one call. */
async function processRoom(deps: InboundMembershipDeps, origin: string, roomId: string, items: readonly { index: number; json: JsonObject }[], nonCanonical: ReadonlySet<number>, results: Record<string, PduResult>): Promise<void> {
  const room = await lookupRoom(deps.membership, roomId, deps.serverName);
  // PDUs of rooms we do not hold cannot even be given an ID reliably: ignored, as Synapse does.
  if (room === undefined) return;
  const wanted = room.resident ? items : items.filter(({ json }) => mayEndLocalMembership(json, deps.serverName));
  const checked: CheckedPdu[] = [];
  for (const { index, json } of wanted) {
    let eventId: string;
    try {
      eventId = computeEventId(json as unknown as Pdu, room.version);
    } catch {
      continue;
    }
    const outcome = await checkPdu(deps, origin, room, json, nonCanonical.has(index));
    if ('error' in outcome) results[eventId] = { error: outcome.error };
    else checked.push({ index, eventId, event: outcome.event });
  }
  if (checked.length === 0) return;
  const { results: inputResults } = await deps.membership.inputEvents({
    origin,
    kind: InputKind.TRANSACTION,
    events: checked.map(({ event }) => ({ eventJson: encodeCanonicalJson(event), roomVersion: room.version.id, strippedStateJson: [] })),
  });
  checked.forEach(({ eventId }, position) => {
    const result = inputResults[position];
    results[eventId] = result?.accepted === true ? {} : { error: result?.error?.message ?? 'The event was not accepted' };
  });
}

export async function receiveTransaction(deps: InboundMembershipDeps, request: TransactionRequest): Promise<TransactionResponse> {
  const pdus = listOf(request.body, 'pdus', true);
  const edus = listOf(request.body, 'edus', false);
  if (pdus.length > MAX_TRANSACTION_PDUS) throw MatrixError.badJson(`A transaction holds at most ${MAX_TRANSACTION_PDUS} PDUs, this one ${pdus.length}`);
  if (edus.length > MAX_TRANSACTION_EDUS) throw MatrixError.badJson(`A transaction holds at most ${MAX_TRANSACTION_EDUS} EDUs, this one ${edus.length}`);
  const nonCanonical = pdusWithNonCanonicalNumbers(request.bodyText);
  const byRoom = new Map<string, { index: number; json: JsonObject }[]>();
  pdus.forEach((json, index) => {
    if (!isJsonObject(json) || typeof json['room_id'] !== 'string') return;
    const list = byRoom.get(json['room_id']) ?? [];
    list.push({ index, json });
    byRoom.set(json['room_id'], list);
  });
  const results: Record<string, PduResult> = {};
  await Promise.all([...byRoom].map(([roomId, items]) => processRoom(deps, request.origin, roomId, items, nonCanonical, results)));
  return { pdus: results };
}
