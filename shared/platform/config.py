"""Typed settings from the environment, with Supabase's names, validated at first use."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from shared.platform.errors import ConfigError

LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"
"""The local stack's HS256 secret (the Supabase CLI's well-known default). Never used outside local."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a function reads from its environment."""

    database_url: str
    supabase_url: str
    jwt_secret: str | None
    jwks_url: str | None
    jwt_issuer: str
    jwt_audience: str
    jwt_leeway_s: int
    secret_keys: tuple[str, ...]
    cors_origins: tuple[str, ...]
    db_pool_max: int
    db_statement_timeout_ms: int
    db_connect_timeout_s: float
    sentry_dsn: str | None
    environment: str
    rate_limits: Mapping[str, tuple[int, int]]
    """Limit class → (requests, window seconds)."""
    trusted_proxy_hops: int
    """How many proxies in front of us append to X-Forwarded-For (Cloud Run: 1); 0 trusts only the peer."""


DEFAULT_RATE_LIMITS = {
    "general": (300, 60),
    "admin": (120, 60),
    "ai": (30, 60),
    "bulk": (10, 60),
    "join": (10, 60),
}
"""Limit class → (requests, window seconds). `bulk` is for imports, `join` for redeeming signup links and
accepting invitations: separate buckets, so an admin's failed uploads never block their own joining."""


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _int(env: Mapping[str, str], name: str, default: int, problems: list[str]) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        problems.append(f"{name} must be an integer")
        return default


def _rate_limits(env: Mapping[str, str], problems: list[str]) -> dict[str, tuple[int, int]]:
    limits = dict(DEFAULT_RATE_LIMITS)
    for name in limits:
        raw = env.get(f"RATE_LIMIT_{name.upper()}")  # e.g. "300/60": 300 requests per 60 s
        if not raw:
            continue
        count, _, window = raw.partition("/")
        if not (count.isdigit() and window.isdigit() and int(window) > 0):
            problems.append(f"RATE_LIMIT_{name.upper()} must look like 300/60")
            continue
        limits[name] = (int(count), int(window))
    return limits


def load_settings(env: Mapping[str, str]) -> Settings:
    """Read and validate settings; one ConfigError names everything missing or malformed."""
    problems: list[str] = []
    missing = [name for name in ("DATABASE_URL", "SUPABASE_URL") if not env.get(name)]
    supabase_url = env.get("SUPABASE_URL", "").rstrip("/")
    jwt_secret = env.get("SUPABASE_JWT_SECRET") or None
    jwks_url = env.get("SUPABASE_JWKS_URL") or (
        f"{supabase_url}/auth/v1/.well-known/jwks.json" if supabase_url else None
    )
    if env.get("SUPABASE_JWKS_URL", None) == "off":
        jwks_url = None
    if jwt_secret is not None and len(jwt_secret) < 32:
        problems.append("SUPABASE_JWT_SECRET must be at least 32 characters")
    secret_keys = _split(env.get("SUPABASE_SECRET_KEYS")) + _split(env.get("SUPABASE_SECRET_KEY"))
    secret_keys += _split(env.get("SUPABASE_SERVICE_ROLE_KEY"))
    origins = _split(env.get("CORS_ALLOWED_ORIGINS"))
    settings = Settings(
        database_url=env.get("DATABASE_URL", ""),
        supabase_url=supabase_url,
        jwt_secret=jwt_secret,
        jwks_url=jwks_url,
        jwt_issuer=env.get("SUPABASE_JWT_ISSUER") or f"{supabase_url}/auth/v1",
        jwt_audience=env.get("SUPABASE_JWT_AUDIENCE") or "authenticated",
        jwt_leeway_s=_int(env, "JWT_LEEWAY_SECONDS", 30, problems),
        secret_keys=secret_keys,
        cors_origins=origins,
        db_pool_max=_int(env, "DB_POOL_MAX", 4, problems),
        db_statement_timeout_ms=_int(env, "DB_STATEMENT_TIMEOUT_MS", 8000, problems),
        db_connect_timeout_s=float(_int(env, "DB_CONNECT_TIMEOUT_SECONDS", 3, problems)),
        sentry_dsn=env.get("SENTRY_DSN") or None,
        environment=env.get("AIGYM_ENV", "production"),
        rate_limits=_rate_limits(env, problems),
        trusted_proxy_hops=_int(env, "TRUSTED_PROXY_HOPS", 0, problems),
    )
    if missing:
        problems.insert(0, "missing " + ", ".join(missing))
    if problems:
        raise ConfigError("Invalid configuration: " + "; ".join(problems))
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this instance, read once on first use."""
    return load_settings(os.environ)


def reset_settings() -> None:
    """Forget cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()
