// A room built up state event by state event, for specifying the auth rules
// in tests. Event IDs are made up (the rules never recompute them).
import { getRoomVersion } from '../../room-versions.js';
import type { RoomVersion } from '../../room-versions.js';
import type { Membership } from '../../types.js';
import { authStateFromEvents } from '../auth-types.js';
import type { AuthCandidate, AuthDecision, AuthEvent, AuthState, AuthVerifiers } from '../auth-types.js';
import { checkEventAuth } from '../check-event-auth.js';

export const CREATOR = '@creator:a.test';

export interface TestRoomOptions {
  readonly creator?: string;
  readonly additionalCreators?: readonly string[];
  readonly createContent?: Readonly<Record<string, unknown>>;
}

/** 43 URL-safe base64 characters, as a v4+ reference hash would have. */
function fakeHash(seed: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let out = '';
  let h = 0x811c9dc5;
  for (let i = 0; out.length < 43; i++) {
    h = Math.imul(h ^ (seed.charCodeAt(i % seed.length) + i), 0x01000193) >>> 0;
    out += alphabet[h % 64];
  }
  return out;
}

export class TestRoom {
  readonly version: RoomVersion;
  readonly roomId: string;
  readonly create: AuthEvent;
  readonly creator: string;
  private readonly state = new Map<string, AuthEvent>();
  private counter = 0;

  constructor(versionId: string, options: TestRoomOptions = {}) {
    this.version = getRoomVersion(versionId);
    this.creator = options.creator ?? CREATOR;
    const content: Record<string, unknown> = { room_version: versionId };
    if (!this.version.creatorIsCreateSender) content['creator'] = this.creator;
    if (options.additionalCreators !== undefined) content['additional_creators'] = [...options.additionalCreators];
    Object.assign(content, options.createContent);

    const createId = this.version.eventFormat === 'v1' ? '$create:a.test' : `$${fakeHash(`create-${versionId}`)}`;
    this.roomId = this.version.roomIdFromCreateEvent ? `!${createId.slice(1)}` : '!room:a.test';
    const create: AuthEvent = {
      event_id: createId,
      type: 'm.room.create',
      state_key: '',
      sender: this.creator,
      content,
      prev_events: [],
      auth_events: [],
      ...(this.version.roomIdFromCreateEvent ? {} : { room_id: this.roomId }),
    };
    this.create = create;
    this.state.set(key('m.room.create', ''), create);
  }

  newEventId(): string {
    this.counter += 1;
    return this.version.eventFormat === 'v1' ? `$e${this.counter}:a.test` : `$${fakeHash(`event-${this.counter}`)}`;
  }

  /** Puts a state event into the room's state, replacing any with the same key. */
  put(type: string, stateKey: string, content: Readonly<Record<string, unknown>>, sender = this.creator): AuthEvent {
    const event: AuthEvent = { event_id: this.newEventId(), room_id: this.roomId, type, state_key: stateKey, sender, content };
    this.state.set(key(type, stateKey), event);
    return event;
  }

  remove(type: string, stateKey: string): this {
    this.state.delete(key(type, stateKey));
    return this;
  }

  setMembership(userId: string, membership: Membership | undefined, extra: Readonly<Record<string, unknown>> = {}): this {
    if (membership === undefined) this.remove('m.room.member', userId);
    else this.put('m.room.member', userId, { membership, ...extra }, userId);
    return this;
  }

  setPowerLevels(content: Readonly<Record<string, unknown>>): this {
    this.put('m.room.power_levels', '', content);
    return this;
  }

  setJoinRule(joinRule: unknown): this {
    this.put('m.room.join_rules', '', { join_rule: joinRule });
    return this;
  }

  get(type: string, stateKey: string): AuthEvent | undefined {
    return this.state.get(key(type, stateKey));
  }

  authState(): AuthState {
    return authStateFromEvents(this.state.values());
  }

  /** An event in this room, not yet part of its state. */
  event(fields: Omit<AuthCandidate, 'room_id'> & { readonly room_id?: string }): AuthCandidate & { readonly event_id: string } {
    return { event_id: this.newEventId(), room_id: this.roomId, ...fields };
  }

  memberEvent(
    sender: string,
    target: string,
    membership: string,
    extra: Readonly<Record<string, unknown>> = {},
  ): AuthCandidate & { readonly event_id: string } {
    return this.event({ type: 'm.room.member', sender, state_key: target, content: { membership, ...extra } });
  }

  check(event: AuthCandidate, verifiers: AuthVerifiers = {}): AuthDecision {
    return checkEventAuth(event, this.authState(), this.version, verifiers);
  }
}

function key(type: string, stateKey: string): string {
  return JSON.stringify([type, stateKey]);
}
