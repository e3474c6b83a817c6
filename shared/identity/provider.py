"""The identity provider port: invite an email address, find a user by email.

Two adapters: Supabase Auth's admin API (supabase-py, imported lazily, for deployments) and a local
one that writes `auth.users` of the embedded stack directly. Neither ever generates, returns or stores
a password: an invited user sets their own through the provider's invite link.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from shared.platform.db import Tx
from shared.platform.errors import ConfigError, UnavailableError


@dataclass(frozen=True, slots=True)
class InvitedUser:
    """The provider's user for an invited email; `is_new` when the provider created it now."""

    user_id: UUID
    is_new: bool


class IdentityProvider(Protocol):
    """What the identity context needs from the identity provider."""

    async def invite(self, email: str, *, data: dict[str, Any], redirect_to: str | None) -> InvitedUser:
        """Create (or find) the user for `email` and send them an invitation."""
        ...


class LocalIdentityProvider:
    """The embedded stack's provider: creates the auth user row itself; no email leaves the machine."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def invite(self, email: str, *, data: dict[str, Any], redirect_to: str | None) -> InvitedUser:
        """Insert the auth user (the profile trigger does the rest), or find the existing one."""
        # auth.users is the provider's, not an API role's: written as the platform role.
        rows = await self.tx.as_platform(
            "select app.local_invite_user(%s, %s::jsonb) as result", (email, _json(data))
        )
        result = rows[0]["result"] if rows else None
        if not result:
            raise UnavailableError("The local identity provider could not invite the user.")
        return InvitedUser(UUID(result["id"]), bool(result["is_new"]))


class SupabaseIdentityProvider:
    """Supabase Auth's admin API (`POST /auth/v1/invite`) through supabase-py, loaded on first use."""

    def __init__(self, url: str, secret_key: str) -> None:
        self.url, self.secret_key = url, secret_key

    async def invite(self, email: str, *, data: dict[str, Any], redirect_to: str | None) -> InvitedUser:
        """Ask Supabase Auth to invite `email`; an existing account is found, not duplicated."""
        from supabase import acreate_client  # heavy: imported only when an invitation is sent

        client = await acreate_client(self.url, self.secret_key)
        options: dict[str, Any] = {"data": data}
        if redirect_to:
            options["redirect_to"] = redirect_to
        try:
            response = await client.auth.admin.invite_user_by_email(email, options)  # type: ignore[arg-type]
        except Exception as exc:  # the SDK raises its own error types; all mean "not now"
            if _is_existing_user(exc):
                existing = await _find_existing(client, email)
                if existing is not None:
                    return InvitedUser(existing, False)
            raise UnavailableError("The identity provider did not accept the invitation.") from exc
        return InvitedUser(UUID(str(response.user.id)), True)


def _is_existing_user(exc: Exception) -> bool:
    text = str(getattr(exc, "code", "") or exc).lower()
    return "email_exists" in text or "already been registered" in text or "already registered" in text


async def _find_existing(client: Any, email: str) -> UUID | None:
    # The admin API has no lookup by email; our own profiles table (a mirror of auth.users) is asked
    # first by the service, so this is only the fallback for a user created outside our functions.
    page = await client.auth.admin.list_users(page=1, per_page=1000)
    for user in page:
        if (getattr(user, "email", "") or "").lower() == email.lower():
            return UUID(str(user.id))
    return None


def _json(value: dict[str, Any]) -> str:
    import json

    return json.dumps(value, default=str)


def provider_for(tx: Tx) -> IdentityProvider:
    """The configured provider: IDENTITY_PROVIDER=local on the embedded stack, supabase elsewhere."""
    kind = os.environ.get("IDENTITY_PROVIDER", "supabase")
    if kind == "local":
        return LocalIdentityProvider(tx)
    if kind == "supabase":
        from shared.platform.config import get_settings

        settings = get_settings()
        if not settings.secret_keys:
            raise ConfigError("SUPABASE_SECRET_KEY is required to send invitations")
        return SupabaseIdentityProvider(settings.supabase_url, settings.secret_keys[0])
    raise ConfigError("IDENTITY_PROVIDER must be 'local' or 'supabase'")
