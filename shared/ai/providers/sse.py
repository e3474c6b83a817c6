"""Server-sent events read from lines, as the WHATWG spec parses them (the subset providers use)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event: its type (`message` when none was named) and its data lines joined."""

    event: str
    data: str


async def events(lines: AsyncIterable[str]) -> AsyncIterator[ServerSentEvent]:
    """Events in order; comments, `id` and `retry` are skipped; an event cut off by the end is dropped."""
    event, data = "", list[str]()
    async for line in lines:
        if not line:
            if data:
                yield ServerSentEvent(event or "message", "\n".join(data))
            event, data = "", list[str]()
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
