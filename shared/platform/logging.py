"""One JSON object per line on stdout, with the request's context and nothing secret."""

from __future__ import annotations

import json
import re
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

request_context: ContextVar[dict[str, Any] | None] = ContextVar("request_context", default=None)
"""Fields every line logged while serving a request carries (request_id, function, route, user…)."""

_SECRET_KEY = re.compile(r"authorization|apikey|api_key|token|secret|password|signature|cookie", re.I)
_BEARER = re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_SUSPECT = re.compile(r"(?i)bearer|eyJ")
"""What a string must contain for either pattern above to match: most strings are let through by one search."""
REDACTED = "[redacted]"
_NUMBERS = (int, float, bool)
_ENCODER = json.JSONEncoder(default=str, separators=(",", ":"))
"""One encoder for every line (json.dumps with options builds a new one per call)."""
_SECRET_KEYS_KEPT = 512
_secret_keys: dict[str, bool] = {}
"""Field name → whether it names a credential (names are few and repeat on every line)."""

stream: TextIO = sys.stdout


def redact(value: Any, key: str = "") -> Any:
    """Drop anything that looks like a credential, by key name or by shape."""
    if key and _is_secret_key(key):
        return REDACTED
    if isinstance(value, str):
        if _SUSPECT.search(value) is None:
            return value
        return _JWT.sub(REDACTED, _BEARER.sub("Bearer " + REDACTED, value))
    if isinstance(value, int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def _is_secret_key(key: str) -> bool:
    known = _secret_keys.get(key)
    if known is None:
        known = _SECRET_KEY.search(key) is not None
        if len(_secret_keys) < _SECRET_KEYS_KEPT:  # keys of logged payloads could be anything
            _secret_keys[key] = known
    return known


def bind(**fields: Any) -> None:
    """Add fields to every later line of the current request."""
    context = request_context.get()
    if context is not None:
        context.update(fields)


def log(severity: str, message: str, **fields: Any) -> None:
    """Write one structured line; request context first, then the given fields."""
    line: dict[str, Any] = {
        "severity": severity,
        "message": redact(message),
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    context = request_context.get()
    if context:
        line.update(context)
    line.update(fields)
    for key, value in line.items():  # replacing values only: the dict keeps its size while iterated
        if _is_secret_key(key):
            line[key] = REDACTED
        elif type(value) is str:
            if _SUSPECT.search(value) is not None:
                line[key] = redact(value)
        elif value is not None and type(value) not in _NUMBERS:
            line[key] = redact(value)
    stream.write(_ENCODER.encode(line) + "\n")
    stream.flush()


def info(message: str, **fields: Any) -> None:
    """Log at INFO."""
    log("INFO", message, **fields)


def warning(message: str, **fields: Any) -> None:
    """Log at WARNING."""
    log("WARNING", message, **fields)


def error(message: str, **fields: Any) -> None:
    """Log at ERROR."""
    log("ERROR", message, **fields)


def monotonic_ms() -> float:
    """Milliseconds on a monotonic clock, for durations."""
    return time.perf_counter() * 1000.0
