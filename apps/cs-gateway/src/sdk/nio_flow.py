"""Drives matrix-nio (Debian's python3-matrix-nio) against the CS gateway.

Run with /usr/bin/python3 (the only interpreter that has nio). One process
serves a whole test file: it reads one JSON command per line on stdin and
answers each with one JSON line on stdout.

  first line  {"base_url": "http://127.0.0.1:8008",
               "users": {"alice": {"user_id", "access_token", "device_id"}}}
  answer      {"ready": true, "nio": "0.20.1"}
  command     {"id": 1, "as": "alice", "op": "room_create", "args": {...}}
  answer      {"id": 1, "class": "RoomCreateResponse", "error": false,
               "status": 200, "fields": {...}, "request": {...},
               "response": {...}}

An empty line or the end of input closes the clients and ends the process.
Every operation is bounded by OP_TIMEOUT_S; an exception is answered as
{"id": n, "exception": "..."}.
"""

import asyncio
import dataclasses
import enum
import importlib.metadata
import json
import sys
from urllib.parse import parse_qs, urlsplit

from nio import AsyncClient, AsyncClientConfig, ErrorResponse, RoomPreset
from nio.api import Api
from nio.responses import RoomCreateResponse, RoomLeaveResponse

OP_TIMEOUT_S = 20

# No retries: a failure must reach the test as it happened.
CONFIG = AsyncClientConfig(
    encryption_enabled=False,
    max_limit_exceeded=0,
    max_timeouts=0,
    request_timeout=15,
)

# Response attributes that describe timing or transport, not the answer.
NOT_FIELDS = {"uuid", "start_time", "end_time", "timeout", "transport_response"}


class RecordingClient(AsyncClient):
    """An AsyncClient that remembers its last request and the raw answer."""

    last_request = None
    last_response_text = None

    async def send(self, method, path, data=None, headers=None, trace_context=None, timeout=None):
        url = urlsplit(path)
        query = parse_qs(url.query)
        self.last_request = {
            "method": method,
            "path": url.path,
            "token_in_query": "access_token" in query,
            "query": {k: v for k, v in query.items() if k != "access_token"},
            "content_type": (headers or {}).get("Content-Type"),
            "body": json.loads(data) if isinstance(data, str) and data else data,
        }
        response = await super().send(method, path, data, headers, trace_context, timeout)
        # Read once here; aiohttp keeps the bytes for nio's own parsing.
        self.last_response_text = (await response.read()).decode("utf-8", "replace")
        return response


def jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value):
        return {
            f.name: jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in NOT_FIELDS
        }
    return repr(value)


def create_room_body(args):
    """The body nio's room_create sends, minus creation_content (see room_create_plain)."""
    body = {"visibility": args.get("visibility", "private"), "is_direct": False}
    for key in ("preset", "name", "topic"):
        if key in args:
            body[key] = args[key]
    if args.get("invite"):
        body["invite"] = list(args["invite"])
    return body


def operation(client, op, args):
    """The nio call for one command. Public API where nio offers it."""
    if op == "whoami":
        return client.whoami()
    if op == "room_create":
        return client.room_create(
            preset=RoomPreset(args["preset"]) if "preset" in args else None,
            name=args.get("name"),
            invite=args.get("invite", ()),
        )
    if op == "room_create_plain":
        # nio's room_create always adds creation_content {"m.federate": ...};
        # this is the same request without it, parsed by nio's own class.
        path = Api._build_path(["createRoom"], {"access_token": client.access_token})
        return client._send(RoomCreateResponse, "POST", path, Api.to_json(create_room_body(args)))
    if op == "room_invite":
        return client.room_invite(args["room_id"], args["user_id"])
    if op == "join":
        return client.join(args["room_id"])
    if op == "room_leave":
        return client.room_leave(args["room_id"])
    if op == "room_leave_with_reason":
        # nio's room_leave takes no reason: the same request with a body.
        path = Api._build_path(["rooms", args["room_id"], "leave"], {"access_token": client.access_token})
        return client._send(RoomLeaveResponse, "POST", path, Api.to_json({"reason": args["reason"]}))
    if op == "room_kick":
        return client.room_kick(args["room_id"], args["user_id"], args.get("reason"))
    if op == "room_forget":
        return client.room_forget(args["room_id"])
    if op == "joined_rooms":
        return client.joined_rooms()
    if op == "room_get_state_event":
        return client.room_get_state_event(args["room_id"], args["event_type"], args.get("state_key", ""))
    if op == "joined_members":
        return client.joined_members(args["room_id"])
    raise ValueError(f"unknown op {op!r}")


def describe(command_id, client, response):
    transport = getattr(response, "transport_response", None)
    try:
        raw = json.loads(client.last_response_text or "null")
    except ValueError:
        raw = client.last_response_text
    return {
        "id": command_id,
        "class": type(response).__name__,
        "error": isinstance(response, ErrorResponse),
        "status": transport.status if transport is not None else None,
        "fields": jsonable(response),
        "request": client.last_request,
        "response": raw,
    }


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def main():
    loop = asyncio.get_running_loop()

    async def read_line():
        return await loop.run_in_executor(None, sys.stdin.readline)

    hello = json.loads(await read_line())
    clients = {}
    for name, user in hello["users"].items():
        client = RecordingClient(hello["base_url"], user["user_id"], device_id=user["device_id"], config=CONFIG)
        client.restore_login(user["user_id"], user["device_id"], user["access_token"])
        clients[name] = client
    emit({"ready": True, "nio": importlib.metadata.version("matrix-nio")})
    try:
        while True:
            line = await read_line()
            if not line.strip():
                break
            command = json.loads(line)
            try:
                client = clients[command["as"]]
                client.last_request = None
                client.last_response_text = None
                response = await asyncio.wait_for(operation(client, command["op"], command.get("args", {})), OP_TIMEOUT_S)
                emit(describe(command["id"], client, response))
            except Exception as err:  # reported to the test, which fails on it
                emit({"id": command.get("id"), "exception": repr(err)})
    finally:
        for client in clients.values():
            await client.close()


if __name__ == "__main__":
    asyncio.run(main())
