"""Known seeded ids and token makers shared by the tests (the seed is in supabase/seed.sql)."""

from __future__ import annotations

from typing import Any

from scripts.local.tokens import local_token

SUPABASE_URL = "http://127.0.0.1:54321"
ISSUER = f"{SUPABASE_URL}/auth/v1"

SUPER = "a0000000-0000-4000-8000-000000000001"
MANAGER = "a0000000-0000-4000-8000-000000000002"
SPECIALIST = "a0000000-0000-4000-8000-000000000003"
ACME_ADMIN = "a0000000-0000-4000-8000-000000000011"
ACME_LENA = "a0000000-0000-4000-8000-000000000012"
ACME_LIAM = "a0000000-0000-4000-8000-000000000013"
GLOBEX_ADMIN = "a0000000-0000-4000-8000-000000000021"
GLOBEX_GINA = "a0000000-0000-4000-8000-000000000022"
ACME = "c0000000-0000-4000-8000-000000000001"
GLOBEX = "c0000000-0000-4000-8000-000000000002"

EMAILS = {
    SUPER: "super@aigym.example.com",
    MANAGER: "manager@aigym.example.com",
    SPECIALIST: "specialist@aigym.example.com",
    ACME_ADMIN: "admin@acme.example.com",
    ACME_LENA: "lena@acme.example.com",
    ACME_LIAM: "liam@acme.example.com",
    GLOBEX_ADMIN: "admin@globex.example.com",
    GLOBEX_GINA: "gina@globex.example.com",
}


def token_for(user_id: str, **overrides: Any) -> str:
    """A valid local access token for a seeded user."""
    return local_token(user_id, EMAILS.get(user_id), issuer=ISSUER, **overrides)


def auth(user_id: str, **overrides: Any) -> dict[str, str]:
    """Authorization headers for a seeded user."""
    return {"Authorization": f"Bearer {token_for(user_id, **overrides)}"}


def claims(user_id: str) -> dict[str, str]:
    """The JWT claims of a signed-in user, as PostgREST sets them for `as_user` (no token, no signature)."""
    return {"sub": user_id, "role": "authenticated", "aud": "authenticated"}
