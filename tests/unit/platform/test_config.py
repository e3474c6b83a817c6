"""Settings: read from a mapping, validated at once, every problem named in one ConfigError."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType

import httpx
import pytest

from shared.platform import logging as log
from shared.platform import responses
from shared.platform.config import (
    DEFAULT_RATE_LIMITS,
    LOCAL_JWT_SECRET,
    WEBHOOK_SECRETS,
    get_settings,
    load_settings,
    require,
    reset_settings,
)
from shared.platform.errors import ConfigError

BASE = {"DATABASE_URL": "postgresql://app@db.example.com/app", "SUPABASE_URL": "https://ref.supabase.co"}


@pytest.fixture
def isolated_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Change the process environment for one test; cached settings are dropped before and after."""
    reset_settings()
    yield monkeypatch
    monkeypatch.undo()
    reset_settings()


def test_missing_database_and_supabase_url_are_named_in_one_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({})
    message = str(caught.value)
    assert "missing DATABASE_URL, SUPABASE_URL" in message
    assert message.count("Invalid configuration") == 1


@pytest.mark.parametrize("name", ["DATABASE_URL", "SUPABASE_URL"])
def test_each_missing_required_setting_is_named(name: str) -> None:
    env = {k: v for k, v in BASE.items() if k != name}
    with pytest.raises(ConfigError, match=f"missing {name}$"):
        load_settings(env)


def test_empty_required_setting_counts_as_missing() -> None:
    with pytest.raises(ConfigError, match="missing DATABASE_URL"):
        load_settings({**BASE, "DATABASE_URL": ""})


@pytest.mark.parametrize(
    "name",
    [
        "DB_POOL_MAX",
        "DB_STATEMENT_TIMEOUT_MS",
        "DB_CONNECT_TIMEOUT_SECONDS",
        "JWT_LEEWAY_SECONDS",
        "TRUSTED_PROXY_HOPS",
    ],
)
@pytest.mark.parametrize("value", ["four", "1.5", "30s", " "])
def test_malformed_integer_is_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"{name} must be an integer"):
        load_settings({**BASE, name: value})


@pytest.mark.parametrize("value", ["300", "300/", "/60", "300/0", "300 per minute", "-1/60", "a/b"])
def test_malformed_rate_limit_is_named(value: str) -> None:
    with pytest.raises(ConfigError, match="RATE_LIMIT_AI must look like 300/60"):
        load_settings({**BASE, "RATE_LIMIT_AI": value})


def test_jwt_secret_shorter_than_32_characters_is_refused() -> None:
    with pytest.raises(ConfigError, match="SUPABASE_JWT_SECRET must be at least 32 characters"):
        load_settings({**BASE, "SUPABASE_JWT_SECRET": "x" * 31})
    assert load_settings({**BASE, "SUPABASE_JWT_SECRET": "x" * 32}).jwt_secret == "x" * 32


def test_every_problem_is_reported_together() -> None:
    env = {"SUPABASE_JWT_SECRET": "short", "DB_POOL_MAX": "many", "RATE_LIMIT_GENERAL": "lots"}
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    message = str(caught.value)
    for part in (
        "missing DATABASE_URL, SUPABASE_URL",
        "SUPABASE_JWT_SECRET must be at least 32 characters",
        "DB_POOL_MAX must be an integer",
        "RATE_LIMIT_GENERAL must look like 300/60",
    ):
        assert part in message
    assert message.index("missing") < message.index("SUPABASE_JWT_SECRET")  # what is missing comes first


def test_config_error_never_contains_secret_values() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"SUPABASE_JWT_SECRET": "s3cr3t-but-short", "SUPABASE_SECRET_KEY": "sb_secret_abc"})
    assert "s3cr3t" not in str(caught.value)
    assert "sb_secret_abc" not in str(caught.value)


def test_defaults_and_derived_values() -> None:
    settings = load_settings({**BASE, "SUPABASE_URL": "https://ref.supabase.co/"})
    assert settings.supabase_url == "https://ref.supabase.co"
    assert settings.jwks_url == "https://ref.supabase.co/auth/v1/.well-known/jwks.json"
    assert settings.jwt_issuer == "https://ref.supabase.co/auth/v1"
    assert settings.jwt_audience == "authenticated"
    assert settings.jwt_leeway_s == 30
    assert settings.jwt_secret is None
    assert settings.secret_keys == ()
    assert settings.cors_origins == ()
    assert settings.db_pool_max == 4
    assert settings.db_connect_timeout_s == 3.0
    assert settings.trusted_proxy_hops == 0
    assert settings.sentry_dsn is None
    assert settings.environment == "production"
    assert dict(settings.rate_limits) == DEFAULT_RATE_LIMITS


def test_empty_integer_settings_fall_back_to_defaults() -> None:
    settings = load_settings({**BASE, "DB_POOL_MAX": "", "JWT_LEEWAY_SECONDS": ""})
    assert (settings.db_pool_max, settings.jwt_leeway_s) == (4, 30)


def test_explicit_values_are_read_and_lists_are_split_and_trimmed() -> None:
    settings = load_settings(
        {
            **BASE,
            "SUPABASE_JWT_SECRET": LOCAL_JWT_SECRET,
            "SUPABASE_JWKS_URL": "https://keys.example.com/jwks.json",
            "SUPABASE_JWT_ISSUER": "https://issuer.example.com",
            "SUPABASE_SECRET_KEYS": " sb_secret_a , sb_secret_b,, ",
            "SUPABASE_SECRET_KEY": "sb_secret_c",
            "SUPABASE_SERVICE_ROLE_KEY": "legacy-service-role",
            "CORS_ALLOWED_ORIGINS": "https://app.example.com, http://localhost:3000 ,",
            "RATE_LIMIT_GENERAL": "3/60",
            "DB_CONNECT_TIMEOUT_SECONDS": "1",
            "TRUSTED_PROXY_HOPS": "1",
        }
    )
    assert settings.jwks_url == "https://keys.example.com/jwks.json"
    assert settings.jwt_issuer == "https://issuer.example.com"
    assert settings.secret_keys == ("sb_secret_a", "sb_secret_b", "sb_secret_c", "legacy-service-role")
    assert settings.cors_origins == ("https://app.example.com", "http://localhost:3000")
    assert settings.rate_limits["general"] == (3, 60)
    assert settings.rate_limits["ai"] == DEFAULT_RATE_LIMITS["ai"]
    assert settings.db_connect_timeout_s == 1.0
    assert settings.trusted_proxy_hops == 1


def test_jwks_can_be_switched_off() -> None:
    assert load_settings({**BASE, "SUPABASE_JWKS_URL": "off"}).jwks_url is None


def test_load_settings_reads_only_the_mapping_it_is_given(isolated_settings: pytest.MonkeyPatch) -> None:
    isolated_settings.setenv("DB_POOL_MAX", "not-a-number")
    isolated_settings.setenv("SUPABASE_JWT_SECRET", "short")
    isolated_settings.setenv("DATABASE_URL", "postgresql://from-the-environment/x")
    env = MappingProxyType({**BASE, "DB_POOL_MAX": "7"})  # read-only: it cannot be written either
    settings = load_settings(env)
    assert settings.database_url == BASE["DATABASE_URL"]
    assert settings.db_pool_max == 7
    assert settings.jwt_secret is None
    assert dict(env) == {**BASE, "DB_POOL_MAX": "7"}
    assert load_settings(env) == settings


def test_get_settings_is_cached_until_reset(isolated_settings: pytest.MonkeyPatch) -> None:
    isolated_settings.setenv("DB_POOL_MAX", "5")
    reset_settings()
    first = get_settings()
    assert first.db_pool_max == 5
    isolated_settings.setenv("DB_POOL_MAX", "9")
    assert get_settings() is first
    reset_settings()
    assert get_settings().db_pool_max == 9


async def test_handler_answers_a_config_error_with_a_503_not_configured_and_logs_what_is_missing_once(
    client: httpx.AsyncClient, isolated_settings: pytest.MonkeyPatch
) -> None:
    buffer = io.StringIO()
    isolated_settings.setattr(log, "stream", buffer)
    isolated_settings.setattr(responses, "_reported_config_errors", set())
    isolated_settings.delenv("SUPABASE_URL")
    reset_settings()
    for _ in range(2):
        response = await client.get("/health/live")
        assert response.status_code == 503
        assert response.json()["code"] == "not_configured"
        assert "SUPABASE_URL" not in response.text
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    errors = [line for line in lines if line["message"].startswith("configuration error")]
    assert len(errors) == 1
    assert "missing SUPABASE_URL" in errors[0]["error"]


# --- settings only some routes need: shape checked at load, presence required at use ----------------

VALID_OPTIONAL = {
    "IDENTITY_PROVIDER": "local",
    "AIGYM_SECRETS_KEY": "A" * 43 + "=",  # 32 bytes
    "SUPABASE_AUTH_HOOK_SECRET": "v1,whsec_" + "B" * 43 + "=",
    "STRIPE_WEBHOOK_SECRET": "whsec_stripe_one|whsec_stripe_two",
    "VIDEO_WEBHOOK_SECRET": "whsec_" + "C" * 43 + "=",
    "WORKER_BATCH_SIZE": "10",
    "WORKER_VISIBILITY_SECONDS": "0",
    "WORKER_MAX_READS": "2",
    "DEAD_LETTER_RETENTION_DAYS": "7",
}


def test_settings_only_some_routes_need_may_be_absent() -> None:
    settings = load_settings(BASE)
    assert settings.identity_provider == "supabase"
    assert settings.secrets_key is None
    assert settings.webhook_secrets == dict.fromkeys(WEBHOOK_SECRETS, ())
    assert (settings.worker_batch_size, settings.worker_visibility_s, settings.worker_max_reads) == (
        50,
        60,
        5,
    )
    assert settings.dead_letter_retention_days == 30


def test_every_optional_setting_is_read_into_the_one_settings_object() -> None:
    settings = load_settings({**BASE, **VALID_OPTIONAL})
    assert settings.identity_provider == "local"
    assert settings.secrets_key == bytes([0]) * 32
    assert settings.webhook_secrets["SUPABASE_AUTH_HOOK_SECRET"] == ("v1,whsec_" + "B" * 43 + "=",)
    assert settings.webhook_secrets["STRIPE_WEBHOOK_SECRET"] == ("whsec_stripe_one", "whsec_stripe_two")
    assert (settings.worker_batch_size, settings.worker_visibility_s, settings.worker_max_reads) == (10, 0, 2)
    assert settings.dead_letter_retention_days == 7


def test_malformed_optional_settings_are_named_together_with_the_rest_and_never_shown() -> None:
    env = {
        "DB_POOL_MAX": "many",
        "IDENTITY_PROVIDER": "auth0",
        "AIGYM_SECRETS_KEY": "c2hvcnQta2V5",  # "short-key"
        "SUPABASE_AUTH_HOOK_SECRET": "v1,not-a-whsec-secret",
        "VIDEO_WEBHOOK_SECRET": "whsec_%%not-base64%%",
        "WORKER_BATCH_SIZE": "0",
        "WORKER_VISIBILITY_SECONDS": "-1",
        "WORKER_MAX_READS": "lots",
        "DEAD_LETTER_RETENTION_DAYS": "0",
    }
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, **env})
    message = str(caught.value)
    assert message.count("Invalid configuration") == 1
    for part in (
        "DB_POOL_MAX must be an integer",
        "IDENTITY_PROVIDER must be 'local' or 'supabase'",
        "AIGYM_SECRETS_KEY must be 32 bytes, base64-encoded",
        "SUPABASE_AUTH_HOOK_SECRET is malformed (webhook secret #0 lacks the whsec_ prefix)",
        "VIDEO_WEBHOOK_SECRET is malformed (webhook secret #0 is not valid base64)",
        "WORKER_BATCH_SIZE must be an integer of at least 1",
        "WORKER_VISIBILITY_SECONDS must be an integer of at least 0",
        "WORKER_MAX_READS must be an integer of at least 1",
        "DEAD_LETTER_RETENTION_DAYS must be an integer of at least 1",
    ):
        assert part in message
    for value in ("auth0", "c2hvcnQta2V5", "not-a-whsec-secret", "not-base64"):
        assert value not in message


def test_require_answers_a_setting_that_is_not_set_with_a_config_error_naming_it() -> None:
    settings = load_settings(BASE)
    with pytest.raises(ConfigError, match=r"^AIGYM_SECRETS_KEY is not set; to encrypt$"):
        require(settings.secrets_key, "AIGYM_SECRETS_KEY", "to encrypt")
    with pytest.raises(ConfigError, match=r"^STRIPE_WEBHOOK_SECRET is not set"):
        require(settings.webhook_secrets["STRIPE_WEBHOOK_SECRET"], "STRIPE_WEBHOOK_SECRET", "to verify")
    configured = load_settings({**BASE, **VALID_OPTIONAL})
    assert require(configured.secrets_key, "AIGYM_SECRETS_KEY", "to encrypt") == bytes(32)


def test_the_repr_of_settings_shows_no_secret() -> None:
    env = {
        **BASE,
        **VALID_OPTIONAL,
        "SUPABASE_JWT_SECRET": LOCAL_JWT_SECRET,
        "SUPABASE_SECRET_KEY": "sb_secret_x",
    }
    env["DATABASE_URL"] = "postgresql://app:db-password@db.example.com/app"
    shown = repr(load_settings(env))
    for secret in ("db-password", LOCAL_JWT_SECRET, "sb_secret_x", "whsec_", "A" * 43):
        assert secret not in shown
    assert "ref.supabase.co" in shown


def test_a_webhook_must_name_a_secret_the_settings_know_for_its_scheme() -> None:
    from shared.platform.webhooks_http import Webhook

    assert Webhook("stripe", "STRIPE_WEBHOOK_SECRET", "stripe").scheme == "stripe"
    with pytest.raises(ValueError, match="ACME_WEBHOOK_SECRET"):
        Webhook("acme", "ACME_WEBHOOK_SECRET", "standard")
    with pytest.raises(ValueError, match="STRIPE_WEBHOOK_SECRET is not a standard webhook secret"):
        Webhook("stripe", "STRIPE_WEBHOOK_SECRET", "standard")


_READS_ENVIRONMENT = re.compile(r"\bos\.environ\b|\bgetenv\(|\bfrom os import\b[^\n]*\benviron\b")


def test_nothing_deployed_reads_the_environment_but_the_settings() -> None:
    root = Path(__file__).resolve().parents[3]
    deployed = [*root.joinpath("shared").rglob("*.py"), *root.joinpath("functions").rglob("*.py")]
    readers = sorted(
        str(path.relative_to(root))
        for path in deployed
        if "devstack" not in path.parts and _READS_ENVIRONMENT.search(path.read_text())
    )
    assert readers == ["shared/platform/config.py"]


def test_under_functions_framework_a_configuration_error_is_logged_at_start_up() -> None:
    root = Path(__file__).resolve().parents[3]
    probe = (
        "import functions_framework, importlib.util, sys\n"
        "sys.path.insert(0, '.')\n"
        "spec = importlib.util.spec_from_file_location('me_main', 'functions/me/main.py')\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "WORKER_MAX_READS": "never"}  # no DATABASE_URL, no SUPABASE_URL either
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    [line] = [json.loads(line) for line in result.stdout.splitlines() if "configuration error" in line]
    assert "missing DATABASE_URL, SUPABASE_URL" in line["error"]
    assert "WORKER_MAX_READS must be an integer of at least 1" in line["error"]
    assert "never" not in line["error"]


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, False), ("0", False), ("off", False), ("1", True), ("true", True), ("ON", True)]
)
def test_client_side_prepared_statements_are_off_unless_asked_for(raw: str | None, expected: bool) -> None:
    # Off by default: the transaction pooler refuses prepared statements.
    env = BASE if raw is None else {**BASE, "DB_PREPARE": raw}
    assert load_settings(env).db_prepare is expected


def test_a_malformed_prepare_setting_is_named() -> None:
    with pytest.raises(ConfigError, match="DB_PREPARE must be 0 or 1"):
        load_settings({**BASE, "DB_PREPARE": "sometimes"})
