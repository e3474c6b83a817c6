"""`WebUrl`: an http(s) URL as a client sends it.

Apart from `validation` because pydantic's URL types load `pydantic.networks` with the standard library's
`email` and `ipaddress` (~10 M instructions of a cold start): only functions whose models hold a URL pay
for them. `validation.WebUrl` still names it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, HttpUrl
from pydantic_core import PydanticCustomError

from shared.platform.validation import MAX_URL


def _url_length(value: Any) -> Any:
    # Checked as sent; normalising may add a "/" and the stored URL must still fit MAX_URL.
    if isinstance(value, str) and len(value) >= MAX_URL:
        raise PydanticCustomError("string_too_long", f"may be at most {MAX_URL - 1} characters")
    return value


WebUrl = Annotated[HttpUrl, BeforeValidator(_url_length), Field(json_schema_extra={"maxLength": MAX_URL - 1})]
"""An http(s) URL as sent by a client: at most 2047 characters, so its normalised form fits 2048."""
