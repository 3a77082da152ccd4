export * from './room-versions.js';
export type { EventHashes, EventSignatures, EventReference, EventLike, Pdu, Membership, StateKeyTuple } from './types.js';
export { MEMBERSHIPS } from './types.js';
export { parseServerName, isValidServerName, parseUserId, serverNameOf } from './identifiers.js';
export type { ServerName, UserId } from './identifiers.js';
export { redactEvent } from './redaction.js';
export { computeContentHash, computeReferenceHash, checkContentHash } from './hashes.js';
export { computeEventId, roomIdFromCreateEventId, createEventIdFromRoomId, EventIdError } from './event-id.js';
export { hashAndSignEvent, verifyEventSignatures, verifyEventSignaturesAsync, applyContentHashCheck } from './event-signing.js';
export type {
  SignedEvent,
  VerifyKeyLookup,
  AsyncVerifyKeyLookup,
  SignatureFailureReason,
  SignatureRole,
  SignatureCheckResult,
  ContentHashOutcome,
} from './event-signing.js';
export {
  buildPdu,
  buildMembershipTemplate,
  checkMembershipTemplate,
  signMembershipTemplate,
  depthAfter,
  formatEventReferences,
  generateLegacyEventId,
  PduBuildError,
} from './builder.js';
export type {
  ProtoEvent,
  CitedEvent,
  PrevEvent,
  PduSigner,
  BuildPduInput,
  BuiltPdu,
  MembershipTemplateInput,
  TemplateExpectation,
  SignTemplateInput,
} from './builder.js';
export { validatePdu } from './validation.js';
export type { PduErrcode, PduValidationResult } from './validation.js';
export { MAX_PDU_BYTES, MAX_IDENTIFIER_BYTES, MAX_PREV_EVENTS, MAX_AUTH_EVENTS } from './limits.js';
export * from './auth/index.js';
export { STRIPPED_STATE_TYPES } from './stripped-state.js';
