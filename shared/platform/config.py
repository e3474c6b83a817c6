"""Typed settings from the environment, with Supabase's names: all read and validated together at first use.

Nothing else reads the environment. A setting that only some routes need (a webhook secret, the secrets
key, the secret key for the identity provider) is checked for its shape with all the others, but
required only where it is used (`require`): a route that needs one that is not set answers 503
`not_configured`, and every other route still works.

pydantic-settings would give the same in fewer lines, but importing it costs ~16 ms of every cold start
(it loads its CLI, dotenv and cloud-provider sources eagerly); this module costs well under one.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, TypeVar

from shared.platform.errors import ConfigError
from shared.platform.webhooks import Scheme, WebhookVerificationError, check_secret, split_secrets

LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"
"""The local stack's HS256 secret (the Supabase CLI's well-known default). Never used outside local."""

IdentityProviderKind = Literal["supabase", "local"]
StorageBackend = Literal["s3", "local"]
AiProvider = Literal["openai", "anthropic", "gemini"]
T = TypeVar("T")


@dataclass(frozen=True)
class StorageSettings:
    """Object storage for uploads: an S3-protocol bucket (Supabase Storage, S3, moto) or a local folder."""

    backend: StorageBackend
    bucket: str | None
    s3_endpoint: str | None
    """None: AWS itself; Supabase Storage: `https://<ref>.supabase.co/storage/v1/s3`."""
    s3_region: str
    s3_access_key_id: str | None = field(repr=False)
    s3_secret_access_key: str | None = field(repr=False)
    local_dir: str | None
    """Where the local stack keeps uploaded files (`local` backend)."""
    signing_key: bytes | None = field(repr=False)
    """HMAC key of the local backend's upload and download tokens."""
    public_url: str | None
    """Where the local backend's URLs point: the local stack's own address (`SUPABASE_URL`)."""
    upload_url_ttl_s: int
    download_url_ttl_s: int


@dataclass(frozen=True)
class AiSettings:
    """The platform's provider keys (a community's own key is used before them) and the fallback order."""

    openai_api_key: str | None = field(repr=False)
    anthropic_api_key: str | None = field(repr=False)
    gemini_api_key: str | None = field(repr=False)
    fallback_order: tuple[AiProvider, ...]
    """Providers tried, in order, after the requested one fails before its first token."""


@dataclass(frozen=True)
class Settings:
    """Everything a function reads from its environment (secrets are left out of its repr)."""

    database_url: str = field(repr=False)
    supabase_url: str
    jwt_secret: str | None = field(repr=False)
    jwks_url: str | None
    jwt_issuer: str
    jwt_audience: str
    jwt_leeway_s: int
    secret_keys: tuple[str, ...] = field(repr=False)
    cors_origins: tuple[str, ...]
    db_pool_max: int
    db_statement_timeout_ms: int
    db_connect_timeout_s: float
    db_prepare: bool
    """Let psycopg prepare a route's repeated statements (DB_PREPARE=1). Off by default: Supabase's
    transaction pooler (port 6543) refuses client-side prepared statements; on only for a direct
    connection (port 5432) or the session pooler. The opening and COMMIT are never prepared (plain Queries)."""
    sentry_dsn: str | None = field(repr=False)
    environment: str
    rate_limits: Mapping[str, tuple[int, int]]
    """Limit class → (requests, window seconds)."""
    trusted_proxy_hops: int
    """How many proxies in front of us append to X-Forwarded-For (Cloud Run: 1); 0 trusts only the peer."""
    identity_provider: IdentityProviderKind
    """`supabase` (the Auth admin API) or `local` (the embedded stack writes `auth.users` itself)."""
    worker_batch_size: int
    worker_visibility_s: int
    worker_max_reads: int
    """Reads after which an event that keeps failing is moved to the dead letters."""
    dead_letter_retention_days: int
    secrets_key: bytes | None = field(repr=False)
    """AES-256 key for secrets kept at rest (communities' own provider keys); None when not set."""
    webhook_secrets: Mapping[str, tuple[str, ...]] = field(repr=False)
    """Variable name (WEBHOOK_SECRETS) → its secrets, several during rotation; empty when not set."""
    storage: StorageSettings
    ai: AiSettings


DEFAULT_RATE_LIMITS = {
    "general": (300, 60),
    "admin": (120, 60),
    "ai": (30, 60),
    "bulk": (10, 60),
    "join": (10, 60),
    "post": (10, 60),
}
"""Limit class → (requests, window seconds). `bulk` is for imports, `join` for redeeming signup links and
accepting invitations: separate buckets, so an admin's failed uploads never block their own joining. `post`
is a member's forum posts and replies together (RATE_LIMIT_POST)."""

WEBHOOK_SECRETS: Mapping[str, Scheme] = {
    "SUPABASE_AUTH_HOOK_SECRET": "standard",
    "STRIPE_WEBHOOK_SECRET": "stripe",
    "VIDEO_WEBHOOK_SECRET": "standard",
}
"""Every webhook secret's variable and the signature scheme its secrets are keys of."""

SECRETS_KEY_ENV = "AIGYM_SECRETS_KEY"
_IDENTITY_PROVIDERS: tuple[IdentityProviderKind, ...] = ("supabase", "local")
_STORAGE_BACKENDS: tuple[StorageBackend, ...] = ("s3", "local")
AI_PROVIDERS: tuple[AiProvider, ...] = ("openai", "anthropic", "gemini")


def require(value: T | None, setting: str, purpose: str) -> T:
    """`value` when its setting is set; otherwise the ConfigError its route answers with 503 `not_configured`."""
    if value is None or value == ():
        raise ConfigError(f"{setting} is not set; {purpose}")
    return value


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _int(
    env: Mapping[str, str], name: str, default: int, problems: list[str], minimum: int | None = None
) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or (minimum is not None and value < minimum):
        problems.append(f"{name} must be an integer" + ("" if minimum is None else f" of at least {minimum}"))
        return default
    return value


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


def _identity_provider(env: Mapping[str, str], problems: list[str]) -> IdentityProviderKind:
    kind = env.get("IDENTITY_PROVIDER") or "supabase"
    for known in _IDENTITY_PROVIDERS:
        if kind == known:
            return known
    problems.append("IDENTITY_PROVIDER must be 'local' or 'supabase'")
    return "supabase"


def _secrets_key(env: Mapping[str, str], problems: list[str]) -> bytes | None:
    raw = env.get(SECRETS_KEY_ENV)
    if not raw:
        return None
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        problems.append(f"{SECRETS_KEY_ENV} must be 32 bytes, base64-encoded")
        return None
    return key


def _webhook_secrets(env: Mapping[str, str], problems: list[str]) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for name, scheme in WEBHOOK_SECRETS.items():
        secrets = tuple(split_secrets(env.get(name, "")))
        try:
            for index, secret in enumerate(secrets):
                check_secret(scheme, secret, index)
        except WebhookVerificationError as exc:
            problems.append(f"{name} is malformed ({exc})")  # the message names the secret's position only
            secrets = ()
        found[name] = secrets
    return found


def _storage(env: Mapping[str, str], problems: list[str]) -> StorageSettings:
    backend: StorageBackend = "s3"
    wanted = env.get("STORAGE_BACKEND") or "s3"
    for known in _STORAGE_BACKENDS:
        if wanted == known:
            backend = known
            break
    else:
        problems.append("STORAGE_BACKEND must be 's3' or 'local'")
    signing_key = env.get("STORAGE_SIGNING_KEY") or None
    if signing_key is not None and len(signing_key) < 32:
        problems.append("STORAGE_SIGNING_KEY must be at least 32 characters")
        signing_key = None
    upload_ttl = _int(env, "UPLOAD_URL_TTL_SECONDS", 600, problems, minimum=30)
    if upload_ttl > 3600:  # the uploads table refuses longer-lived rows
        problems.append("UPLOAD_URL_TTL_SECONDS must be at most 3600")
        upload_ttl = 3600
    return StorageSettings(
        backend=backend,
        bucket=env.get("STORAGE_BUCKET") or None,
        s3_endpoint=(env.get("STORAGE_S3_ENDPOINT") or "").rstrip("/") or None,
        s3_region=env.get("STORAGE_S3_REGION") or "us-east-1",
        s3_access_key_id=env.get("STORAGE_S3_ACCESS_KEY_ID") or None,
        s3_secret_access_key=env.get("STORAGE_S3_SECRET_ACCESS_KEY") or None,
        local_dir=env.get("STORAGE_LOCAL_DIR") or None,
        signing_key=None if signing_key is None else signing_key.encode(),
        public_url=(env.get("SUPABASE_URL") or "").rstrip("/") or None,
        upload_url_ttl_s=upload_ttl,
        download_url_ttl_s=_int(env, "DOWNLOAD_URL_TTL_SECONDS", 300, problems, minimum=30),
    )


def _ai(env: Mapping[str, str], problems: list[str]) -> AiSettings:
    order: list[AiProvider] = []
    for name in _split(env.get("AI_FALLBACK_ORDER")) or AI_PROVIDERS:
        known = next((provider for provider in AI_PROVIDERS if provider == name), None)
        if known is None:
            problems.append("AI_FALLBACK_ORDER must list openai, anthropic, gemini (comma-separated)")
            return AiSettings(None, None, None, AI_PROVIDERS)
        if known not in order:
            order.append(known)
    return AiSettings(
        openai_api_key=env.get("OPENAI_API_KEY") or None,
        anthropic_api_key=env.get("ANTHROPIC_API_KEY") or None,
        gemini_api_key=env.get("GEMINI_API_KEY") or None,
        fallback_order=tuple(order),
    )


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
    settings = Settings(
        database_url=env.get("DATABASE_URL", ""),
        supabase_url=supabase_url,
        jwt_secret=jwt_secret,
        jwks_url=jwks_url,
        jwt_issuer=env.get("SUPABASE_JWT_ISSUER") or f"{supabase_url}/auth/v1",
        jwt_audience=env.get("SUPABASE_JWT_AUDIENCE") or "authenticated",
        jwt_leeway_s=_int(env, "JWT_LEEWAY_SECONDS", 30, problems),
        secret_keys=secret_keys,
        cors_origins=_split(env.get("CORS_ALLOWED_ORIGINS")),
        db_pool_max=_int(env, "DB_POOL_MAX", 4, problems),
        db_statement_timeout_ms=_int(env, "DB_STATEMENT_TIMEOUT_MS", 8000, problems),
        db_connect_timeout_s=float(_int(env, "DB_CONNECT_TIMEOUT_SECONDS", 3, problems)),
        db_prepare=_flag(env, "DB_PREPARE", problems),
        sentry_dsn=env.get("SENTRY_DSN") or None,
        environment=env.get("AIGYM_ENV", "production"),
        rate_limits=_rate_limits(env, problems),
        trusted_proxy_hops=_int(env, "TRUSTED_PROXY_HOPS", 0, problems),
        identity_provider=_identity_provider(env, problems),
        worker_batch_size=_int(env, "WORKER_BATCH_SIZE", 50, problems, minimum=1),
        worker_visibility_s=_int(env, "WORKER_VISIBILITY_SECONDS", 60, problems, minimum=0),
        worker_max_reads=_int(env, "WORKER_MAX_READS", 5, problems, minimum=1),
        dead_letter_retention_days=_int(env, "DEAD_LETTER_RETENTION_DAYS", 30, problems, minimum=1),
        secrets_key=_secrets_key(env, problems),
        webhook_secrets=_webhook_secrets(env, problems),
        storage=_storage(env, problems),
        ai=_ai(env, problems),
    )
    if missing:
        problems.insert(0, "missing " + ", ".join(missing))
    if problems:
        raise ConfigError("Invalid configuration: " + "; ".join(problems))
    return settings


def _flag(env: Mapping[str, str], name: str, problems: list[str]) -> bool:
    """An on/off setting: 1/true/yes/on or 0/false/no/off (off when not set)."""
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    problems.append(f"{name} must be 0 or 1")
    return False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this instance, read once on first use."""
    return load_settings(os.environ)


def reset_settings() -> None:
    """Forget cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()
