// Which stored events one user may see, and how they are shown: the spec's
// history visibility algorithm (pure rules in @membrane/views) applied to the
// state before each event. Messages share the state group of the event before
// them, so the two state keys the rules need are looked up once per group,
// by key, never by loading a room's whole state.
import type { Membership } from '@membrane/events';
import type { ViewedEvent } from '@membrane/proto';
import type { HistoryVisibility } from '@membrane/views';
import { historyVisibilityOf, isEventVisible } from '@membrane/views';
import type { ReadTx, StoredEvent } from '../storage/index.js';

const MEMBERSHIPS: readonly string[] = ['invite', 'join', 'knock', 'leave', 'ban'];

/** What the rules need to know of one state group, for one viewer. */
interface GroupFacts {
  readonly visibility: HistoryVisibility;
  readonly membership: Membership | undefined;
}

/**
 * Facts per state group for one viewer; pass the same cache to several calls
 * (e.g. the rooms of one sync answer) to look each group up once.
 */
export class VisibilityCache {
  readonly groups = new Map<number, GroupFacts>();
  constructor(readonly viewerUserId: string) {}
}

export interface VisibilityOptions {
  /**
   * The viewer reads as a member: joined now, or reading the room as it was
   * at their leave. False for invitees, knockers and strangers peeking at a
   * world_readable room.
   */
  readonly viewerIsMember: boolean;
  /** Reuse facts across calls for the same viewer. */
  readonly cache?: VisibilityCache;
}

function parsedContent(json: string): unknown {
  return (JSON.parse(json) as { content?: unknown }).content;
}

function membershipIn(content: unknown): Membership | undefined {
  if (typeof content !== 'object' || content === null) return undefined;
  const value = (content as Record<string, unknown>)['membership'];
  return typeof value === 'string' && MEMBERSHIPS.includes(value) ? (value as Membership) : undefined;
}

/** Events a client may ever be shown: accepted, part of the room's DAG, not soft-failed. */
export function isShowable(event: StoredEvent): boolean {
  return !event.outlier && event.rejectedReason === null && !event.softFailed;
}

async function factsOfGroups(tx: ReadTx, groupIds: Iterable<number>, cache: VisibilityCache): Promise<void> {
  const missing = [...new Set(groupIds)].filter((id) => !cache.groups.has(id));
  if (missing.length === 0) return;
  const keys = [
    { type: 'm.room.history_visibility', stateKey: '' },
    { type: 'm.room.member', stateKey: cache.viewerUserId },
  ];
  const entries = new Map<number, { visibilityId?: string; memberId?: string }>();
  for (const groupId of missing) {
    const found = (await tx.getStateGroupEntries(groupId, keys)) ?? [];
    entries.set(groupId, {
      ...pick(found.find((e) => e.type === 'm.room.history_visibility')?.eventId, 'visibilityId'),
      ...pick(found.find((e) => e.type === 'm.room.member')?.eventId, 'memberId'),
    });
  }
  const ids = [...entries.values()].flatMap((e) => [e.visibilityId, e.memberId]).filter((id): id is string => id !== undefined);
  const events = await tx.getEvents(ids);
  const contentOf = (id: string | undefined): unknown => {
    const event = id === undefined ? undefined : events.get(id);
    return event === undefined ? undefined : parsedContent(event.json);
  };
  for (const [groupId, e] of entries) {
    cache.groups.set(groupId, { visibility: historyVisibilityOf(contentOf(e.visibilityId)), membership: membershipIn(contentOf(e.memberId)) });
  }
}

function pick<K extends string>(value: string | undefined, key: K): { [P in K]?: string } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: string });
}

/**
 * The events among `events` that `viewerUserId` may see, in the given order.
 * Per event: the history visibility and the viewer's membership in the state
 * before it; the viewer's own member events are always visible; a history
 * visibility change is visible if the old or the new setting allows it.
 * Outliers, rejected and soft-failed events, and events without recorded
 * state, are never shown.
 */
export async function filterVisibleEvents(
  tx: ReadTx,
  viewerUserId: string,
  events: readonly StoredEvent[],
  options: VisibilityOptions,
): Promise<StoredEvent[]> {
  const cache = options.cache?.viewerUserId === viewerUserId ? options.cache : new VisibilityCache(viewerUserId);
  const candidates = events.filter(isShowable);
  if (candidates.length === 0) return [];
  const groups = await tx.getStateGroupsOfEvents(candidates.map((e) => e.eventId));
  await factsOfGroups(
    tx,
    [...groups.values()].map((g) => g.beforeGroupId),
    cache,
  );
  return candidates.filter((event) => {
    const group = groups.get(event.eventId);
    const facts = group === undefined ? undefined : cache.groups.get(group.beforeGroupId);
    if (facts === undefined) return false;
    const isVisibilityChange = event.type === 'm.room.history_visibility' && event.stateKey === '';
    return isEventVisible({
      visibility: facts.visibility,
      ...(isVisibilityChange ? { visibilityAfter: historyVisibilityOf(parsedContent(event.json)) } : {}),
      membershipAtEvent: facts.membership,
      isViewersOwnMembership: event.type === 'm.room.member' && event.stateKey === viewerUserId,
      viewerIsMember: options.viewerIsMember,
    });
  });
}

/**
 * Events as a client sees them: the PDU, and for state events the content
 * and sender of the state each one replaced (from the state before it).
 */
export async function toViewedEvents(tx: ReadTx, events: readonly StoredEvent[]): Promise<ViewedEvent[]> {
  const stateEvents = events.filter((e) => e.stateKey !== null);
  const groups = stateEvents.length === 0 ? new Map() : await tx.getStateGroupsOfEvents(stateEvents.map((e) => e.eventId));
  const replaced = new Map<string, string>();
  for (const event of stateEvents) {
    const group = groups.get(event.eventId);
    if (group === undefined) continue;
    const [entry] = (await tx.getStateGroupEntries(group.beforeGroupId, [{ type: event.type, stateKey: event.stateKey as string }])) ?? [];
    if (entry !== undefined && entry.eventId !== event.eventId) replaced.set(event.eventId, entry.eventId);
  }
  const previous = replaced.size === 0 ? new Map<string, StoredEvent>() : await tx.getEvents([...replaced.values()]);
  return events.map((event) => {
    const viewed: ViewedEvent = { eventJson: event.json, eventId: event.eventId, position: event.position };
    const prevId = replaced.get(event.eventId);
    const prev = prevId === undefined ? undefined : previous.get(prevId);
    if (prev === undefined) return viewed;
    return { ...viewed, prevContentJson: JSON.stringify(parsedContent(prev.json) ?? {}), replacesState: prev.eventId, prevSender: prev.sender };
  });
}

/** One event as a client sees it (see `toViewedEvents`). */
export async function toViewedEvent(tx: ReadTx, event: StoredEvent): Promise<ViewedEvent> {
  const [viewed] = await toViewedEvents(tx, [event]);
  return viewed as ViewedEvent;
}
