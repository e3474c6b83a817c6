"""Access-token verification through `GET /functions/v1/me`: attacks are refused, Supabase's schemes pass.

Refusals need no database (a token is checked before the request's transaction opens), so those tests
run without the `db` fixture and also assert that not a single round trip happened. Accepted tokens are
checked end to end against the seeded database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from shared.platform import auth
from shared.platform.config import LOCAL_JWT_SECRET, reset_settings
from tests.factories import ACME_LENA, GLOBEX_GINA, ISSUER, SUPER, token_for

JWKS_URL = "http://jwks.test/auth/v1/.well-known/jwks.json"
RSA_KID = "rsa-key-1"
EC_KID = "ec-key-1"


# ----------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    rsa: rsa.RSAPrivateKey
    ec: ec.EllipticCurvePrivateKey
    other_rsa: rsa.RSAPrivateKey


@cache
def keys() -> Keys:
    """Signing keys, generated once per session (RSA generation costs ~50 ms)."""
    return Keys(
        rsa=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec=ec.generate_private_key(ec.SECP256R1()),
        other_rsa=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


def jwks_document(*extra: Any) -> dict[str, Any]:
    """The JWKS the mocked Supabase Auth serves: one RSA and one EC signing key (plus `extra` entries)."""
    rsa_jwk = RSAAlgorithm.to_jwk(keys().rsa.public_key(), as_dict=True)
    ec_jwk = ECAlgorithm.to_jwk(keys().ec.public_key(), as_dict=True)
    return {
        "keys": [
            *extra,
            {**rsa_jwk, "kid": RSA_KID, "alg": "RS256", "use": "sig"},
            {**ec_jwk, "kid": EC_KID, "alg": "ES256", "use": "sig"},
        ]
    }


def claims(user_id: str = ACME_LENA, **overrides: Any) -> dict[str, Any]:
    """Claims shaped like Supabase Auth's, valid for an hour; a None override drops the claim."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": user_id,
        "aud": "authenticated",
        "exp": now + 3600,
        "iat": now,
        "role": "authenticated",
        "email": "someone@example.com",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj: Any) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def hand_made(header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes] | None) -> str:
    """A compact JWS built by hand, for tokens PyJWT refuses to create."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    signature = b64url(sign(signing_input.encode())) if sign is not None else ""
    return f"{signing_input}.{signature}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_unauthenticated(response: httpx.Response) -> None:
    """401 problem, nothing leaked, and the database never touched."""
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "unauthenticated"
    assert body["status"] == 401
    assert body["type"] == "urn:aigym:problem:unauthenticated"
    assert body["request_id"] == response.headers["x-request-id"]
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert '"0 round trips"' in response.headers["server-timing"]
    assert "id" not in body and "email" not in body


@pytest.fixture(autouse=True)
def fresh_jwks_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with an empty per-instance key cache."""
    monkeypatch.setattr(auth, "jwks_cache", auth.JwksCache())


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set environment variables for this test; settings are re-read before and after."""

    def set_env(**variables: str | None) -> None:
        for name, value in variables.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        reset_settings()

    reset_settings()
    yield set_env
    monkeypatch.undo()
    reset_settings()


@pytest.fixture
def jwks(env: Callable[..., None]) -> Iterator[respx.Route]:
    """Settings with a JWKS URL, and that URL served by respx; the route records how often it was fetched."""
    env(SUPABASE_JWKS_URL=JWKS_URL)
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router.get(JWKS_URL).respond(json=jwks_document())


# ----------------------------------------------------------------------------------------------------
# Refused: no database needed
# ----------------------------------------------------------------------------------------------------


async def test_missing_authorization_header_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/me")
    assert_unauthenticated(response)
    assert response.json()["detail"] == "A bearer token is required."


@pytest.mark.parametrize(
    "value",
    [
        "Basic " + base64.b64encode(b"lena@acme.example.com:password").decode(),
        "Bearer",
        "Bearer    ",
        "Token " + "x" * 20,
    ],
    ids=["basic", "bearer-without-token", "bearer-blank", "other-scheme"],
)
async def test_authorization_without_a_bearer_token_is_refused(client: httpx.AsyncClient, value: str) -> None:
    assert_unauthenticated(await client.get("/me", headers={"Authorization": value}))


async def test_basic_scheme_carrying_a_valid_jwt_is_still_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers={"Authorization": f"Basic {token_for(ACME_LENA)}"})
    assert_unauthenticated(response)


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"], ids=lambda a: f"alg-{a}")
async def test_unsigned_alg_none_token_is_refused(client: httpx.AsyncClient, alg: str) -> None:
    token = hand_made({"alg": alg, "typ": "JWT"}, claims(SUPER), sign=None)
    assert_unauthenticated(await client.get("/me", headers=bearer(token)))


async def test_alg_none_token_is_refused_even_with_a_jwks_configured(
    client: httpx.AsyncClient, jwks: respx.Route
) -> None:
    token = hand_made({"alg": "none", "typ": "JWT", "kid": RSA_KID}, claims(SUPER), sign=None)
    assert_unauthenticated(await client.get("/me", headers=bearer(token)))
    assert jwks.call_count == 0


def _hs256_with_public_pem(kid: str | None) -> str:
    pem = (
        keys()
        .rsa.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header: dict[str, Any] = {"alg": "HS256", "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    return hand_made(header, claims(SUPER), sign=lambda data: hmac.new(pem, data, hashlib.sha256).digest())


async def test_hs256_signed_with_the_jwks_public_key_is_refused(
    client: httpx.AsyncClient, jwks: respx.Route
) -> None:
    """Algorithm confusion: the public RSA key used as an HMAC secret must not verify."""
    for kid in (RSA_KID, None):
        assert_unauthenticated(await client.get("/me", headers=bearer(_hs256_with_public_pem(kid))))


async def test_hs256_signed_with_the_public_key_is_refused_when_no_shared_secret_is_configured(
    client: httpx.AsyncClient, jwks: respx.Route, env: Callable[..., None]
) -> None:
    env(SUPABASE_JWT_SECRET=None)
    # Prime the cache so the RSA key is definitely known to the instance.
    await auth.jwks_cache.key_for(RSA_KID, JWKS_URL)
    response = await client.get("/me", headers=bearer(_hs256_with_public_pem(RSA_KID)))
    assert_unauthenticated(response)
    assert response.json()["detail"] == "The token's algorithm is not accepted."


async def test_token_expired_beyond_the_leeway_is_refused(client: httpx.AsyncClient) -> None:
    now = int(time.time())
    response = await client.get("/me", headers=bearer(token_for(ACME_LENA, exp=now - 31 - 5, iat=now - 3600)))
    assert_unauthenticated(response)
    assert response.json()["detail"] == "The token has expired."


async def test_token_not_yet_valid_beyond_the_leeway_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers=bearer(token_for(ACME_LENA, nbf=int(time.time()) + 120)))
    assert_unauthenticated(response)


async def test_token_issued_in_the_future_beyond_the_leeway_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers=bearer(token_for(ACME_LENA, iat=int(time.time()) + 600)))
    assert_unauthenticated(response)


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "anon"},
        {"aud": ["service_role"]},
        {"aud": None},
        {"iss": "https://evil.example.com/auth/v1"},
        {"iss": "http://127.0.0.1:54321/auth/v1/"},
        {"iss": None},
        {"exp": None},
        {"sub": None},
        {"sub": "not-a-uuid"},
        {"sub": ""},
        {"sub": 12345},
    ],
    ids=[
        "aud-anon",
        "aud-service_role",
        "aud-missing",
        "iss-foreign",
        "iss-trailing-slash",
        "iss-missing",
        "exp-missing",
        "sub-missing",
        "sub-not-uuid",
        "sub-empty",
        "sub-number",
    ],
)
async def test_token_with_wrong_or_missing_registered_claim_is_refused(
    client: httpx.AsyncClient, overrides: dict[str, Any]
) -> None:
    token = jwt.encode(claims(**overrides), LOCAL_JWT_SECRET, algorithm="HS256")
    assert_unauthenticated(await client.get("/me", headers=bearer(token)))


async def test_hs256_token_signed_with_another_secret_is_refused(client: httpx.AsyncClient) -> None:
    token = jwt.encode(claims(), "another-secret-that-is-long-enough-to-be-accepted", algorithm="HS256")
    assert_unauthenticated(await client.get("/me", headers=bearer(token)))


async def test_tampered_payload_with_original_signature_is_refused(client: httpx.AsyncClient) -> None:
    header, _, signature = token_for(ACME_LENA).split(".")
    forged_payload = segment(claims(SUPER))
    response = await client.get("/me", headers=bearer(f"{header}.{forged_payload}.{signature}"))
    assert_unauthenticated(response)
    assert response.json()["detail"] == "The token is not valid."


async def test_tampered_asymmetric_token_is_refused(client: httpx.AsyncClient, jwks: respx.Route) -> None:
    token = jwt.encode(claims(ACME_LENA), keys().rsa, algorithm="RS256", headers={"kid": RSA_KID})
    header, _, signature = token.split(".")
    forged = f"{header}.{segment(claims(SUPER))}.{signature}"
    assert_unauthenticated(await client.get("/me", headers=bearer(forged)))


async def test_rs256_token_signed_by_a_foreign_key_claiming_a_known_kid_is_refused(
    client: httpx.AsyncClient, jwks: respx.Route
) -> None:
    token = jwt.encode(claims(SUPER), keys().other_rsa, algorithm="RS256", headers={"kid": RSA_KID})
    assert_unauthenticated(await client.get("/me", headers=bearer(token)))


async def test_token_with_unknown_kid_is_refused(client: httpx.AsyncClient, jwks: respx.Route) -> None:
    token = jwt.encode(claims(), keys().other_rsa, algorithm="RS256", headers={"kid": "unknown-kid"})
    response = await client.get("/me", headers=bearer(token))
    assert_unauthenticated(response)
    assert response.json()["detail"] == "The token was signed with an unknown key."
    assert jwks.call_count == 1


async def test_asymmetric_token_is_refused_when_no_jwks_is_configured(client: httpx.AsyncClient) -> None:
    token = jwt.encode(claims(), keys().rsa, algorithm="RS256", headers={"kid": RSA_KID})
    with respx.mock(assert_all_called=False) as router:
        route = router.get(JWKS_URL).respond(json=jwks_document())
        assert_unauthenticated(await client.get("/me", headers=bearer(token)))
    assert route.call_count == 0


async def test_rs256_header_naming_an_ec_key_is_refused(client: httpx.AsyncClient, jwks: respx.Route) -> None:
    token = jwt.encode(claims(), keys().rsa, algorithm="RS256", headers={"kid": EC_KID})
    response = await client.get("/me", headers=bearer(token))
    assert_unauthenticated(response)
    assert response.json()["detail"] == "The token's algorithm does not match its key."


async def test_es256_header_naming_an_rsa_key_is_refused(
    client: httpx.AsyncClient, jwks: respx.Route
) -> None:
    token = jwt.encode(claims(), keys().ec, algorithm="ES256", headers={"kid": RSA_KID})
    assert_unauthenticated(await client.get("/me", headers=bearer(token)))


@pytest.mark.parametrize("alg", ["RS384", "RS512", "ES384", "PS256", "EdDSA", "HS512"])
async def test_algorithms_outside_the_allow_list_are_refused(
    client: httpx.AsyncClient, jwks: respx.Route, alg: str
) -> None:
    # Signature bytes do not matter: the algorithm alone must be enough to refuse.
    token = hand_made({"alg": alg, "typ": "JWT", "kid": RSA_KID}, claims(SUPER), sign=lambda _: b"x" * 64)
    response = await client.get("/me", headers=bearer(token))
    assert_unauthenticated(response)
    assert jwks.call_count == 0


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "..",
        "eyJ.eyJ.",
        "not base64!.not base64!.x",
        segment({"alg": "HS256"}) + ".",
        segment(["HS256"]) + "." + segment({}) + ".sig",
        segment({"alg": ["RS256"], "kid": RSA_KID}) + "." + segment({}) + ".sig",
        segment({"alg": {"x": 1}}) + "." + segment({}) + ".sig",
        segment({"alg": "RS256", "kid": {"k": 1}}) + "." + segment({}) + ".sig",
        segment({"alg": "HS256"}) + "." + b64url(b"\xff\xfe not json") + ".sig",
        "x" * 8000,
        "ey" + "J" * 5000 + ".e.e",
    ],
    ids=[
        "word",
        "three-dots",
        "empty-segments",
        "empty-json",
        "non-base64",
        "two-segments",
        "header-array",
        "alg-list",
        "alg-object",
        "kid-object",
        "payload-not-json",
        "long",
        "long-header",
    ],
)
async def test_garbage_token_is_refused(client: httpx.AsyncClient, jwks: respx.Route, token: str) -> None:
    assert_unauthenticated(await client.get("/me", headers=bearer(token)))


async def test_flood_of_unknown_kids_fetches_the_jwks_at_most_once_per_interval(
    client: httpx.AsyncClient, jwks: respx.Route
) -> None:
    for _ in range(25):
        token = jwt.encode(claims(), keys().other_rsa, algorithm="RS256", headers={"kid": uuid.uuid4().hex})
        assert_unauthenticated(await client.get("/me", headers=bearer(token)))
    assert jwks.call_count == 1

    # Once the interval has passed, the next unknown kid may fetch again (and only once).
    auth.jwks_cache.attempted_at -= auth.JWKS_REFETCH_INTERVAL_S
    for _ in range(5):
        token = jwt.encode(claims(), keys().other_rsa, algorithm="RS256", headers={"kid": uuid.uuid4().hex})
        assert_unauthenticated(await client.get("/me", headers=bearer(token)))
    assert jwks.call_count == 2


async def test_concurrent_unknown_kids_share_one_jwks_fetch(jwks: respx.Route) -> None:
    import asyncio

    from shared.platform.errors import UnauthenticatedError

    results = await asyncio.gather(
        *(auth.jwks_cache.key_for(f"kid-{i}", JWKS_URL) for i in range(20)), return_exceptions=True
    )
    assert all(isinstance(r, UnauthenticatedError) for r in results)
    assert jwks.call_count == 1


async def test_failing_jwks_endpoint_refuses_tokens_without_a_server_error(
    client: httpx.AsyncClient, env: Callable[..., None]
) -> None:
    env(SUPABASE_JWKS_URL=JWKS_URL)
    token = jwt.encode(claims(), keys().rsa, algorithm="RS256", headers={"kid": RSA_KID})
    with respx.mock() as router:
        route = router.get(JWKS_URL).respond(status_code=503, text="upstream sad")
        assert_unauthenticated(await client.get("/me", headers=bearer(token)))
        assert_unauthenticated(await client.get("/me", headers=bearer(token)))
    assert route.call_count == 1


async def test_jwks_with_wrong_kty_for_alg_is_not_trusted(
    client: httpx.AsyncClient, env: Callable[..., None]
) -> None:
    """A JWKS entry claiming RS256 for an EC key is skipped, so tokens naming it are refused."""
    env(SUPABASE_JWKS_URL=JWKS_URL)
    ec_jwk = ECAlgorithm.to_jwk(keys().ec.public_key(), as_dict=True)
    document = {"keys": [{**ec_jwk, "kid": "mislabelled", "alg": "RS256", "use": "sig"}]}
    token = jwt.encode(claims(), keys().ec, algorithm="ES256", headers={"kid": "mislabelled"})
    with respx.mock() as router:
        router.get(JWKS_URL).respond(json=document)
        assert_unauthenticated(await client.get("/me", headers=bearer(token)))


async def test_jwks_encryption_keys_are_not_used_for_signatures(
    client: httpx.AsyncClient, env: Callable[..., None]
) -> None:
    env(SUPABASE_JWKS_URL=JWKS_URL)
    rsa_jwk = RSAAlgorithm.to_jwk(keys().rsa.public_key(), as_dict=True)
    document = {"keys": [{**rsa_jwk, "kid": RSA_KID, "alg": "RS256", "use": "enc"}]}
    token = jwt.encode(claims(), keys().rsa, algorithm="RS256", headers={"kid": RSA_KID})
    with respx.mock() as router:
        router.get(JWKS_URL).respond(json=document)
        assert_unauthenticated(await client.get("/me", headers=bearer(token)))


# ----------------------------------------------------------------------------------------------------
# Accepted: end to end against the seeded database
# ----------------------------------------------------------------------------------------------------


async def test_hs256_token_with_the_local_secret_is_accepted(client: httpx.AsyncClient, db: str) -> None:
    response = await client.get("/me", headers=bearer(token_for(ACME_LENA)))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == ACME_LENA


async def test_token_expired_within_the_leeway_is_accepted(client: httpx.AsyncClient, db: str) -> None:
    now = int(time.time())
    response = await client.get("/me", headers=bearer(token_for(GLOBEX_GINA, exp=now - 10, iat=now - 3600)))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == GLOBEX_GINA


async def test_es256_token_from_the_jwks_is_accepted(
    client: httpx.AsyncClient, db: str, jwks: respx.Route
) -> None:
    token = jwt.encode(claims(GLOBEX_GINA), keys().ec, algorithm="ES256", headers={"kid": EC_KID})
    response = await client.get("/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == GLOBEX_GINA
    assert response.json()["email"] == "gina@globex.example.com"  # from the database, not the token
    assert jwks.call_count == 1


async def test_rs256_token_from_the_jwks_is_accepted_and_the_key_is_cached(
    client: httpx.AsyncClient, db: str, jwks: respx.Route
) -> None:
    token = jwt.encode(claims(SUPER), keys().rsa, algorithm="RS256", headers={"kid": RSA_KID})
    for _ in range(3):
        response = await client.get("/me", headers=bearer(token))
        assert response.status_code == 200, response.text
        assert response.json()["staff_role"] == "super_admin"
    assert jwks.call_count == 1


async def test_hs256_still_accepted_alongside_a_jwks(
    client: httpx.AsyncClient, db: str, jwks: respx.Route
) -> None:
    response = await client.get("/me", headers=bearer(token_for(ACME_LENA)))
    assert response.status_code == 200, response.text
    assert jwks.call_count == 0


async def test_rotated_signing_key_is_picked_up_once_the_refetch_interval_allows(
    client: httpx.AsyncClient, db: str, env: Callable[..., None]
) -> None:
    env(SUPABASE_JWKS_URL=JWKS_URL)
    rotated_jwk = RSAAlgorithm.to_jwk(keys().other_rsa.public_key(), as_dict=True)
    rotated = {**rotated_jwk, "kid": "rsa-key-2", "alg": "RS256", "use": "sig"}
    old_token = jwt.encode(claims(ACME_LENA), keys().rsa, algorithm="RS256", headers={"kid": RSA_KID})
    new_token = jwt.encode(
        claims(ACME_LENA), keys().other_rsa, algorithm="RS256", headers={"kid": "rsa-key-2"}
    )
    with respx.mock() as router:
        route = router.get(JWKS_URL)
        route.side_effect = [
            httpx.Response(200, json=jwks_document()),
            httpx.Response(200, json=jwks_document(rotated)),
        ]
        assert (await client.get("/me", headers=bearer(old_token))).status_code == 200
        assert_unauthenticated(await client.get("/me", headers=bearer(new_token)))  # within the interval
        auth.jwks_cache.attempted_at -= auth.JWKS_REFETCH_INTERVAL_S
        response = await client.get("/me", headers=bearer(new_token))
        assert response.status_code == 200, response.text
    assert route.call_count == 2


async def test_jwks_with_malformed_entries_still_serves_its_valid_keys(
    client: httpx.AsyncClient, db: str, env: Callable[..., None]
) -> None:
    env(SUPABASE_JWKS_URL=JWKS_URL)
    junk = [
        "not-a-jwk",
        42,
        None,
        {"kid": "no-alg", "kty": "RSA"},
        {"alg": "RS256", "kty": "RSA"},
        {"kid": "alg-list", "alg": ["RS256"], "kty": "RSA"},
        {"kid": "bad-material", "alg": "RS256", "kty": "RSA", "n": "a", "e": "AQAB", "use": "sig"},
        {"kid": "bad-curve", "alg": "ES256", "kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
    ]
    token = jwt.encode(claims(ACME_LENA), keys().ec, algorithm="ES256", headers={"kid": EC_KID})
    with respx.mock() as router:
        router.get(JWKS_URL).respond(json=jwks_document(*junk))
        response = await client.get("/me", headers=bearer(token))
    assert response.status_code == 200, response.text
