import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@membrane/canonical-json';
import { getRoomVersion, hashAndSignEvent, verifyEventSignatures } from '@membrane/events';
import type { Pdu } from '@membrane/events';
import { MatrixError } from '@membrane/matrix-errors';
import { generateSigningKey } from '@membrane/signing';
import { addOwnSignature, checkEventFormat, checkMembershipShape, checkSenderServer, inputRejection, parseStrictly } from './inbound-membership.js';

const v11 = getRoomVersion('11');
const v5 = getRoomVersion('5');
const remoteKey = generateSigningKey('r1');
const ourKey = generateSigningKey('o1');

function leaveEvent(overrides: JsonObject = {}): Pdu {
  const event = {
    type: 'm.room.member',
    room_id: '!room:hs.test',
    sender: '@bob:remote.test',
    state_key: '@bob:remote.test',
    content: { membership: 'leave' },
    depth: 5,
    prev_events: ['$prev'],
    auth_events: ['$create', '$pl', '$member'],
    origin_server_ts: 1_700_000_000_000,
    ...overrides,
  };
  return hashAndSignEvent(event, 'remote.test', remoteKey, v11) as unknown as Pdu;
}

function errorOf(action: () => unknown): MatrixError {
  try {
    action();
  } catch (err) {
    assert.ok(err instanceof MatrixError);
    return err;
  }
  assert.fail('expected a MatrixError');
}

describe('inbound membership checks', () => {
  it('format: strict numbers from room version 6, lenient before; PDU fields; size', () => {
    const event = leaveEvent({ content: { membership: 'leave', n: 1 } });
    const text = JSON.stringify(event).replace('"n":1', '"n":1.0');
    const parsed = JSON.parse(text) as JsonObject;
    const strictly = () => parseStrictly(text, 'The event');
    const strict = errorOf(() => checkEventFormat(parsed, strictly, v11));
    assert.deepEqual([strict.status, strict.errcode], [400, 'M_BAD_JSON']);
    assert.equal(checkEventFormat(parsed, strictly, v5).type, 'm.room.member', 'v5 reads 1.0 as 1');
    const missing = { ...(event as unknown as JsonObject) };
    delete missing['prev_events'];
    assert.equal(errorOf(() => checkEventFormat(missing, () => missing, v11)).errcode, 'M_BAD_JSON');
    const huge = leaveEvent({ content: { membership: 'leave', padding: 'x'.repeat(66_000) } }) as unknown as JsonObject;
    const tooLarge = errorOf(() => checkEventFormat(huge, () => huge, v11));
    assert.deepEqual([tooLarge.status, tooLarge.errcode], [413, 'M_TOO_LARGE']);
  });

  it('shape: type, state_key, membership and sender = state_key, each with its own message', () => {
    assert.doesNotThrow(() => checkMembershipShape(leaveEvent(), 'leave'));
    const withoutStateKey = { ...leaveEvent() };
    delete withoutStateKey.state_key;
    assert.match(errorOf(() => checkMembershipShape(withoutStateKey, 'leave')).message, /no state_key/);
    const cases: [JsonObject, RegExp][] = [
      [{ type: 'm.room.message' }, /Not an m\.room\.member event/],
      [{ content: { membership: 'join' } }, /Not a leave event/],
      [{ content: {} }, /Not a leave event/],
      [{ sender: '@carol:remote.test' }, /sender and state_key/],
    ];
    for (const [overrides, message] of cases) {
      const event = { ...leaveEvent(), ...overrides } as Pdu;
      const error = errorOf(() => checkMembershipShape(event, 'leave'));
      assert.deepEqual([error.status, error.errcode], [400, 'M_BAD_JSON']);
      assert.match(error.message, message);
    }
  });

  it('origin: the sender must belong to the requesting server (403)', () => {
    assert.doesNotThrow(() => checkSenderServer(leaveEvent(), 'remote.test', 'leave'));
    const error = errorOf(() => checkSenderServer(leaveEvent(), 'other.test', 'leave'));
    assert.deepEqual([error.status, error.errcode], [403, 'M_FORBIDDEN']);
  });

  it('co-signing adds our signature over the redacted event and keeps hashes and the sender signature', () => {
    const event = leaveEvent({ content: { membership: 'join', join_authorised_via_users_server: '@alice:hs.test' } });
    const signed = addOwnSignature(event, v11, 'hs.test', ourKey);
    assert.deepEqual(signed.hashes, event.hashes);
    assert.deepEqual(signed.signatures?.['remote.test'], event.signatures?.['remote.test']);
    const keys = (server: string, keyId: string): Uint8Array | undefined =>
      server === 'hs.test' && keyId === ourKey.keyId ? ourKey.publicKey : server === 'remote.test' && keyId === remoteKey.keyId ? remoteKey.publicKey : undefined;
    assert.equal(verifyEventSignatures(event, v11, keys).ok, false, 'unsigned by the authorising server');
    assert.equal(verifyEventSignatures(signed, v11, keys).ok, true);
  });

  it('a refused input becomes the Matrix error the membership service gave, extra fields included', () => {
    const error = inputRejection({ eventId: '$e', accepted: false, softFailed: false, error: { httpStatus: 400, errcode: 'M_X', message: 'no', extraJson: '{"room_version":"9"}' } });
    assert.deepEqual([error.status, error.errcode, error.message, error.extra], [400, 'M_X', 'no', { room_version: '9' }]);
    assert.deepEqual([inputRejection(undefined).status, inputRejection(undefined).errcode], [403, 'M_FORBIDDEN']);
  });
});
