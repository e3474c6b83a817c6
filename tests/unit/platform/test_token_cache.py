"""Verified tokens are reused until they expire, and never across settings."""

from __future__ import annotations

import time

import pytest

from shared.platform import auth
from shared.platform.config import load_settings
from shared.platform.errors import UnauthenticatedError
from tests.factories import ACME_LENA, ISSUER, SUPABASE_URL, token_for

ENV = {
    "DATABASE_URL": "postgresql://x/y",
    "SUPABASE_URL": SUPABASE_URL,
    "SUPABASE_JWT_SECRET": "super-secret-jwt-token-with-at-least-32-characters-long",
    "SUPABASE_JWKS_URL": "off",
    "JWT_LEEWAY_SECONDS": "0",
}


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch) -> auth.VerifiedTokenCache:
    fresh = auth.VerifiedTokenCache(max_entries=2)
    monkeypatch.setattr(auth, "verified_tokens", fresh)
    return fresh


async def test_second_verification_of_a_token_is_served_from_the_cache(
    cache: auth.VerifiedTokenCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(ENV)
    token = token_for(ACME_LENA)
    first = await auth.verify_jwt(token, settings)

    async def must_not_run(*_: object) -> None:
        raise AssertionError("verified twice")

    monkeypatch.setattr(auth, "_verify_jwt", must_not_run)
    assert await auth.verify_jwt(token, settings) is first


async def test_cached_token_is_refused_once_it_expires(
    cache: auth.VerifiedTokenCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(ENV)
    token = token_for(ACME_LENA, ttl_s=60)
    await auth.verify_jwt(token, settings)
    later = time.time() + 120
    monkeypatch.setattr(auth.time, "time", lambda: later)
    with pytest.raises(UnauthenticatedError):
        await auth.verify_jwt(token, settings)
    assert token not in cache.entries


async def test_new_settings_start_an_empty_cache(cache: auth.VerifiedTokenCache) -> None:
    token = token_for(ACME_LENA)
    await auth.verify_jwt(token, load_settings(ENV))
    rotated = load_settings({**ENV, "SUPABASE_JWT_SECRET": "another-secret-that-is-at-least-32-characters"})
    with pytest.raises(UnauthenticatedError):
        await auth.verify_jwt(token, rotated)  # signed with the old secret: verified afresh and refused


async def test_cache_is_bounded(cache: auth.VerifiedTokenCache) -> None:
    settings = load_settings(ENV)
    tokens = [token_for(ACME_LENA, session_id=str(n)) for n in range(3)]
    for token in tokens:
        await auth.verify_jwt(token, settings)
    assert list(cache.entries) == tokens[1:]
    assert ISSUER in str(cache.entries[tokens[2]].claims["iss"])
