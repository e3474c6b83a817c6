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
_encode_text = json.encoder.encode_basestring_ascii
"""How `_ENCODER` writes a string (ensure_ascii: one line, whatever the text holds)."""
_REDACTED_JSON = _encode_text(REDACTED)
_FIXED_KEYS = frozenset(("severity", "message", "time"))
_TAKEN = "taken"
_json_keys: dict[str, str] = {}
"""Field name → its `,"name":` as written, `!` first for a credential's key, or _TAKEN."""
_TEXTS_KEPT = 2048
_TEXT_KEPT_LENGTH = 80
_json_texts: dict[str, str] = {}
"""Short field values → as written (redacted): the function, routes, methods, paths and user ids repeat."""
_ACCESS_KEYS = frozenset(("method", "path", "status", "duration_ms", "db_round_trips", "db_ms"))
_clock_second = -1
_clock_text = ""

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
    context = request_context.get()
    line = _fast_line(severity, message, context, fields)
    if line is None:
        line = _ENCODER.encode(_line_dict(severity, message, context, fields))
    stream.write(line + "\n")
    stream.flush()


def _line_dict(severity: str, message: str, context: dict[str, Any] | None, fields: dict[str, Any]) -> dict[str, Any]:
    """The line as a redacted dict, for any values json can encode (the general path)."""
    line: dict[str, Any] = {"severity": severity, "message": redact(message), "time": _timestamp()}
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
    return line


def access(severity: str, method: str, path: str, status: int, duration_ms: float, round_trips: int, db_ms: float) -> None:
    """The line each request ends with: `log(severity, "request", method=…, path=…, status=…, …)`, cheaper."""
    context = request_context.get()
    parts = None if context and not context.keys().isdisjoint(_ACCESS_KEYS) else _parts(severity, "request", context)
    if parts is None:
        fields = {"method": method, "path": path, "status": status, "duration_ms": duration_ms}
        log(severity, "request", **fields, db_round_trips=round_trips, db_ms=db_ms)
        return
    parts += (
        ',"method":',
        _json_texts.get(method) or _json_text(method),
        ',"path":',
        _json_texts.get(path) or _json_text(path),
        f',"status":{status:d},"duration_ms":{duration_ms!r},"db_round_trips":{round_trips:d},"db_ms":{db_ms!r}}}\n',
    )
    stream.write("".join(parts))
    stream.flush()


def _fast_line(severity: str, message: str, context: dict[str, Any] | None, fields: dict[str, Any]) -> str | None:
    """The same line as `_line_dict` encoded, written directly when every value is a str, number or None.

    None when the line needs the general path: a container or other object to encode, a non-finite
    float, or a field that would replace one already placed (json keeps the first position).
    """
    if context and fields and not context.keys().isdisjoint(fields):
        return None
    parts = _parts(severity, message, context, fields)
    if parts is None:
        return None
    parts.append("}")
    return "".join(parts)


def _parts(
    severity: str, message: str, context: dict[str, Any] | None, fields: dict[str, Any] | None = None
) -> list[str] | None:
    """The line's JSON but its closing brace, in pieces; None when it needs the general path."""
    if type(severity) is not str or type(message) is not str:
        return None
    parts = ['{"severity":', _json_texts.get(severity) or _json_text(severity), ',"message":']
    parts += (_json_texts.get(message) or _json_text(message), ',"time":"', _timestamp(), '"')
    for source in (context, fields):
        if not source:
            continue
        for key, value in source.items():
            name = _json_keys.get(key)
            if name is None:
                name = _json_key(key)
            if name is _TAKEN:
                return None
            if name[0] == "!":  # a credential's key: its value is never looked at
                parts += (name[1:], _REDACTED_JSON)
                continue
            kind = type(value)
            if kind is str:
                text = _json_texts.get(value)
                if text is None:
                    text = _json_text(value, keep=key != "request_id")  # a fresh one on most requests
            elif kind is int:
                text = int.__repr__(value)
            elif value is None:
                text = "null"
            elif kind is bool:
                text = "true" if value else "false"
            elif kind is float and value - value == 0.0:  # finite
                text = float.__repr__(value)
            else:
                return None
            parts += (name, text)
    return parts


def _json_text(value: str, *, keep: bool = True) -> str:
    """A string as json writes it, credentials redacted; short ones are remembered (methods, routes, ids)."""
    text = _encode_text(value if _SUSPECT.search(value) is None else redact(value))
    if keep and len(value) <= _TEXT_KEPT_LENGTH and len(_json_texts) < _TEXTS_KEPT:
        _json_texts[value] = text
    return text


def _json_key(key: str) -> str:
    """`,"key":` as json writes it, `!` first when the key names a credential; _TAKEN for the fixed keys."""
    if key in _FIXED_KEYS:
        name = _TAKEN
    else:
        name = ("!" if _is_secret_key(key) else "") + "," + _encode_text(key) + ":"
    if len(_json_keys) < _SECRET_KEYS_KEPT:
        _json_keys[key] = name
    return name


def _timestamp() -> str:
    """Now in ISO 8601 with milliseconds, UTC; the date and time of day are formatted once a second."""
    global _clock_second, _clock_text
    now = time.time()
    second = int(now)
    if second != _clock_second:
        _clock_second, _clock_text = second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{_clock_text}.{int((now - second) * 1000):03d}+00:00"


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
