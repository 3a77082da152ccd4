import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Membership } from '@membrane/events';
import { historyVisibilityOf, isEventVisible, readableUpTo } from './history-visibility.js';
import type { HistoryVisibility, VisibilityQuestion } from './history-visibility.js';

function question(visibility: HistoryVisibility, membershipAtEvent: Membership | undefined, extra: Partial<VisibilityQuestion> = {}): VisibilityQuestion {
  return { visibility, membershipAtEvent, isViewersOwnMembership: false, viewerIsMember: true, ...extra };
}

describe('historyVisibilityOf', () => {
  it('reads the four spec values', () => {
    for (const v of ['world_readable', 'shared', 'invited', 'joined'] as const) assert.equal(historyVisibilityOf({ history_visibility: v }), v);
  });
  it('treats a missing or unknown value as shared', () => {
    assert.equal(historyVisibilityOf(undefined), 'shared');
    assert.equal(historyVisibilityOf({}), 'shared');
    assert.equal(historyVisibilityOf({ history_visibility: 'everyone' }), 'shared');
    assert.equal(historyVisibilityOf({ history_visibility: 3 }), 'shared');
  });
});

describe('isEventVisible', () => {
  it('shows world_readable events to anyone, members or not', () => {
    assert.equal(isEventVisible(question('world_readable', undefined, { viewerIsMember: false })), true);
  });

  it('shows events sent while the viewer was joined, whatever the visibility', () => {
    for (const v of ['shared', 'invited', 'joined'] as const) assert.equal(isEventVisible(question(v, 'join')), true);
  });

  it('under shared, shows earlier history to members but not to peekers', () => {
    assert.equal(isEventVisible(question('shared', undefined)), true);
    assert.equal(isEventVisible(question('shared', 'leave')), true);
    assert.equal(isEventVisible(question('shared', undefined, { viewerIsMember: false })), false);
  });

  it('under invited, shows events from the invite on, not before it', () => {
    assert.equal(isEventVisible(question('invited', 'invite')), true);
    assert.equal(isEventVisible(question('invited', undefined)), false);
    assert.equal(isEventVisible(question('invited', 'leave')), false);
  });

  it('under joined, hides everything sent while the viewer was not joined', () => {
    for (const m of [undefined, 'invite', 'leave', 'knock', 'ban'] as const) assert.equal(isEventVisible(question('joined', m)), false);
  });

  it('always shows the viewer their own membership events, even under joined', () => {
    assert.equal(isEventVisible(question('joined', 'join', { isViewersOwnMembership: true })), true);
    assert.equal(isEventVisible(question('joined', 'invite', { isViewersOwnMembership: true })), true);
    assert.equal(isEventVisible(question('joined', undefined, { isViewersOwnMembership: true, viewerIsMember: false })), true);
  });

  it('shows a history_visibility change if either the old or the new setting allows it', () => {
    assert.equal(isEventVisible(question('joined', undefined, { visibilityAfter: 'world_readable', viewerIsMember: false })), true);
    assert.equal(isEventVisible(question('world_readable', undefined, { visibilityAfter: 'joined', viewerIsMember: false })), true);
    assert.equal(isEventVisible(question('joined', undefined, { visibilityAfter: 'invited' })), false);
  });
});

describe('readableUpTo', () => {
  it('bounds reads at the leave or ban of a user who is out of the room', () => {
    assert.equal(readableUpTo({ membership: 'leave', position: 42 }), 42);
    assert.equal(readableUpTo({ membership: 'ban', position: 7 }), 7);
  });
  it('does not bound members, invitees, knockers or strangers', () => {
    assert.equal(readableUpTo({ membership: 'join', position: 42 }), null);
    assert.equal(readableUpTo({ membership: 'invite', position: 42 }), null);
    assert.equal(readableUpTo({ membership: 'knock', position: 42 }), null);
    assert.equal(readableUpTo(undefined), null);
  });
});
