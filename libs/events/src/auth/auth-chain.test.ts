// A received auth chain is authorised event by event, in dependency order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthEvent } from './auth-types.js';
import { checkAuthChain } from './auth-chain.js';

const ROOM = '!r:a.test';
const A = '@a:a.test';
const B = '@b:b.test';

function ev(id: string, type: string, sender: string, stateKey: string | undefined, content: Record<string, unknown>, auth: string[]): AuthEvent {
  return { event_id: id, room_id: ROOM, type, sender, ...(stateKey === undefined ? {} : { state_key: stateKey }), content, auth_events: auth, prev_events: [] };
}

const create = ev('$c', 'm.room.create', A, '', { creator: A, room_version: '10' }, []);
// The creator's first join follows the create event directly (auth rule for the first join).
const creatorJoin = { ...ev('$j', 'm.room.member', A, A, { membership: 'join' }, ['$c']), prev_events: ['$c'] };
const powerLevels = ev('$p', 'm.room.power_levels', A, '', { users: { [A]: 100 }, users_default: 0 }, ['$c', '$j']);
const joinRules = ev('$jr', 'm.room.join_rules', A, '', { join_rule: 'public' }, ['$c', '$j', '$p']);
const bobJoin = ev('$b', 'm.room.member', B, B, { membership: 'join' }, ['$c', '$p', '$jr']);
const bobTakeover = ev('$evil', 'm.room.power_levels', B, '', { users: { [A]: 100, [B]: 100 } }, ['$c', '$p', '$b']);
const citesEvil = ev('$after', 'm.room.topic', B, '', { topic: 'x' }, ['$c', '$evil', '$b']);

describe('checkAuthChain', () => {
  it('allows a well-formed chain whatever order it arrives in', () => {
    const decisions = checkAuthChain([bobJoin, joinRules, powerLevels, creatorJoin, create], '10');
    assert.deepEqual(
      [...decisions].map(([id, d]) => [id, d.allowed]).sort(),
      [['$b', true], ['$c', true], ['$j', true], ['$jr', true], ['$p', true]],
    );
  });

  it('rejects an event the rules refuse, and every event that cites it', () => {
    const decisions = checkAuthChain([create, creatorJoin, powerLevels, joinRules, bobJoin, bobTakeover, citesEvil], '10');
    assert.equal(decisions.get('$evil')?.allowed, false);
    const after = decisions.get('$after');
    assert.equal(after?.allowed, false);
    assert.match(after?.allowed === false ? after.reason : '', /\$evil was rejected/);
    assert.equal(decisions.get('$b')?.allowed, true);
  });

  it('rejects an event that cites an event not in the chain', () => {
    const orphan = ev('$o', 'm.room.member', B, B, { membership: 'join' }, ['$c', '$p', '$missing']);
    const decisions = checkAuthChain([create, creatorJoin, powerLevels, orphan], '10');
    assert.equal(decisions.get('$o')?.allowed, false);
  });

  it('rejects events caught in a citation cycle instead of looping', () => {
    const x = ev('$x', 'm.room.topic', A, '', { topic: 'x' }, ['$c', '$y']);
    const y = ev('$y', 'm.room.topic', A, '', { topic: 'y' }, ['$c', '$x']);
    const decisions = checkAuthChain([create, x, y], '10');
    assert.equal(decisions.get('$x')?.allowed === false || decisions.get('$y')?.allowed === false, true);
    assert.equal(decisions.size, 3);
  });
});
