"""Invitations: an admin invites an email address into the community with a role and tags; the invitee consents.

Decisions:
- Creating an invitation never creates a membership, and its answer is the same for an address with an
  account anywhere on the platform and one without: a pending (`sent`) invitation, delivery `pending`,
  no provider asked in the request. So the answer tells an admin nothing about other communities' people,
  and they cannot read the invitee's profile (profiles are visible to admins of communities one belongs to).
- The worker delivers it afterwards, outside any transaction (`deliveries`): a new address gets the
  identity provider's invite e-mail; an existing account gets nothing by e-mail and finds the invitation
  in the app (`GET /invitations/mine`).
- The invitee accepts (`app.accept_invitation`: checks the caller, then in one transaction the membership
  with the invited role and tags, the invitation `accepted`, audit, `member.joined`) or declines. An admin
  role is only ever given on acceptance.
- An address that belongs to a member here is a 409 `already_member` (the admin sees their members
  anyway); one with a pending invitation here is a 409 `invitation_pending`.
- Revoking a pending invitation just closes it; an accepted one is a membership now (remove the member).
- No password is generated, returned or stored, by us or by either provider adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from shared.identity import errors, policy
from shared.identity.communities.scope import require_existing
from shared.identity.onboarding import repository
from shared.identity.onboarding.event_names import DELIVERY_REQUESTED
from shared.identity.onboarding.invitation_schemas import (
    CreateInvitation,
    InvitationPage,
    InvitationQuery,
    InvitationView,
    MyInvitationPage,
    MyInvitationView,
)
from shared.identity.onboarding.join_tags import require_own_tags
from shared.platform import audit, cursors, events
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Tx
from shared.platform.errors import AppError, FieldError, ValidationFailedError
from shared.platform.events import Event
from shared.platform.pagination import PageQuery, page_of, time_and_id


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
    *,
    tx: Tx,
    principal: Principal,
    meta: RequestMeta,
    allowed_origins: Sequence[str],
) -> InvitationView:
    """Record a pending invitation from the caller; the worker delivers it after the commit."""
    community_id = cmd.community_id
    policy.require_community_writer(principal, community_id)
    await require_existing(tx, principal, community_id)
    tag_ids = await require_own_tags(tx, community_id, cmd.tag_ids)
    redirect_to = check_redirect(cmd.redirect_to, allowed_origins)
    if await repository.is_member_email(tx, community_id, cmd.email):
        raise errors.AlreadyMemberError("This address already belongs to a member of the community.")
    row = await repository.insert_invitation(
        tx,
        community_id=community_id,
        email=cmd.email,
        role=cmd.role,
        tag_ids=tag_ids,
        first_name=cmd.first_name,
        last_name=cmd.last_name,
        redirect_to=redirect_to,
    )
    if row is None:
        raise errors.InvitationPendingError("This address has a pending invitation to the community.")
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
    return view


async def list_invitations(query: InvitationQuery, *, tx: Tx, principal: Principal) -> InvitationPage:
    """A page of the community's invitations, newest first."""
    policy.require_community_reader(principal, query.community_id)
    after = cursors.time_and_id(query.cursor)
    await require_existing(tx, principal, query.community_id)
    rows = await repository.list_invitations(
        tx, query.community_id, status=query.status, after=after, limit=query.limit + 1
    )
    page, cursor = page_of(rows, query.limit, key=time_and_id("created_at", "id"))
    return InvitationPage(items=[InvitationView.model_validate(r) for r in page], next_cursor=cursor)


async def revoke(invitation_id: UUID, *, tx: Tx, principal: Principal, meta: RequestMeta) -> InvitationView:
    """Revoke a pending invitation; revoking twice (or a declined one) changes nothing."""
    row = await repository.invitation_for_update(tx, invitation_id)
    if row is None:
        raise errors.InvitationNotFoundError()
    policy.require_item_writer(principal, row["community_id"], errors.InvitationNotFoundError)
    before = InvitationView.model_validate(row)
    if before.status in ("revoked", "declined"):
        return before
    if before.status == "accepted":
        raise errors.InvitationAcceptedError(
            "This invitation was accepted; remove the member instead of revoking it."
        )
    after = InvitationView.model_validate(
        await repository.set_invitation_status(tx, invitation_id, "revoked")
    )
    await audit.record(
        tx,
        meta,
        "invitation.revoked",
        target_type="invitation",
        target_id=invitation_id,
        community_id=before.community_id,
        before=_audited(before),
        after=_audited(after),
    )
    return after


async def resend(invitation_id: UUID, *, tx: Tx, principal: Principal, meta: RequestMeta) -> InvitationView:
    """Deliver a pending invitation again whose delivery failed (e.g. the provider was down).

    The delivery becomes pending and the worker is asked again, both with the COMMIT; the import row it
    came from waits for the new outcome. A delivery that is pending or done is left alone (409).
    """
    row = await repository.invitation_for_update(tx, invitation_id)
    if row is None:
        raise errors.InvitationNotFoundError()
    policy.require_item_writer(principal, row["community_id"], errors.InvitationNotFoundError)
    before = InvitationView.model_validate(row)
    if before.status != "sent":
        raise errors.InvitationClosedError(f"This invitation was {before.status}; there is nothing to send.")
    if before.delivery != "failed":
        raise errors.DeliveryNotFailedError(
            "Only a failed delivery is sent again; this one is pending or was delivered."
        )
    repository.request_redelivery(tx, invitation_id)
    await events.enqueue(
        tx, Event(name=DELIVERY_REQUESTED, payload={"invitation_ids": [str(invitation_id)]})
    )
    after = before.model_copy(update={"delivery": "pending", "delivery_error": None})
    await audit.record(
        tx,
        meta,
        "invitation.resent",
        target_type="invitation",
        target_id=invitation_id,
        community_id=before.community_id,
        before={"delivery": before.delivery, "delivery_error": before.delivery_error},
        after={"delivery": "pending"},
    )
    return after


# --- the invitee's side -------------------------------------------------------------------------------


async def my_invitations(tx: Tx, query: PageQuery) -> MyInvitationPage:
    """The caller's pending invitations (by their account's e-mail or id), newest first."""
    rows = await repository.my_invitations(tx, after=cursors.time_and_id(query.cursor), limit=query.limit + 1)
    page, cursor = page_of(rows, query.limit, key=time_and_id("invited_at", "id"))
    return MyInvitationPage(items=[MyInvitationView.model_validate(r) for r in page], next_cursor=cursor)


_REFUSALS: dict[str, tuple[type[AppError], str]] = {
    "not_found": (errors.InvitationNotFoundError, "You have no invitation with this id."),
    "revoked": (errors.InvitationRevokedError, "This invitation was revoked."),
    "declined": (errors.InvitationDeclinedError, "This invitation was declined."),
    "accepted": (errors.InvitationAcceptedError, "This invitation was accepted."),
    "community_archived": (errors.CommunityArchivedError, "This community is archived."),
}


async def accept(tx: Tx, invitation_id: UUID, meta: RequestMeta) -> MyInvitationView:
    """Accept as the invitee: the membership with the invited role and tags; accepting again answers the same."""
    return _answered(await repository.accept(tx, invitation_id, _meta(meta)), "accepted")


async def decline(tx: Tx, invitation_id: UUID, meta: RequestMeta) -> MyInvitationView:
    """Decline as the invitee: nobody joins; declining again answers the same."""
    return _answered(await repository.decline(tx, invitation_id, _meta(meta)), "declined")


def _answered(result: dict[str, Any], wanted: str) -> MyInvitationView:
    outcome = str(result.get("outcome"))
    if outcome != wanted:
        error, detail = _REFUSALS.get(outcome, _REFUSALS["not_found"])
        raise error(detail)
    return MyInvitationView.model_validate(result["invitation"])


def _meta(meta: RequestMeta) -> dict[str, Any]:
    return {"request_id": meta.request_id, "ip": meta.ip, "user_agent": meta.user_agent}


def _audited(view: InvitationView) -> dict[str, Any]:
    return view.model_dump(mode="json", include={"email", "role", "tag_ids", "user_id", "status", "source"})
