export { HISTORY_VISIBILITIES, historyVisibilityOf, isEventVisible, readableUpTo } from './history-visibility.js';
export type { HistoryVisibility, VisibilityQuestion } from './history-visibility.js';
export {
  DEFAULT_TIMELINE_LIMIT,
  eventMatches,
  parseFilter,
  parseRoomEventFilter,
  roomMatches,
  timelineLimitOf,
  typeMatches,
} from './filter.js';
export type { EventFilter, Filter, FilterableEvent, RoomEventFilter, RoomFilter } from './filter.js';
