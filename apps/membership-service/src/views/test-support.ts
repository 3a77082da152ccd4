// A real membership core on a real SQLite file, for the view tests: rooms
// are created and changed through the core's verbs; messages and state are
// appended as the service appends its own events.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonObject } from '@membrane/canonical-json';
import { getRoomVersion } from '@membrane/events';
import { generateSigningKey } from '@membrane/signing';
import type { HistoryVisibility } from '@membrane/views';
import { MembershipCore } from '../membership-core.js';
import { appendLocalEvent } from '../room-writer.js';
import type { AppendedEvent } from '../room-writer.js';
import { openStorage } from '../storage/index.js';
import type { Storage, StoredEvent } from '../storage/index.js';

export const HS = 'hs.test';

export class ViewsWorld {
  readonly signer = { serverName: HS, key: generateSigningKey('v1') };
  private constructor(
    readonly dir: string,
    readonly storage: Storage,
    readonly core: MembershipCore,
  ) {}

  static async open(): Promise<ViewsWorld> {
    const dir = mkdtempSync(join(tmpdir(), 'membrane-views-'));
    const storage = await openStorage({ engine: 'sqlite', path: join(dir, 'db.sqlite') });
    const signer = { serverName: HS, key: generateSigningKey('v1') };
    return new ViewsWorld(dir, storage, new MembershipCore({ storage, signer, defaultRoomVersion: '11' }));
  }

  async close(): Promise<void> {
    await this.storage.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A room created by `creator` with this history visibility; `public` lets anyone join. */
  async room(creator: string, historyVisibility: HistoryVisibility, options: { public?: boolean; invitees?: string[] } = {}): Promise<string> {
    const { roomId } = await this.core.createRoom({
      creator,
      preset: options.public === true ? 'public_chat' : 'private_chat',
      historyVisibility,
      invitees: options.invitees ?? [],
    });
    return roomId;
  }

  /** Appends one of our events, authorised against the current state. */
  async append(roomId: string, sender: string, type: string, content: JsonObject, stateKey?: string): Promise<AppendedEvent> {
    return this.storage.withRoomTransaction(roomId, async (tx) => {
      const room = await tx.getRoom(roomId);
      if (room === null) throw new Error(`no room ${roomId}`);
      const draft = { type, sender, content, ...(stateKey === undefined ? {} : { stateKey }) };
      return appendLocalEvent(tx, room, getRoomVersion(room.roomVersion), draft, this.signer, Date.now());
    });
  }

  send(roomId: string, sender: string, body: string): Promise<AppendedEvent> {
    return this.append(roomId, sender, 'm.room.message', { msgtype: 'm.text', body });
  }

  setVisibility(roomId: string, sender: string, visibility: HistoryVisibility): Promise<AppendedEvent> {
    return this.append(roomId, sender, 'm.room.history_visibility', { history_visibility: visibility }, '');
  }

  async join(roomId: string, userId: string): Promise<string> {
    return (await this.core.join({ roomIdOrAlias: roomId, userId })).eventId;
  }

  async invite(roomId: string, sender: string, invitee: string): Promise<string> {
    return (await this.core.invite({ roomId, sender, invitee })).eventId;
  }

  async leave(roomId: string, userId: string): Promise<string> {
    return (await this.core.leave({ roomId, userId })).eventId;
  }

  /** Every stored event of the room, oldest first. */
  events(roomId: string): Promise<StoredEvent[]> {
    return this.storage.read((tx) => tx.getRoomEventsAfter(roomId, 0, 1000));
  }
}

/** What a list of events shows in a test: message bodies, and `type/state_key` of the rest. */
export function labels(events: readonly { json?: string; eventJson?: string }[]): string[] {
  return events.map((e) => {
    const event = JSON.parse(e.json ?? e.eventJson ?? '{}') as { type: string; state_key?: string; content: { body?: string; membership?: string } };
    if (event.type === 'm.room.message') return event.content.body ?? '';
    if (event.type === 'm.room.member') return `${event.content.membership ?? ''}:${event.state_key ?? ''}`;
    return `${event.type}/${event.state_key ?? ''}`;
  });
}
