export { decideLeave, decideForget, assertKickable, assertUnbannable, assertInvitable } from './decisions.js';
export type { MembershipRecord, RoomPresence, LeaveDecision, ForgetDecision } from './decisions.js';
export { planRoomCreation, presetFor } from './room-creation.js';
export type { RoomCreationRequest, RoomPreset, JoinRule, HistoryVisibility, ProtoEvent } from './room-creation.js';
export { allowedRoomIds, chooseJoinAuthoriser } from './restricted-join.js';
export type { RestrictedJoinInput, RoomMembershipAnswer } from './restricted-join.js';
