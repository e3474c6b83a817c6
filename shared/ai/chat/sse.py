"""Server-sent events of a chat turn: `start`, text `delta`s, then `done` or `error`; comments as heartbeats.

Every event's data is one line of JSON, so a client splits on blank lines and parses each `data:` line.
A heartbeat is an SSE comment (a line starting with a colon), which EventSource and the SSE parsers ignore:
it keeps proxies and load balancers from closing a stream that is waiting for the model.
"""

from __future__ import annotations

import json
from typing import Any

MEDIA_TYPE = "text/event-stream"
HEARTBEAT = b": heartbeat\n\n"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
"""Nothing between us and the client may cache or buffer the stream (nginx reads X-Accel-Buffering)."""


def event(name: str, data: Any) -> bytes:
    """One event: its name and its data as one line of JSON."""
    payload = json.dumps(data, default=str, separators=(",", ":"), ensure_ascii=False)
    return f"event: {name}\ndata: {payload}\n\n".encode()


def delta(text: str) -> bytes:
    """A piece of the answer."""
    return event("delta", {"text": text})
