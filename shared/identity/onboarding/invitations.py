"""Invitations: an admin invites an email address into the community with a role and tags.

Decisions:
- An address that already has an account (our profiles, any case) becomes a membership at once, the
  invitation is recorded as `accepted`, and the provider is not asked (nobody gets a needless email).
- Otherwise the identity provider invites the address and returns the new user's id; the membership is
  created for that id right away (source `invitation`), so the person lands in the community the moment
  they accept. The invitation stays `sent`.
- Revoking a `sent` invitation removes the membership it created; the provider's user stays (it owns
  no data and may be invited again). An `accepted` invitation is a membership now: remove the member
  instead (409 `invitation_accepted`).
- Every database check runs before the provider is asked, so a refused invitation sends no email.
- No password is generated, returned or stored, by us or by either provider adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from shared.identity.onboarding import errors, repository
from shared.identity.onboarding.links import require_community, require_own_tags
from shared.identity.onboarding.schemas import (
    CreateInvitation,
    InvitationPage,
    InvitationQuery,
    InvitationView,
)
from shared.identity.provider import provider_for
from shared.platform import audit
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Tx
from shared.platform.errors import FieldError, ValidationFailedError
from shared.platform.events import Event, enqueue
from shared.platform.pagination import decode_cursor, page_of, time_and_id


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_redirect(redirect_to: str | None, allowed_origins: Sequence[str]) -> str | None:
    """The redirect when its origin is one of the app's configured origins (never a wildcard); else 422."""
    if redirect_to is None:
        return None
    allowed = {o.rstrip("/").lower() for o in allowed_origins if o != "*"}
    if _origin(redirect_to) not in allowed:
        raise ValidationFailedError(
            [
                FieldError(
                    "body.redirect_to", "Must be a URL on one of the app's own origins.", "origin_not_allowed"
                )
            ]
        )
    return redirect_to


async def invite(
    cmd: CreateInvitation,
    community_id: UUID,
    *,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
    allowed_origins: Sequence[str],
) -> InvitationView:
    """Invite `cmd.email`: an existing account joins now, a new address is invited through the provider."""
    await require_community(tx, community_id)
    tag_ids = await require_own_tags(tx, community_id, cmd.tag_ids)
    redirect_to = check_redirect(cmd.redirect_to, allowed_origins)
    account = await repository.account_for_email(tx, community_id, cmd.email)
    if account is not None and account["is_member"]:
        raise errors.AlreadyMemberError("This address already belongs to a member of the community.")
    if account is not None:
        user_id, status = account["user_id"], "accepted"
    else:
        data = {"first_name": cmd.first_name, "last_name": cmd.last_name, "invited_to": str(community_id)}
        invited = await provider_for(tx).invite(cmd.email, data=data, redirect_to=redirect_to)
        user_id, status = invited.user_id, "sent" if invited.is_new else "accepted"
    is_added = await repository.add_membership(
        tx, community_id, user_id, role=cmd.role, source="invitation", invited_by=principal.user_id
    )
    if not is_added:  # joined between our look-up and now
        raise errors.AlreadyMemberError("This address already belongs to a member of the community.")
    await repository.assign_tags(
        tx, community_id, [(user_id, t) for t in tag_ids], assigned_by=principal.user_id
    )
    row = await repository.insert_invitation(
        tx,
        community_id=community_id,
        email=cmd.email,
        role=cmd.role,
        tag_ids=tag_ids,
        user_id=user_id,
        status=status,
        invited_by=principal.user_id,
    )
    view = InvitationView.model_validate(row)
    await audit.record(
        tx,
        meta,
        "invitation.created",
        target_type="invitation",
        target_id=view.id,
        community_id=community_id,
        after=_audited(view),
    )
    await enqueue(
        tx,
        Event(
            name="member.joined",
            payload={
                "community_id": str(community_id),
                "user_id": str(user_id),
                "source": "invitation",
                "invitation_id": str(view.id),
            },
        ),
    )
    return view


async def list_invitations(tx: Tx, community_id: UUID, query: InvitationQuery) -> InvitationPage:
    """A page of the community's invitations, newest first."""
    await require_community(tx, community_id)
    rows = await repository.list_invitations(
        tx,
        community_id,
        status=query.status,
        after=decode_cursor(query.cursor, 2),
        limit=query.limit + 1,
    )
    page, cursor = page_of(rows, query.limit, key=time_and_id("created_at", "id"))
    return InvitationPage(items=[InvitationView.model_validate(r) for r in page], next_cursor=cursor)


async def revoke(community_id: UUID, invitation_id: UUID, *, tx: Tx, meta: RequestMeta) -> InvitationView:
    """Revoke a sent invitation and the membership it created; revoking twice changes nothing."""
    row = await repository.invitation_for_update(tx, community_id, invitation_id)
    if row is None:
        raise errors.InvitationNotFoundError("No such invitation in this community.")
    before = InvitationView.model_validate(row)
    if before.status == "revoked":
        return before
    if before.status == "accepted":
        raise errors.InvitationAcceptedError(
            "This invitation was accepted; remove the member instead of revoking it."
        )
    if before.user_id is not None:
        await repository.remove_invited_membership(tx, community_id, before.user_id)
    after = InvitationView.model_validate(
        await repository.set_invitation_status(tx, invitation_id, "revoked")
    )
    await audit.record(
        tx,
        meta,
        "invitation.revoked",
        target_type="invitation",
        target_id=invitation_id,
        community_id=community_id,
        before=_audited(before),
        after=_audited(after),
    )
    return after


def _audited(view: InvitationView) -> dict[str, Any]:
    return view.model_dump(mode="json", include={"email", "role", "tag_ids", "user_id", "status"})
