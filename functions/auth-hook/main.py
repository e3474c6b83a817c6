"""`auth-hook`: Supabase Auth's "custom access token" hook; mirrors the user's roles into the token.

Supabase Auth calls it (Standard Webhooks signature) before it signs every access token, on sign-in
and on every refresh, and waits for the answer: it runs one query. The `aigym` claim it adds is a
convenience for the frontend; authorization everywhere else still reads the database (DESIGN.md, Auth).
"""

from __future__ import annotations

from typing import Any

from shared.integrations import auth_hook
from shared.platform.http import Context, Function
from shared.platform.webhooks_http import Webhook

fn = Function("auth-hook", description="Supabase Auth custom access token hook.")

SUPABASE_AUTH = Webhook(
    provider="supabase-auth",
    secret_env="SUPABASE_AUTH_HOOK_SECRET",  # noqa: S106 (the variable's name, not a secret)
    scheme="standard",
    dedupe=False,
)
"""Every call carries a fresh webhook-id and answers depend on the current roles: nothing to dedupe."""


# rate_limit=None: only Supabase Auth can sign a request that gets this far, and throttling it would
# refuse sign-ins (every token of every user comes from the same few Supabase addresses).
@fn.post("/", auth="webhook", webhook=SUPABASE_AUTH, rate_limit=None)
async def custom_access_token(ctx: Context, event_id: str, payload: Any) -> dict[str, Any]:
    """Add the user's staff role and community memberships to the access token's claims."""
    return await auth_hook.custom_access_token(ctx.db, payload)


handler = fn.handler
