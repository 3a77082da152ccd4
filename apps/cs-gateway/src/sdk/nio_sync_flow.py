"""Drives matrix-nio's sync() against the CS gateway.

The same line protocol as nio_flow.py (whose machinery it reuses), with one
more operation:

  command     {"id": 1, "as": "bob", "op": "sync",
               "args": {"since": "s5", "timeout": 0, "full_state": false,
                        "filter": {...}}}
  answer      the usual fields, plus "summary": what nio made of the answer
              {"next_batch": "s9",
               "invite": {room_id: [event, ...]},
               "join": {room_id: {"state": [...], "timeline": [...]}},
               "leave": {room_id: {"state": [...], "timeline": [...]}},
               "client": {"rooms": [...], "invited_rooms": [...]}}
              each event as {"type", "sender", "state_key", "membership",
              "body"} read from the event nio parsed.

`since` defaults to the token nio keeps from its previous sync (as a client
looping on sync() does); `"since": null` asks for an initial sync.

Run with /usr/bin/python3 (the only interpreter that has nio).
"""

import asyncio

import nio_flow
from nio.responses import SyncResponse

NOT_GIVEN = object()
base_operation = nio_flow.operation
base_describe = nio_flow.describe


def event_summary(event):
    source = getattr(event, "source", None) or {}
    # nio moves the content of member events out of `source` into attributes.
    content = source.get("content") or getattr(event, "content", None) or {}
    return {
        "type": source.get("type"),
        "sender": source.get("sender"),
        "state_key": source.get("state_key"),
        "membership": getattr(event, "membership", None) or content.get("membership"),
        "body": content.get("body"),
    }


def room_summary(info):
    return {
        "state": [event_summary(e) for e in info.state],
        "timeline": [event_summary(e) for e in info.timeline.events],
    }


def sync_summary(client, response):
    rooms = response.rooms
    return {
        "next_batch": response.next_batch,
        "invite": {room_id: [event_summary(e) for e in info.invite_state] for room_id, info in rooms.invite.items()},
        "join": {room_id: room_summary(info) for room_id, info in rooms.join.items()},
        "leave": {room_id: room_summary(info) for room_id, info in rooms.leave.items()},
        "client": {"rooms": sorted(client.rooms), "invited_rooms": sorted(client.invited_rooms)},
    }


def operation(client, op, args):
    if op == "sync":
        since = args.get("since", NOT_GIVEN)
        if since is NOT_GIVEN:
            since = client.next_batch
        elif since is None:
            # nio falls back to its last token when `since` is None: forget it,
            # as a client starting afresh would have none.
            client.next_batch = None
            client.loaded_sync_token = None
        return client.sync(
            timeout=args.get("timeout", 0),
            sync_filter=args.get("filter"),
            since=since,
            full_state=args.get("full_state"),
        )
    return base_operation(client, op, args)


def describe(command_id, client, response):
    answer = base_describe(command_id, client, response)
    if isinstance(response, SyncResponse):
        # The summary says what nio understood; the raw body stays in "response".
        answer["fields"] = {}
        answer["summary"] = sync_summary(client, response)
    return answer


nio_flow.operation = operation
nio_flow.describe = describe

if __name__ == "__main__":
    asyncio.run(nio_flow.main())
