import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import {
  ClaimOutboxResponse,
  Membership,
  MembershipServiceClient,
  MembershipServiceService,
  PerformLeaveRequest,
  PerformRemoteLeaveRequest,
  RemoteLeaveKind,
  RemoteMembershipServiceService,
  WatchRoomEventsResponse,
  federationV1,
  fileDescriptorSet,
  membershipV1,
} from './index.js';

describe('generated messages', () => {
  it('round-trip through the wire format, int64 fields as exact JS numbers', () => {
    const message: WatchRoomEventsResponse = {
      position: Number.MAX_SAFE_INTEGER,
      roomId: '!r:example.org',
      kind: membershipV1.RoomOutputKind.NEW_EVENT,
      eventId: '$e',
      eventJson: '{"content":{"membership":"leave"},"type":"m.room.member"}',
      roomVersion: '12',
      membershipChange: { userId: '@u:x', previous: Membership.INVITE, current: Membership.LEAVE, sender: '@u:x', outOfBand: true },
      userId: '',
    };
    assert.deepEqual(WatchRoomEventsResponse.decode(WatchRoomEventsResponse.encode(message).finish()), message);
  });

  it('refuses an int64 beyond 2^53 instead of losing precision', () => {
    // OutboxEntry.id (field 1) inside ClaimOutboxResponse.entries (field 1).
    const entry = new BinaryWriter().uint32(8).int64('9007199254740993').finish();
    const bytes = new BinaryWriter().uint32(10).bytes(entry).finish();
    assert.throws(() => ClaimOutboxResponse.decode(bytes), /MAX_SAFE_INTEGER/);
  });

  it('keeps an absent optional field apart from an empty one', () => {
    const absent = PerformLeaveRequest.decode(PerformLeaveRequest.encode({ roomId: '!r:x', userId: '@u:x' }).finish());
    const empty = PerformLeaveRequest.decode(PerformLeaveRequest.encode({ roomId: '!r:x', userId: '@u:x', reason: '' }).finish());
    assert.equal(absent.reason, undefined);
    assert.equal(empty.reason, '');
  });

  it('fills defaults with create() and exposes enums without their prefix', () => {
    assert.deepEqual(PerformRemoteLeaveRequest.create({ roomId: '!r:x', kind: RemoteLeaveKind.REJECT_INVITE }), {
      roomId: '!r:x',
      userId: '',
      serverNames: [],
      reason: undefined,
      roomVersion: undefined,
      kind: 2,
    });
    assert.equal(federationV1.AttemptOutcome.UNREACHABLE, 3);
  });
});

describe('generated services', () => {
  it('name their gRPC paths after the proto package and service', () => {
    assert.equal(MembershipServiceService.performLeave.path, '/matrix.membership.v1.MembershipService/PerformLeave');
    assert.equal(MembershipServiceService.watchRoomEvents.responseStream, true);
    assert.equal(RemoteMembershipServiceService.performRemoteLeave.path, '/matrix.federation.v1.RemoteMembershipService/PerformRemoteLeave');
    assert.equal(MembershipServiceClient.service, MembershipServiceService);
  });

  it('ship a descriptor set describing every contract', () => {
    const set = fromBinary(FileDescriptorSetSchema, fileDescriptorSet);
    const services = set.file.flatMap((file) => file.service.map((service) => `${file.package}.${service.name}`)).sort();
    assert.deepEqual(services, ['matrix.federation.v1.RemoteMembershipService', 'matrix.membership.v1.MembershipService']);
    const membership = set.file.find((file) => file.package === 'matrix.membership.v1');
    const methods = membership?.service[0]?.method.map((method) => method.name) ?? [];
    assert.equal(methods.length, Object.keys(MembershipServiceService).length);
  });
});
