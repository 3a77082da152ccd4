// Builds the events of a benchmark room in memory, the way the service would
// build them: the creation events of the `public_chat` preset, then one join
// per member, each signed with the server's key, citing the auth events the
// spec selects, chained on the previous event, and checked by the auth rules
// before it is accepted. No storage here: `seed-writer.ts` persists them.
// Pure apart from the random room IDs, so it can run in worker threads.
import type { JsonObject } from '@membrane/canonical-json';
import type { AuthEvent, CitedEvent, Pdu, PduSigner, PrevEvent, RoomVersion } from '@membrane/events';
import { authStateFromEvents, buildPdu, checkEventAuth, computeReferenceHash, roomIdFromCreateEventId, selectAuthEvents, stateNeededForAuth } from '@membrane/events';
import { planRoomCreation } from '@membrane/membership';
import { encodeUnpaddedBase64 } from '@membrane/signing';
import type { NewEvent, StoredMembership } from '../storage/index.js';
import { eventRow, generateRoomId, membershipOf } from '../room-writer.js';
import type { SeedJob, SeedSpec } from './seed-spec.js';
import { seedUserId } from './seed-spec.js';

export interface SeedEvent {
  readonly eventId: string;
  readonly event: Pdu;
}

/** A built event as storage takes it, plus what the writer needs to apply it. */
export interface SeedRow {
  readonly row: NewEvent;
  readonly membership?: StoredMembership;
}

/** A built room: its events in order. */
export interface SeedRoom {
  readonly groupIndex: number;
  readonly roomIndex: number;
  readonly roomId: string;
  readonly createdTs: number;
  readonly rows: readonly SeedRow[];
}

export interface SeedRoomOptions {
  readonly version: RoomVersion;
  readonly signer: PduSigner;
  /** `origin_server_ts` of the first event; each later event is 1 ms later. */
  readonly originServerTs: number;
  readonly randomBytes: (n: number) => Uint8Array;
}

function stateKeyOf(type: string, stateKey: string): string {
  return `${type.length}:${type}${stateKey}`;
}

/**
 * One room under construction. Keeps only what later events need: the
 * current state as the auth rules read it (content, sender, keys; not the
 * whole PDU, so a room of 100,000 members stays small), and the last event
 * as the next `prev_events`.
 */
export class SeedRoomBuilder {
  readonly roomId: string;
  private readonly state = new Map<string, { readonly auth: AuthEvent; readonly cite: CitedEvent }>();
  private prev: PrevEvent | undefined;
  private ts: number;

  private constructor(
    private readonly options: SeedRoomOptions,
    roomId: string,
    ts: number,
  ) {
    this.roomId = roomId;
    this.ts = ts;
  }

  /** A new room created by `creator` (preset `public_chat`): its creation events, in order. */
  static create(creator: string, options: SeedRoomOptions): { builder: SeedRoomBuilder; events: SeedEvent[] } {
    const { version } = options;
    const drafts = planRoomCreation({ creator, preset: 'public_chat' }, version);
    const [createDraft, ...rest] = drafts;
    if (createDraft === undefined) throw new Error('room creation planned no events');
    const createProto = { type: createDraft.type, sender: createDraft.sender, state_key: createDraft.stateKey ?? '', content: createDraft.content };
    let builder: SeedRoomBuilder;
    let create: SeedEvent;
    if (version.roomIdFromCreateEvent) {
      // v12: the room is named after its create event.
      const built = buildPdu({ version, proto: createProto, prevEvents: [], authEvents: [], originServerTs: options.originServerTs }, options.signer);
      builder = new SeedRoomBuilder(options, roomIdFromCreateEventId(built.eventId), options.originServerTs + 1);
      create = { eventId: built.eventId, event: built.event };
      builder.accept(create);
    } else {
      builder = new SeedRoomBuilder(options, generateRoomId(options.signer.serverName, options.randomBytes), options.originServerTs);
      create = builder.append(createProto);
    }
    const events = [create];
    for (const draft of rest) {
      events.push(builder.append({ type: draft.type, sender: draft.sender, ...(draft.stateKey === undefined ? {} : { state_key: draft.stateKey }), content: draft.content }));
    }
    return { builder, events };
  }

  /** `userId` joins the room (public: no invite needed). */
  join(userId: string): SeedEvent {
    return this.append({ type: 'm.room.member', sender: userId, state_key: userId, content: { membership: 'join' } });
  }

  /** Builds, signs and authorises one event against the current state, then makes it current. */
  append(proto: { type: string; sender: string; state_key?: string; content: JsonObject }): SeedEvent {
    const { version, signer } = this.options;
    const cited = selectAuthEvents(proto, version)
      .map(([type, stateKey]) => this.state.get(stateKeyOf(type, stateKey))?.cite)
      .filter((e): e is CitedEvent => e !== undefined);
    const built = buildPdu(
      {
        version,
        proto: { ...proto, room_id: this.roomId },
        prevEvents: this.prev === undefined ? [] : [this.prev],
        authEvents: cited,
        originServerTs: this.ts,
      },
      signer,
    );
    this.ts += 1;
    const authState = authStateFromEvents(
      stateNeededForAuth(proto, version)
        .map(([type, stateKey]) => this.state.get(stateKeyOf(type, stateKey))?.auth)
        .filter((e): e is AuthEvent => e !== undefined),
    );
    const decision = checkEventAuth({ ...built.event, event_id: built.eventId } as AuthEvent, authState, version);
    if (!decision.allowed) throw new Error(`seeded ${proto.type} of ${proto.state_key ?? proto.sender} refused by the auth rules: ${decision.reason}`);
    const seeded = { eventId: built.eventId, event: built.event };
    this.accept(seeded);
    return seeded;
  }

  private accept({ eventId, event }: SeedEvent): void {
    const { version } = this.options;
    // v1/v2 cite events with their reference hash; later versions by ID alone.
    const cite: CitedEvent =
      version.eventFormat === 'v1' ? { eventId, referenceHash: encodeUnpaddedBase64(computeReferenceHash(event as unknown as JsonObject, version)) } : { eventId };
    this.prev = { ...cite, depth: event.depth };
    if (event.state_key === undefined) return;
    // Only the fields the auth rules read: keeps large rooms small in memory.
    const auth: AuthEvent = {
      event_id: eventId,
      type: event.type,
      state_key: event.state_key,
      sender: event.sender,
      content: event.content,
      ...(event.room_id === undefined ? {} : { room_id: event.room_id }),
    };
    this.state.set(stateKeyOf(event.type, event.state_key), { auth, cite });
  }
}

/** Room events as storage rows (the canonical JSON is encoded here, off the writer's thread). */
export function seedRowOf(event: SeedEvent, roomId: string): SeedRow {
  const membership = event.event.type === 'm.room.member' ? membershipOf(event.event.content) : undefined;
  return { row: eventRow(event.event, event.eventId, roomId), ...(membership === undefined ? {} : { membership }) };
}

/** Builds the rooms of one job: each room created by member 0 and joined by the others. */
export function buildSeedRooms(spec: SeedSpec, job: SeedJob, options: Omit<SeedRoomOptions, 'version'> & { readonly version: RoomVersion }): SeedRoom[] {
  const group = spec.groups[job.groupIndex];
  if (group === undefined) throw new Error(`no seed group ${job.groupIndex}`);
  const serverName = options.signer.serverName;
  const rooms: SeedRoom[] = [];
  for (let r = job.from; r < job.to; r++) {
    const { builder, events } = SeedRoomBuilder.create(seedUserId(group, r, 0, serverName), options);
    const rows = events.map((e) => seedRowOf(e, builder.roomId));
    for (let m = 1; m < group.members; m++) rows.push(seedRowOf(builder.join(seedUserId(group, r, m, serverName)), builder.roomId));
    rooms.push({ groupIndex: job.groupIndex, roomIndex: r, roomId: builder.roomId, createdTs: options.originServerTs, rows });
  }
  return rooms;
}
