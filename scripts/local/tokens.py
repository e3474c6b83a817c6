"""Tokens for the local stack, shaped like the access tokens Supabase Auth issues."""

from __future__ import annotations

import time
import uuid
from typing import Any

from shared.platform.config import LOCAL_JWT_SECRET


def local_token(
    user_id: str | uuid.UUID,
    email: str | None,
    *,
    issuer: str,
    secret: str = LOCAL_JWT_SECRET,
    ttl_s: int = 3600,
    **overrides: Any,
) -> str:
    """An HS256 access token for `user_id`, valid for `ttl_s` seconds; `overrides` replace any claim."""
    import jwt

    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": str(user_id),
        "aud": "authenticated",
        "exp": now + ttl_s,
        "iat": now,
        "email": email,
        "role": "authenticated",
        "aal": "aal1",
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
    }
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm="HS256")
