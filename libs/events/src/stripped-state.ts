// The room state a user sees of a room before joining it: in an invite
// (`invite_room_state`), in answer to a knock (`knock_room_state`), and in
// /sync's `invite_state` / `knock_state`. The spec recommends these state
// events (all with the empty state key); servers may send more.
export const STRIPPED_STATE_TYPES: readonly string[] = [
  'm.room.create',
  'm.room.join_rules',
  'm.room.name',
  'm.room.avatar',
  'm.room.canonical_alias',
  'm.room.encryption',
  'm.room.topic',
];
