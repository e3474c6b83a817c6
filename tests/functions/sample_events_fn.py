"""A test-only function with a creating, idempotent POST that also enqueues an event.

`POST /functions/v1/sample-events/things` inserts a row into `public.sample_things` (the test creates
that table, see THINGS_TABLE_SQL) as the signed-in user, enqueues `sample.thing_created` in the same
transaction and answers 201 with the row's id. `behaviour` makes the route slow or fail on demand.
Served through `app`, a tiny ASGI adapter (as `LocalGateway` does).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from starlette.requests import Request

from shared.platform import events
from shared.platform.errors import ConflictError
from shared.platform.http import Context, Function, Reply
from shared.platform.validation import Body

THINGS_TABLE_SQL = """
create table public.sample_things (
  id uuid primary key default gen_random_uuid(),
  owner uuid not null default auth.uid(),
  name text not null,
  created_at timestamptz not null default now()
);
alter table public.sample_things enable row level security;
grant select, insert on public.sample_things to authenticated;
create policy sample_things_own on public.sample_things for all to authenticated
  using (owner = (select auth.uid())) with check (owner = (select auth.uid()));
"""
EVENT_NAME = "sample.thing_created"

fn = Function("sample-events", body_limit=1024, description="Test-only idempotent creation.")


@dataclass(slots=True)
class Behaviour:
    """How the route misbehaves: seconds to wait inside the transaction, requests left to fail."""

    delay_s: float = 0.0
    fail_next: int = 0
    calls: int = 0


behaviour = Behaviour()


class NewThing(Body):
    """A thing to create."""

    name: str = Field(min_length=1, max_length=100)


@fn.post("/things", body=NewThing, idempotent=True, status=201)
async def create_thing(ctx: Context, body: NewThing) -> Reply:
    """Insert a row and enqueue its event in the request's transaction; 201 with the id."""
    behaviour.calls += 1
    thing_id = await ctx.db.fetch_val(
        "insert into public.sample_things (name) values (%s) returning id", (body.name,)
    )
    await events.enqueue(ctx.db, events.Event(name=EVENT_NAME, payload={"id": str(thing_id)}))
    if behaviour.delay_s:
        await asyncio.sleep(behaviour.delay_s)
    if behaviour.fail_next > 0:
        behaviour.fail_next -= 1
        raise ConflictError("Refused on purpose, after the insert and the event.")
    location = f"/functions/v1/sample-events/things/{thing_id}"
    return Reply({"id": str(thing_id), "name": body.name}, status=201, headers={"Location": location})


handler = fn.handler

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI adapter: what functions-framework does around `handler`."""
    assert scope["type"] == "http"
    response = await handler(Request(scope, receive))
    await response(scope, receive, send)
