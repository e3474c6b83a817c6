"""The field types of item bodies, shared by every repository function's contract and by other domains.

Annotated types only, no models: importing a title or a URL field builds nothing (cold start).
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Annotated

from pydantic import AfterValidator, Field, HttpUrl, TypeAdapter
from pydantic_core import PydanticCustomError

from shared.platform.validation import MAX_URL, Integral, PlainText

LOCAL_HOSTS = frozenset({"localhost"})


def _is_local(host: str) -> bool:
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@functools.cache
def _url() -> TypeAdapter[HttpUrl]:
    return TypeAdapter(HttpUrl)  # built on the first URL checked, not at import (cold start)


def _https(value: str) -> str:
    if not value.isascii():  # a URI is ASCII (RFC 3986): other characters are percent-encoded, hosts punycode
        raise PydanticCustomError("url_parsing", "must be an ASCII URL (percent-encode other characters)")
    url = _url().validate_python(value)
    # http only for a loopback host: the local stack serves uploaded files from disk over plain http.
    if url.scheme != "https" and not (url.host is not None and _is_local(url.host)):
        raise PydanticCustomError("url_scheme", "must be an https URL")
    return str(url)


SecureUrl = Annotated[
    str,
    Field(max_length=MAX_URL - 1, json_schema_extra={"format": "uri", "pattern": "^https?://"}),
    AfterValidator(_https),
]
"""An https URL (http only for localhost and loopback addresses), kept as the normalised string."""
Label = Annotated[PlainText, Field(min_length=1, max_length=100)]

Title = Annotated[PlainText, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=5000)]
MAX_LABELS = 30


def _distinct(labels: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for label in labels:
        if label.lower() not in seen:
            seen.add(label.lower())
            kept.append(label)
    return kept


Labels = Annotated[
    list[Annotated[PlainText, Field(min_length=1, max_length=50)]],
    Field(max_length=MAX_LABELS, description="Content labels; repeats (in any case) are dropped"),
    AfterValidator(_distinct),
]
Revision = Annotated[
    int,
    Field(ge=1, le=2**31 - 1, description="The revision you read (the alternative to If-Match)"),
    Integral,
]
ChangeSummary = Annotated[str, Field(max_length=500, description="Why this version, in a line")]
