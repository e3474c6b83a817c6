"""Supabase Auth "custom access token" hook: mirror the user's roles into one namespaced claim.

The claim only saves the frontend a round trip (which menus to show). It decides nothing: every API
request still loads the caller's staff role and memberships from the database in its own transaction
(DESIGN.md, Auth; DOMAIN.md, Roles), so a demotion takes effect on the next request even while an older
token still carries the old claim.

Where the claim goes: a single top-level `aigym` claim, not `app_metadata.aigym`. Supabase Auth fills
`app_metadata` from `auth.users.raw_app_meta_data` (provider data, writable through the admin API), and
clients read it as "the user's stored app metadata"; putting derived, token-only data there would make
the token and the stored user disagree about what `app_metadata` is. A namespaced top-level claim
cannot collide with a registered or Supabase claim, and is read as `auth.jwt() -> 'aigym'` or from the
decoded token directly.

Speed: Supabase waits for this hook on every sign-in and refresh, so it runs exactly one query.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.platform.db import Tx
from shared.platform.errors import BadRequestError

CLAIM = "aigym"
"""The one claim this hook adds; every other claim is returned exactly as Supabase sent it."""
MAX_MEMBERSHIPS = 50
"""At most this many memberships go into a token (admins first); `truncated` says when there are more."""
REQUIRED_CLAIMS = (
    "iss",
    "aud",
    "exp",
    "iat",
    "sub",
    "role",
    "aal",
    "session_id",
    "email",
    "phone",
    "is_anonymous",
)
"""Claims Supabase Auth requires in the hook's answer; this hook never drops or changes them."""

ROLES_SQL = """
select
  (select s.role from public.platform_staff s where s.user_id = %(user_id)s) as staff_role,
  coalesce((
    select jsonb_agg(jsonb_build_object('community_id', x.community_id, 'role', x.role)
                     order by x.is_admin desc, x.joined_at, x.community_id)
    from (
      select m.community_id, m.role, m.role = 'admin' as is_admin, m.joined_at
      from public.memberships m join public.communities c on c.id = m.community_id
      where m.user_id = %(user_id)s and c.status = 'active'
      order by m.role = 'admin' desc, m.joined_at, m.community_id
      limit %(limit)s
    ) x), '[]'::jsonb) as memberships
"""
"""Staff role and active memberships in one round trip; one row more than the bound reveals truncation."""


class HookPayload(BaseModel):
    """What Supabase Auth sends: the user, the claims it is about to sign, how the user signed in."""

    model_config = ConfigDict(extra="ignore")

    user_id: UUID
    claims: dict[str, Any]
    authentication_method: str | None = None


def parse_payload(payload: Any) -> HookPayload:
    """The validated hook payload, or a 400 naming the malformed fields (never their values)."""
    try:
        parsed = HookPayload.model_validate(payload)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"]) or "body" for err in exc.errors()})
        raise BadRequestError(f"The hook payload is malformed: {', '.join(fields)}.") from None
    subject = parsed.claims.get("sub")
    if subject is not None and str(subject) != str(parsed.user_id):
        raise BadRequestError("The hook payload is malformed: claims.sub is not user_id.")
    return parsed


async def load_roles(tx: Tx, user_id: UUID) -> dict[str, Any]:
    """The user's staff role and active memberships (bounded); an unknown user has an empty role set."""
    row = await tx.fetch_one(ROLES_SQL, {"user_id": user_id, "limit": MAX_MEMBERSHIPS + 1})
    memberships = list(row["memberships"]) if row is not None else []
    return {
        "staff_role": row["staff_role"] if row is not None else None,
        "memberships": memberships[:MAX_MEMBERSHIPS],
        "truncated": len(memberships) > MAX_MEMBERSHIPS,
    }


def with_roles(claims: Mapping[str, Any], roles: Mapping[str, Any]) -> dict[str, Any]:
    """The claims exactly as given, plus (or with a replaced) `aigym` claim."""
    return {**{k: v for k, v in claims.items() if k != CLAIM}, CLAIM: dict(roles)}


async def custom_access_token(tx: Tx, payload: Any) -> dict[str, Any]:
    """The hook's answer: `{"claims": …}` with the user's roles mirrored under `aigym`."""
    parsed = parse_payload(payload)
    roles = await load_roles(tx, parsed.user_id)
    return {"claims": with_roles(parsed.claims, roles)}
