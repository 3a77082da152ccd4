// Public API of the authorisation rules.
export { authStateFromEvents } from './auth-types.js';
export type {
  AuthCandidate,
  AuthDecision,
  AuthEvent,
  AuthEventReference,
  AuthState,
  AuthVerifiers,
  RoomVersionLike,
} from './auth-types.js';
export { checkEventAuth } from './check-event-auth.js';
export { checkAuthEventsSanity } from './auth-events-sanity.js';
export type { CitedAuthEvent } from './auth-events-sanity.js';
export { selectAuthEvents, stateNeededForAuth } from './selection.js';
export type { AuthSelectionInput, StatePair } from './selection.js';
export {
  DEFAULT_POWER_LEVELS,
  POWER_LEVEL_NAMES,
  namedLevel,
  parsePowerLevels,
  powerLevelOf,
  requiredPowerLevel,
} from './power-levels.js';
export type { ParsedPowerLevels, PowerLevelName, PowerLevelsParseResult } from './power-levels.js';
export { joinRuleIn, membershipIn } from './member-rules.js';
export { describeMembershipChange } from './membership-change.js';
export type { MembershipChangeKind, MembershipTransition } from './membership-change.js';
export { checkAuthChain } from './auth-chain.js';
