// The `m.room.member` branch of the auth rules (rule 5 in v1–v5, 4 in v6–v11,
// 5 in v12). The rule numbers in comments follow the v10 text.
import type { RoomVersion } from '../room-versions.js';
import { ALLOW, deny, hasOwn, isRecord, referencedEventId } from './auth-types.js';
import type { AuthCandidate, AuthDecision, AuthEvent, AuthState, AuthVerifiers } from './auth-types.js';
import { domainOf } from './ids.js';
import { CREATE_EVENT_TYPE, namedLevel, powerLevelOf, powerLevelsFromState, roomCreatorOf } from './power-levels.js';
import type { ParsedPowerLevels } from './power-levels.js';
import { AUTHORISING_USER_KEY, JOIN_RULES_EVENT_TYPE, MEMBER_EVENT_TYPE, THIRD_PARTY_INVITE_EVENT_TYPE } from './selection.js';

/** The membership a user has in `state`, or undefined when they have no member event. */
export function membershipIn(state: AuthState, userId: string): string | undefined {
  const membership = state.get(MEMBER_EVENT_TYPE, userId)?.content['membership'];
  return typeof membership === 'string' ? membership : undefined;
}

/**
 * The room's join rule. With no `m.room.join_rules` event the room behaves as
 * `invite` (what Synapse and gomatrixserverlib assume): only invited or
 * joined users may join.
 */
export function joinRuleIn(state: AuthState): unknown {
  const event = state.get(JOIN_RULES_EVENT_TYPE, '');
  return event === undefined ? 'invite' : event.content['join_rule'];
}

/** Everything the membership rules look at, gathered once. */
interface MemberContext {
  readonly event: AuthCandidate;
  readonly state: AuthState;
  readonly version: RoomVersion;
  readonly verifiers: AuthVerifiers;
  readonly sender: string;
  readonly target: string;
  readonly senderMembership: string | undefined;
  readonly targetMembership: string | undefined;
  readonly powerLevels: ParsedPowerLevels | undefined;
}

function levelOf(ctx: MemberContext, userId: string): number {
  return powerLevelOf(userId, ctx.state, ctx.version);
}

function membershipLabel(membership: string | undefined): string {
  return membership ?? 'no membership';
}

/** The first event of a room after its create event: the creator joining. */
function isCreatorFirstJoin(ctx: MemberContext): boolean {
  const create: AuthEvent | undefined = ctx.state.get(CREATE_EVENT_TYPE, '');
  const prevEvents = ctx.event.prev_events ?? [];
  const [onlyPrev] = prevEvents;
  if (create === undefined || prevEvents.length !== 1 || onlyPrev === undefined) return false;
  return referencedEventId(onlyPrev) === create.event_id && ctx.target === roomCreatorOf(create, ctx.version);
}

function isRestrictedJoinRule(joinRule: unknown, version: RoomVersion): boolean {
  return (version.restrictedJoin && joinRule === 'restricted') || (version.knockRestricted && joinRule === 'knock_restricted');
}

function checkJoin(ctx: MemberContext): AuthDecision {
  if (isCreatorFirstJoin(ctx)) return ALLOW;
  if (ctx.sender !== ctx.target) return deny('a user cannot join on behalf of another user');
  if (ctx.senderMembership === 'ban') return deny(`${ctx.sender} is banned from the room`);

  const joinRule = joinRuleIn(ctx.state);
  const invitedOrJoined = ctx.senderMembership === 'invite' || ctx.senderMembership === 'join';
  if (joinRule === 'invite' || (ctx.version.knock && joinRule === 'knock')) {
    return invitedOrJoined ? ALLOW : deny(`join rule ${joinRule} requires an invite (membership is ${membershipLabel(ctx.senderMembership)})`);
  }
  if (isRestrictedJoinRule(joinRule, ctx.version)) {
    if (invitedOrJoined) return ALLOW;
    const authoriser = ctx.event.content[AUTHORISING_USER_KEY];
    if (typeof authoriser !== 'string') return deny(`a ${String(joinRule)} join needs ${AUTHORISING_USER_KEY}`);
    if (membershipIn(ctx.state, authoriser) !== 'join') return deny(`authorising user ${authoriser} is not joined to the room`);
    if (levelOf(ctx, authoriser) < namedLevel(ctx.powerLevels, 'invite')) {
      return deny(`authorising user ${authoriser} may not invite users`);
    }
    return ALLOW;
  }
  if (joinRule === 'public') return ALLOW;
  return deny(`join rule ${JSON.stringify(joinRule)} does not allow joining`);
}

function publicKeysOf(thirdPartyInvite: AuthEvent): string[] {
  const keys: string[] = [];
  const single = thirdPartyInvite.content['public_key'];
  if (typeof single === 'string') keys.push(single);
  const list = thirdPartyInvite.content['public_keys'];
  if (Array.isArray(list)) {
    for (const entry of list) {
      if (isRecord(entry) && typeof entry['public_key'] === 'string') keys.push(entry['public_key']);
    }
  }
  return keys;
}

/** Rule 4.4.1: an invite that redeems a third-party invite. */
function checkThirdPartyInvite(ctx: MemberContext, thirdPartyInvite: unknown): AuthDecision {
  if (ctx.targetMembership === 'ban') return deny(`${ctx.target} is banned from the room`);
  const signed = isRecord(thirdPartyInvite) ? thirdPartyInvite['signed'] : undefined;
  if (!isRecord(signed)) return deny('third_party_invite has no signed block');
  if (!hasOwn(signed, 'mxid') || !hasOwn(signed, 'token')) return deny('third_party_invite.signed needs mxid and token');
  if (signed['mxid'] !== ctx.target) return deny('third_party_invite.signed.mxid does not match the invited user');
  const token = signed['token'];
  const inviteEvent = typeof token === 'string' ? ctx.state.get(THIRD_PARTY_INVITE_EVENT_TYPE, token) : undefined;
  if (inviteEvent === undefined) return deny('no m.room.third_party_invite matches the token');
  if (inviteEvent.sender !== ctx.sender) return deny('the invite is not sent by the sender of the third-party invite');
  const verify = ctx.verifiers.verifyThirdPartyInviteSigned;
  if (verify === undefined) return deny('third-party invite signatures cannot be verified here');
  return verify(signed, publicKeysOf(inviteEvent))
    ? ALLOW
    : deny('no signature in third_party_invite.signed matches a public key of the third-party invite');
}

function checkInvite(ctx: MemberContext): AuthDecision {
  if (hasOwn(ctx.event.content, 'third_party_invite')) {
    return checkThirdPartyInvite(ctx, ctx.event.content['third_party_invite']);
  }
  if (ctx.senderMembership !== 'join') return deny(`${ctx.sender} is not joined to the room`);
  if (ctx.targetMembership === 'join' || ctx.targetMembership === 'ban') {
    return deny(`${ctx.target} cannot be invited: membership is ${ctx.targetMembership}`);
  }
  return levelOf(ctx, ctx.sender) >= namedLevel(ctx.powerLevels, 'invite')
    ? ALLOW
    : deny(`${ctx.sender} does not have the power to invite`);
}

function checkLeave(ctx: MemberContext): AuthDecision {
  if (ctx.sender === ctx.target) {
    const m = ctx.senderMembership;
    const mayLeave = m === 'invite' || m === 'join' || (ctx.version.knock && m === 'knock');
    return mayLeave ? ALLOW : deny(`${ctx.sender} cannot leave from ${membershipLabel(m)}`);
  }
  if (ctx.senderMembership !== 'join') return deny(`${ctx.sender} is not joined to the room`);
  const senderLevel = levelOf(ctx, ctx.sender);
  if (ctx.targetMembership === 'ban' && senderLevel < namedLevel(ctx.powerLevels, 'ban')) {
    return deny(`${ctx.sender} does not have the power to unban`);
  }
  if (senderLevel >= namedLevel(ctx.powerLevels, 'kick') && levelOf(ctx, ctx.target) < senderLevel) return ALLOW;
  return deny(`${ctx.sender} does not have the power to ${ctx.targetMembership === 'ban' ? 'unban' : 'kick'} ${ctx.target}`);
}

function checkBan(ctx: MemberContext): AuthDecision {
  if (ctx.senderMembership !== 'join') return deny(`${ctx.sender} is not joined to the room`);
  const senderLevel = levelOf(ctx, ctx.sender);
  if (senderLevel >= namedLevel(ctx.powerLevels, 'ban') && levelOf(ctx, ctx.target) < senderLevel) return ALLOW;
  return deny(`${ctx.sender} does not have the power to ban ${ctx.target}`);
}

function checkKnock(ctx: MemberContext): AuthDecision {
  const joinRule = joinRuleIn(ctx.state);
  if (joinRule !== 'knock' && !(ctx.version.knockRestricted && joinRule === 'knock_restricted')) {
    return deny(`join rule ${JSON.stringify(joinRule)} does not allow knocking`);
  }
  if (ctx.sender !== ctx.target) return deny('a user cannot knock on behalf of another user');
  const m = ctx.senderMembership;
  if (m === 'ban' || m === 'invite' || m === 'join') return deny(`${ctx.sender} cannot knock from ${m}`);
  return ALLOW;
}

/** Rule 4.2 (v8+): a named authorising user's server must have signed the event. */
function checkAuthorisingServerSignature(ctx: MemberContext): AuthDecision {
  if (!ctx.version.restrictedJoin || !hasOwn(ctx.event.content, AUTHORISING_USER_KEY)) return ALLOW;
  const authoriser = ctx.event.content[AUTHORISING_USER_KEY];
  const server = typeof authoriser === 'string' && authoriser.startsWith('@') ? domainOf(authoriser) : undefined;
  if (server === undefined || server === '') return deny(`${AUTHORISING_USER_KEY} is not a user ID`);
  const verify = ctx.verifiers.verifySignature;
  if (verify === undefined || !verify(server, ctx.event)) {
    return deny(`the event is not signed by ${server}, the server of ${AUTHORISING_USER_KEY}`);
  }
  return ALLOW;
}

export function checkMemberEvent(
  event: AuthCandidate,
  state: AuthState,
  version: RoomVersion,
  verifiers: AuthVerifiers,
): AuthDecision {
  const target = event.state_key;
  if (target === undefined) return deny('a member event needs a state_key');
  if (!hasOwn(event.content, 'membership')) return deny('a member event needs content.membership');
  const ctx: MemberContext = {
    event,
    state,
    version,
    verifiers,
    sender: event.sender,
    target,
    senderMembership: membershipIn(state, event.sender),
    targetMembership: membershipIn(state, target),
    powerLevels: powerLevelsFromState(state, version),
  };
  const signature = checkAuthorisingServerSignature(ctx);
  if (!signature.allowed) return signature;

  const membership = event.content['membership'];
  switch (membership) {
    case 'join':
      return checkJoin(ctx);
    case 'invite':
      return checkInvite(ctx);
    case 'leave':
      return checkLeave(ctx);
    case 'ban':
      return checkBan(ctx);
    case 'knock':
      if (version.knock) return checkKnock(ctx);
      break;
  }
  return deny(`unknown membership ${JSON.stringify(membership)} in room version ${version.id}`);
}
