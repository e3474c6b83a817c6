"""Provider keys: the platform's from configuration, a community's own (stored encrypted) used first.

A key is held in an `ApiKey`, whose str and repr never show it; only the adapter that sends it calls
`reveal()`, to put it in a header (never in a URL, which httpx and proxies log).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from shared.platform import logging as log

if TYPE_CHECKING:
    from shared.platform.config import Settings
    from shared.platform.db import Row, Statement, Tx

KeyProvider = Literal["openai", "anthropic", "gemini"]
KEY_PROVIDERS: tuple[KeyProvider, ...] = ("openai", "anthropic", "gemini")
KeySource = Literal["community", "platform"]


class ApiKey:
    """A provider key that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The key itself, for the one header that carries it."""
        return self._value

    def __repr__(self) -> str:
        return "ApiKey('[redacted]')"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("an ApiKey is not serialised")


@dataclass(frozen=True, slots=True)
class Credential:
    """A key for one provider, and whose it is (usage is billed to the key's owner)."""

    provider: KeyProvider
    key: ApiKey
    source: KeySource


def platform_keys(settings: Settings) -> dict[KeyProvider, Credential]:
    """The platform's keys that are configured, by provider."""
    configured: Mapping[KeyProvider, str | None] = {
        "openai": settings.ai.openai_api_key,
        "anthropic": settings.ai.anthropic_api_key,
        "gemini": settings.ai.gemini_api_key,
    }
    return {name: Credential(name, ApiKey(value), "platform") for name, value in configured.items() if value}


_COMMUNITY_KEY_SQL = "select provider, ciphertext from app.community_secrets where community_id = %s"


async def community_key(tx: Tx, community_id: UUID) -> Credential | None:
    """The community's own key, decrypted; None when it has none or it cannot be decrypted.

    No API role can read `app.community_secrets`, so this one fixed statement runs as the platform role
    inside the caller's transaction (or, `community_key_statement`, in a round trip the caller sends).
    """
    return community_key_from(await tx.as_platform(*community_key_statement(community_id)), community_id)


def community_key_statement(community_id: UUID) -> Statement:
    """The read of the community's own key, to run as the platform role (`community_key_from` its rows)."""
    return _COMMUNITY_KEY_SQL, (community_id,)


def community_key_from(rows: list[Row], community_id: UUID) -> Credential | None:
    """The key `community_key_statement` read, decrypted; None when there is none or it does not decrypt.

    A key that no longer decrypts (the secrets key was rotated or is not set) is logged and skipped: the
    platform key serves the call instead of it failing.
    """
    from shared.platform.crypto import decrypt

    if not rows:
        return None
    provider = rows[0]["provider"]
    if provider not in KEY_PROVIDERS:
        return None
    try:
        value = decrypt(bytes(rows[0]["ciphertext"]), bound_to=str(community_id))
    except Exception as exc:  # InvalidTag, ValueError, ConfigError: all mean "not usable now"
        log.log("WARNING", "community provider key not usable", community_id=str(community_id),
                error=type(exc).__name__)
        return None
    name: KeyProvider = provider
    return Credential(name, ApiKey(value), "community")
