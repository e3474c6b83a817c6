"""Signup links: create (the token shown once, only its SHA-256 kept), list, revoke, redeem."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from shared.identity import errors, policy
from shared.identity.communities.scope import require_existing
from shared.identity.onboarding import join_tags, repository
from shared.identity.onboarding.link_schemas import (
    CreatedSignupLink,
    CreateSignupLink,
    Redeemed,
    RedeemSignupLink,
    SignupLinkPage,
    SignupLinkQuery,
    SignupLinkView,
)
from shared.platform import audit, cursors
from shared.platform.audit import RequestMeta
from shared.platform.auth import Principal
from shared.platform.db import Tx
from shared.platform.errors import AppError
from shared.platform.events import Event, enqueue
from shared.platform.pagination import page_of, time_and_id

TOKEN_BYTES = 32
"""256 bits of randomness: guessing a live token is hopeless, rate limit or not."""
JOIN_PATH = "/join"


def new_token() -> str:
    """A fresh link token (URL-safe, 43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> bytes:
    """What the database keeps of a token: its SHA-256."""
    return hashlib.sha256(token.encode()).digest()


def join_url(token: str, origins: Sequence[str]) -> str | None:
    """Where the app redeems a link: the first configured app origin, the token in the URL fragment.

    The fragment never reaches a server, so the token stays out of access logs and Referer headers.
    """
    origin = next((o.rstrip("/") for o in origins if urlsplit(o).scheme in ("http", "https")), None)
    return f"{origin}{JOIN_PATH}#token={token}" if origin else None


async def create_link(
    cmd: CreateSignupLink, *, tx: Tx, principal: Principal, meta: RequestMeta, origins: Sequence[str]
) -> CreatedSignupLink:
    """Create a link; the returned view carries the plaintext token, which is stored nowhere."""
    community_id = cmd.community_id
    policy.require_community_writer(principal, community_id)
    await require_existing(tx, principal, community_id)
    tag_ids = await join_tags.require_own_tags(tx, community_id, cmd.tag_ids)
    token = new_token()
    row = await repository.insert_link(
        tx,
        community_id=community_id,
        token_hash=token_hash(token),
        label=cmd.label,
        expires_at=cmd.expiry(),
        max_uses=cmd.max_uses,
        created_by=principal.user_id,
        tag_ids=tag_ids,
    )
    view = SignupLinkView.model_validate(row)
    await audit.record(
        tx,
        meta,
        "signup_link.created",
        target_type="signup_link",
        target_id=view.id,
        community_id=community_id,
        after=_audited(view),
    )
    return CreatedSignupLink(**view.model_dump(), token=token, join_url=join_url(token, origins))


async def list_links(query: SignupLinkQuery, *, tx: Tx, principal: Principal) -> SignupLinkPage:
    """A page of the community's links, newest first (never a token)."""
    policy.require_community_reader(principal, query.community_id)
    after = cursors.time_and_id(query.cursor)
    await require_existing(tx, principal, query.community_id)
    rows = await repository.list_links(
        tx, query.community_id, status=query.status, after=after, limit=query.limit + 1
    )
    page, cursor = page_of(rows, query.limit, key=time_and_id("created_at", "id"))
    return SignupLinkPage(items=[SignupLinkView.model_validate(r) for r in page], next_cursor=cursor)


async def revoke_link(link_id: UUID, *, tx: Tx, principal: Principal, meta: RequestMeta) -> SignupLinkView:
    """Revoke a link; revoking a revoked link changes nothing and is not audited again."""
    before = await repository.link(tx, link_id)
    if before is None:
        raise errors.SignupLinkNotFoundError()
    community_id: UUID = before["community_id"]
    policy.require_item_writer(principal, community_id, errors.SignupLinkNotFoundError)
    if not await repository.revoke_link(tx, link_id):
        return SignupLinkView.model_validate(before)
    after = SignupLinkView.model_validate(await repository.link(tx, link_id))
    await audit.record(
        tx,
        meta,
        "signup_link.revoked",
        target_type="signup_link",
        target_id=link_id,
        community_id=community_id,
        before=_audited(SignupLinkView.model_validate(before)),
        after=_audited(after),
    )
    return after


_REFUSALS: dict[str, type[AppError]] = {
    "unknown": errors.SignupLinkUnknownError,
    "expired": errors.SignupLinkExpiredError,
    "revoked": errors.SignupLinkRevokedError,
    "exhausted": errors.SignupLinkExhaustedError,
    "community_archived": errors.CommunityArchivedError,
}
_REFUSAL_DETAIL = {
    "unknown": "No signup link has this token.",
    "expired": "This signup link has expired.",
    "revoked": "This signup link was revoked.",
    "exhausted": "This signup link has been used as often as it may be.",
    "community_archived": "This community is archived.",
}


async def redeem(cmd: RedeemSignupLink, *, tx: Tx, principal: Principal, meta: RequestMeta) -> Redeemed:
    """Join the link's community as the caller: once, whatever the concurrency; a member again is harmless."""
    result = await repository.redeem(tx, token_hash(cmd.token))
    outcome = str(result.get("outcome"))
    if outcome in _REFUSALS:
        raise _REFUSALS[outcome](_REFUSAL_DETAIL[outcome])
    community_id = UUID(str(result["community_id"]))
    if outcome == "joined":
        link_id = str(result["link_id"])
        await audit.record(
            tx,
            meta,
            "member.joined_via_link",
            target_type="membership",
            target_id=principal.user_id,
            community_id=community_id,
            after={"user_id": str(principal.user_id), "link_id": link_id, "role": "member"},
        )
        await enqueue(
            tx,
            Event(
                name="member.joined",
                payload={
                    "community_id": str(community_id),
                    "user_id": str(principal.user_id),
                    "source": "signup_link",
                    "link_id": link_id,
                },
            ),
        )
        return Redeemed(outcome="joined", community_id=community_id)
    return Redeemed(outcome="already_member", community_id=community_id)


def _audited(view: SignupLinkView) -> dict[str, Any]:
    """What the audit log keeps of a link (it never had the token)."""
    return view.model_dump(mode="json", include={"label", "status", "expires_at", "max_uses", "tag_ids"})
