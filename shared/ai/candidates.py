"""Which providers, models and keys a call on behalf of a community (or of the platform) tries, in order."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from shared.ai import fallback, keys
from shared.ai.fallback import Candidate
from shared.ai.providers import offline
from shared.identity.errors import CommunityNotFoundError

if TYPE_CHECKING:
    from shared.ai.keys import Credential
    from shared.ai.providers.base import ProviderName
    from shared.platform.config import Settings
    from shared.platform.db import Tx

_SETTINGS_SQL = (
    "select default_provider, default_model from public.community_ai_settings where community_id = %s"
)


async def for_community(tx: Tx, community_id: UUID, settings: Settings) -> list[Candidate]:
    """The community's chosen provider and model (its own key first), then the fallback order.

    The settings are read as the caller (row level security: its members, admins and staff); a
    community they cannot read is a 404.
    """
    row = await tx.fetch_one(_SETTINGS_SQL, (community_id,))
    if row is None:
        raise CommunityNotFoundError()
    return await for_model(tx, row["default_provider"], row["default_model"], community_id, settings)


async def for_model(
    tx: Tx, provider: ProviderName, model: str, community_id: UUID, settings: Settings, *, has_own_key: bool = True
) -> list[Candidate]:
    """This provider and model first (the community's own key before the platform's), then the fallback
    order. The community's key is read only when it may have one and the provider is not offline."""
    own = await keys.community_key(tx, community_id) if has_own_key and provider != "offline" else None
    return with_key(provider, model, settings, own)


def with_key(provider: ProviderName, model: str, settings: Settings, own: Credential | None) -> list[Candidate]:
    """This provider and model first (with the community's own key `own` before the platform's), then the
    fallback order."""
    return fallback.plan(
        provider,
        model,
        fallback_order=settings.ai.fallback_order,
        community=own,
        platform=keys.platform_keys(settings),
    )


def for_platform(settings: Settings) -> list[Candidate]:
    """The platform's own keys in the fallback order, each provider's default model; offline without keys."""
    platform = keys.platform_keys(settings)
    provider = next((name for name in settings.ai.fallback_order if name in platform), None)
    if provider is None:
        return fallback.plan("offline", offline.MODEL, fallback_order=(), community=None, platform={})
    return fallback.plan(
        provider,
        fallback.DEFAULT_MODELS[provider],
        fallback_order=settings.ai.fallback_order,
        community=None,
        platform=platform,
    )
