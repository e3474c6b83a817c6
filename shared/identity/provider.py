"""The identity provider port: invite an email address, which creates the provider's user for it.

Two adapters: Supabase Auth's admin API (supabase-py, imported and its client created on first use, then
kept for the instance) for deployments, and a local one that writes `auth.users` of the embedded stack
with plain SQL as the login role. The worker calls them between its own short transactions, never
inside one. Like Supabase's invite API, both refuse an address that already has an account
(`AccountExistsError`): that person is shown the invitation in the app instead. Neither ever generates,
returns or stores a password: an invited user sets their own through the provider's invite link.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Protocol
from uuid import UUID

from shared.platform.config import get_settings, require
from shared.platform.db import as_login_role
from shared.platform.errors import UnavailableError


class AccountExistsError(Exception):
    """The provider already has an account for this address, so it sent nothing."""


class ProviderBusyError(Exception):
    """The provider refused for now (rate limited, 429): it sent nothing, so sending later is safe."""


class IdentityProvider(Protocol):
    """What the identity context needs from the identity provider."""

    async def invite(self, email: str, *, data: dict[str, Any], redirect_to: str | None) -> UUID:
        """Create the user for `email`, send them an invitation, return their id."""
        ...


_LOCAL_INVITE_SQL = """
insert into auth.users (email, raw_user_meta_data, invited_at)
select lower(%(email)s), %(data)s::jsonb, now()
where not exists (select 1 from auth.users u where lower(u.email) = lower(%(email)s))
returning id
"""


class LocalIdentityProvider:
    """The embedded stack's provider: creates the auth user row itself; no email leaves the machine."""

    async def invite(self, email: str, *, data: dict[str, Any], redirect_to: str | None) -> UUID:
        """Insert the auth user (the profile trigger does the rest); AccountExistsError when there is one."""
        rows = await as_login_role(_LOCAL_INVITE_SQL, {"email": email, "data": json.dumps(data, default=str)})
        if not rows:
            raise AccountExistsError(email)
        user_id: UUID = rows[0]["id"]
        return user_id


class SupabaseIdentityProvider:
    """Supabase Auth's admin API (`POST /auth/v1/invite`) through one supabase-py client per instance."""

    def __init__(self, url: str, secret_key: str) -> None:
        self.url, self.secret_key = url, secret_key
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _auth_admin(self) -> Any:
        # The client's HTTP pool belongs to the event loop it was made on; a new loop (tests) gets a new one.
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            from supabase import acreate_client  # heavy: imported only when an invitation is delivered

            self._client, self._loop = await acreate_client(self.url, self.secret_key), loop
        return self._client.auth.admin

    async def invite(self, email: str, *, data: dict[str, Any], redirect_to: str | None) -> UUID:
        """Ask Supabase Auth to invite `email`; AccountExistsError when it has the address already."""
        admin = await self._auth_admin()
        options: dict[str, Any] = {"data": data}
        if redirect_to:
            options["redirect_to"] = redirect_to
        try:
            response = await admin.invite_user_by_email(email, options)
        except Exception as exc:  # the SDK raises its own error types; all but "exists" mean "not now"
            if _is_existing_user(exc):
                raise AccountExistsError(email) from exc
            if getattr(exc, "status", None) == 429:
                raise ProviderBusyError("The identity provider asked to slow down.") from exc
            raise UnavailableError("The identity provider did not accept the invitation.") from exc
        return UUID(str(response.user.id))


def _is_existing_user(exc: Exception) -> bool:
    text = str(getattr(exc, "code", "") or exc).lower()
    return "email_exists" in text or "already been registered" in text or "already registered" in text


_providers: dict[tuple[str, ...], IdentityProvider] = {}


def identity_provider() -> IdentityProvider:
    """The configured provider, one per instance: IDENTITY_PROVIDER=local on the embedded stack, else supabase."""
    settings = get_settings()
    if settings.identity_provider == "local":
        return _providers.setdefault(("local",), LocalIdentityProvider())
    secret_key = require(settings.secret_keys, "SUPABASE_SECRET_KEY", "invitations cannot be sent")[0]
    key = ("supabase", settings.supabase_url, secret_key)
    if key not in _providers:
        _providers[key] = SupabaseIdentityProvider(settings.supabase_url, secret_key)
    return _providers[key]
