"""Community use cases: each authorises, changes state and writes its audit entry in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from shared.content.grants import repository as content_grants
from shared.identity import policy
from shared.identity.communities import model, repository
from shared.identity.communities.schemas import (
    AiSettingsView,
    CommunityBasicView,
    CommunityListQuery,
    CommunityPage,
    CommunitySummaryView,
    CommunityView,
    CreateCommunity,
    ReplaceFeatures,
    UpdateCommunity,
)
from shared.identity.errors import CommunityNotFoundError, StaleVersionError
from shared.platform import audit, cursors
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Row, Tx
from shared.platform.errors import FieldError, ValidationFailedError
from shared.platform.pagination import page_of

TARGET = "community"
SNAPSHOT_FIELDS = (
    "name",
    "slug",
    "project_name",
    "logo_url",
    "brand_color",
    "forum_enabled",
    "status",
    "is_template",
    "template_source_id",
    "features",
)


def _summary(row: Mapping[str, Any]) -> CommunitySummaryView:
    return CommunitySummaryView.model_validate({**row, "version": model.version_of(row["updated_at"])})


def _view(row: Mapping[str, Any], ai_settings: Mapping[str, Any] | None = None) -> CommunityView:
    ai = ai_settings if ai_settings is not None else row["ai_settings"]
    return CommunityView.model_validate(
        {**row, "version": model.version_of(row["updated_at"]), "ai_settings": ai}
    )


def _snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of a community."""
    return {name: row[name] for name in SNAPSHOT_FIELDS}


def etag(view: CommunitySummaryView) -> str:
    """The ETag of the community version a view shows."""
    return model.etag_of(view.updated_at)


async def clone_content_assignments(tx: Tx, *, source: UUID, target: UUID) -> int:
    """Grant a community cloned from a template the platform content the template is granted; the count."""
    return await content_grants.clone_grants(tx, source=source, target=target)


async def create_community(
    cmd: CreateCommunity, *, tx: Tx, principal: Principal, meta: RequestMeta
) -> CommunityView:
    """Create a community (cloning a template's features, tags and AI settings when one is named)."""
    policy.require_staff_writer(principal)
    source = None
    if cmd.template_id is not None:
        source = await repository.template(tx, cmd.template_id)
        if source is None:
            raise ValidationFailedError(
                [FieldError("body.template_id", "No template community has this id.", "template_not_found")]
            )
    features = model.merged_features(source["features"] if source else None, cmd.features)
    if len(features) > model.MAX_FEATURES:
        raise ValidationFailedError(
            [
                FieldError(
                    "body.features", f"At most {model.MAX_FEATURES} flags with the template's.", "too_long"
                )
            ]
        )
    values = cmd.model_dump(exclude={"template_id"})
    values.update(
        logo_url=None if cmd.logo_url is None else str(cmd.logo_url),
        features=features,
        template_source_id=cmd.template_id,
    )
    row = await repository.insert_community(tx, values)
    community_id: UUID = row["id"]
    ai: Row | None = None
    cloned_tags = cloned_grants = 0
    if source is not None:
        cloned_tags = await repository.clone_tags(tx, source=source["id"], target=community_id)
        ai = await repository.clone_ai_settings(tx, source=source["id"], target=community_id)
        cloned_grants = await clone_content_assignments(tx, source=source["id"], target=community_id)
    if ai is None:
        ai = await repository.get_ai_settings(tx, community_id)
    view = _view(row, ai)
    after = {**_snapshot(row), "ai_settings": AiSettingsView.model_validate(ai).model_dump(mode="json")}
    if source is not None:
        after["cloned_tags"] = cloned_tags
        after["cloned_grants"] = cloned_grants
    await audit.record(
        tx,
        meta,
        "community.created",
        target_type=TARGET,
        target_id=community_id,
        community_id=community_id,
        after=after,
    )
    return view


async def list_communities(query: CommunityListQuery, *, tx: Tx, principal: Principal) -> CommunityPage:
    """A page of communities in name order, with member counts (staff only)."""
    policy.require_staff_reader(principal)
    rows = await repository.list_communities(
        tx,
        pattern=model.like_pattern(query.q) if query.q else None,
        status=query.status,
        is_template=query.is_template,
        after=cursors.text_and_id(query.cursor),
        limit=query.limit + 1,
    )
    items, next_cursor = page_of(rows, query.limit, key=lambda r: [r["name"], str(r["id"])])
    return CommunityPage(items=[_summary(r) for r in items], next_cursor=next_cursor)


async def read_community(
    community_id: UUID, *, tx: Tx, principal: Principal
) -> CommunityView | CommunityBasicView:
    """The community as the caller may see it: everything for staff and its admins, basics for learners."""
    access = policy.require_visible(principal, community_id)
    row = await repository.get_community(tx, community_id)
    if row is None:
        raise CommunityNotFoundError()
    return _view(row) if access == "full" else CommunityBasicView.model_validate(row)


async def _locked_for_settings(tx: Tx, principal: Principal, community_id: UUID, if_match: str | None) -> Row:
    """The community, locked, for a settings writer whose If-Match (if any) names its current version."""
    policy.require_community_writer(principal, community_id)
    row = await repository.get_community(tx, community_id, lock=True)
    if row is None:
        raise CommunityNotFoundError()
    if not model.if_match_holds(if_match, model.etag_of(row["updated_at"])):
        raise StaleVersionError()
    return row


async def update_community(
    community_id: UUID,
    cmd: UpdateCommunity,
    *,
    if_match: str | None,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
) -> CommunityView:
    """Change community settings; its admins only the non-platform ones."""
    row = await _locked_for_settings(tx, principal, community_id, if_match)
    changes = model.changed_values(row, cmd.requested())
    policy.require_fields(principal, changes.keys())
    if not changes:
        return _view(row)
    new = await repository.update_community(tx, community_id, changes)
    if new is None:
        raise CommunityNotFoundError()
    await audit.record(
        tx,
        meta,
        "community.updated",
        target_type=TARGET,
        target_id=community_id,
        community_id=community_id,
        before={name: row[name] for name in changes},
        after={name: new[name] for name in changes},
    )
    return _view({**row, **new})


async def set_status(
    community_id: UUID, status: str, *, tx: Tx, principal: Principal, meta: RequestMeta
) -> CommunityView:
    """Archive or restore a community (staff who may write); already there is a no-op."""
    policy.require_staff_writer(principal)
    row = await repository.get_community(tx, community_id, lock=True)
    if row is None:
        raise CommunityNotFoundError()
    if row["status"] == status:
        return _view(row)
    new = await repository.update_community(tx, community_id, {"status": status})
    if new is None:
        raise CommunityNotFoundError()
    action = "community.archived" if status == "archived" else "community.restored"
    await audit.record(
        tx,
        meta,
        action,
        target_type=TARGET,
        target_id=community_id,
        community_id=community_id,
        before={"status": row["status"]},
        after={"status": status},
    )
    return _view({**row, **new})


async def replace_features(
    community_id: UUID,
    cmd: ReplaceFeatures,
    *,
    if_match: str | None,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
) -> CommunityView:
    """Replace the community's feature flags (staff who may write, or its admin)."""
    row = await _locked_for_settings(tx, principal, community_id, if_match)
    features = dict(cmd.features)
    if row["features"] == features:
        return _view(row)
    new = await repository.replace_features(tx, community_id, features)
    if new is None:
        raise CommunityNotFoundError()
    await audit.record(
        tx,
        meta,
        "community.features_replaced",
        target_type=TARGET,
        target_id=community_id,
        community_id=community_id,
        before={"features": row["features"]},
        after={"features": features},
    )
    return _view({**row, **new})


async def delete_community(
    community_id: UUID, confirm: str, *, tx: Tx, principal: Principal, meta: RequestMeta
) -> None:
    """Delete a community and everything scoped to it (super admin, confirming with its slug)."""
    policy.require_super_admin(principal)
    row = await repository.get_community(tx, community_id, lock=True)
    if row is None:
        raise CommunityNotFoundError()
    if confirm != row["slug"]:
        raise ValidationFailedError(
            [FieldError("query.confirm", "Must be the community's slug.", "confirmation_mismatch")]
        )
    await repository.delete_community(tx, community_id)
    await audit.record(
        tx,
        meta,
        "community.deleted",
        target_type=TARGET,
        target_id=community_id,
        community_id=community_id,
        before={**_snapshot(row), "member_count": row["member_count"]},
    )
