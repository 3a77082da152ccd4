import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { remoteLeaveOutcome } from './remote-membership-service.js';

describe('remoteLeaveOutcome', () => {
  it('tells a leave through v2, through the v1 fallback, and one no server took', () => {
    assert.equal(remoteLeaveOutcome({ leaveEventJson: '{}', attempts: [{ endpoint: 'make_leave' }, { endpoint: 'send_leave/v2' }] }), 'accepted_v2');
    assert.equal(remoteLeaveOutcome({ leaveEventJson: '{}', attempts: [{ endpoint: 'send_leave/v2' }, { endpoint: 'send_leave/v1' }] }), 'accepted_v1');
    assert.equal(remoteLeaveOutcome({ leaveEventJson: '', attempts: [{ endpoint: 'send_leave/v1' }] }), 'failed');
  });
});
