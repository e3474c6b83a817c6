"""A community's AI settings: provider, model, the platform's token quota, and its own key (write-only)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from shared.identity import policy
from shared.identity.communities import model, repository
from shared.identity.communities.schemas import AiSettingsView, UpdateAiSettings
from shared.identity.errors import CommunityNotFoundError
from shared.platform import audit
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.crypto import encrypt
from shared.platform.db import Tx
from shared.platform.errors import FieldError, ValidationFailedError

TARGET = "community"


async def read_ai_settings(community_id: UUID, *, tx: Tx, principal: Principal) -> AiSettingsView:
    """A community's AI settings (staff and its admins; never the key)."""
    policy.require_community_reader(principal, community_id)
    row = await repository.get_ai_settings(tx, community_id)
    if row is None:
        raise CommunityNotFoundError()
    return AiSettingsView.model_validate(row)


async def update_ai_settings(
    community_id: UUID, cmd: UpdateAiSettings, *, tx: Tx, principal: Principal, meta: RequestMeta
) -> AiSettingsView:
    """Change provider, model, quota (staff) and the community's own key (stored encrypted, never shown)."""
    policy.require_community_writer(principal, community_id)
    current = await repository.get_ai_settings(tx, community_id, lock=True)
    if current is None:
        raise CommunityNotFoundError()
    changes = model.changed_values(current, cmd.setting_changes())
    policy.require_ai_fields(principal, community_id, changes.keys(), touches_key=cmd.touches_key)
    key_provider = None
    if cmd.api_key is not None:
        key_provider = cmd.api_key_provider or changes.get("default_provider", current["default_provider"])
        if key_provider not in model.KEY_PROVIDERS:
            raise ValidationFailedError(
                [
                    FieldError(
                        "body.api_key_provider",
                        "Name the key's provider: openai, anthropic or gemini.",
                        "missing",
                    )
                ]
            )
    removes_key = cmd.touches_key and cmd.api_key is None and current["has_own_key"]
    if not changes and cmd.api_key is None and not removes_key:
        return AiSettingsView.model_validate(current)
    if changes:
        await repository.update_ai_settings(tx, community_id, changes)
    if cmd.api_key is not None and key_provider is not None:
        ciphertext = encrypt(cmd.api_key.get_secret_value(), bound_to=str(community_id))
        await repository.set_provider_key(tx, community_id, key_provider, ciphertext)
    elif removes_key:
        await repository.clear_provider_key(tx, community_id)
    updated = await repository.get_ai_settings(tx, community_id)
    if updated is None:
        raise CommunityNotFoundError()
    shown = [*changes, "has_own_key", "own_key_provider"]
    after: dict[str, Any] = {name: updated[name] for name in shown}
    if cmd.touches_key:
        after["own_key"] = "set" if cmd.api_key is not None else "removed"  # never the key itself
    await audit.record(
        tx,
        meta,
        "community.ai_settings_updated",
        target_type=TARGET,
        target_id=community_id,
        community_id=community_id,
        before={name: current[name] for name in shown},
        after=after,
    )
    return AiSettingsView.model_validate(updated)
