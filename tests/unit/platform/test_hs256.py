"""HS256 tokens are checked with the standard library exactly as PyJWT would check them.

Each token below is judged twice: by `auth._verify_jwt` and by PyJWT with the options the platform used
before (the reference); the outcome (accepted, or which refusal) must be the same.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest

from shared.platform import auth
from shared.platform.config import load_settings
from shared.platform.errors import UnauthenticatedError
from tests.factories import ACME_LENA, ISSUER, SUPABASE_URL

SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"
SETTINGS = load_settings(
    {
        "DATABASE_URL": "postgresql://x/y",
        "SUPABASE_URL": SUPABASE_URL,
        "SUPABASE_JWT_SECRET": SECRET,
        "SUPABASE_JWKS_URL": "off",
        "JWT_LEEWAY_SECONDS": "30",
    }
)
HEADER = {"alg": "HS256", "typ": "JWT"}


def b64(data: bytes, pad: bool = False) -> str:
    text = base64.urlsafe_b64encode(data).decode()
    return text if pad else text.rstrip("=")


def signed(payload: Any, header: Any = None, *, raw_payload: bytes | None = None, pad: bool = False) -> str:
    head = b64(json.dumps(HEADER if header is None else header).encode(), pad)
    body = b64(raw_payload if raw_payload is not None else json.dumps(payload).encode(), pad)
    signature = hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature, pad)}"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "sub": ACME_LENA, "aud": "authenticated", "exp": now + 600, "iat": now}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def reference(token: str) -> str:
    """What the platform answered when PyJWT checked HS256 tokens (its code before)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return "The token is malformed."
    alg = header.get("alg")
    if not isinstance(alg, str) or alg != "HS256":
        return "The token's algorithm is not accepted."
    try:
        decoded = jwt.decode(
            token,
            SECRET,
            algorithms=[alg],
            audience=SETTINGS.jwt_audience,
            issuer=SETTINGS.jwt_issuer,
            leeway=SETTINGS.jwt_leeway_s,
            options={"require": ["exp", "sub", "aud", "iss"], "verify_nbf": True},
        )
    except jwt.ExpiredSignatureError:
        return "The token has expired."
    except jwt.PyJWTError:
        return "The token is not valid."
    try:
        auth.VerifiedToken.of(decoded)
    except ValueError:
        return "The token's subject is not a user id."
    return "accepted"


async def ours(token: str) -> str:
    try:
        await auth._verify_jwt(token, SETTINGS)
    except UnauthenticatedError as exc:
        return exc.detail
    return "accepted"


def tokens() -> dict[str, str]:
    """The edge cases, signed now (a suite can run longer than a token lives)."""
    now = int(time.time())
    return {
        "valid": signed(claims()),
        "valid-padded": signed(claims(), pad=True),
        "valid-with-nbf-jti-and-aud-list": signed(claims(nbf=now - 5, jti="j-1", aud=["x", "authenticated"])),
        "expired": signed(claims(exp=now - 120)),
        "expired-within-leeway": signed(claims(exp=now - 10)),
        "expired-and-foreign-issuer": signed(claims(exp=now - 120, iss="https://evil.example.com")),
        "exp-as-string": signed(claims(exp=str(now + 600))),
        "exp-as-float": signed(claims(exp=now + 600.5)),
        "exp-as-bool": signed(claims(exp=True)),
        "exp-not-a-number": signed(claims(exp="soon")),
        "exp-infinite": signed(None, raw_payload=json.dumps(claims(exp=now + 600)).replace(str(now + 600), "Infinity").encode()),
        "exp-missing": signed(claims(exp=None)),
        "iat-future": signed(claims(iat=now + 600)),
        "iat-within-leeway": signed(claims(iat=now + 10)),
        "iat-garbage": signed(claims(iat=[1])),
        "nbf-future": signed(claims(nbf=now + 600)),
        "nbf-garbage": signed(claims(nbf="later")),
        "aud-empty": signed(claims(aud="")),
        "aud-empty-list": signed(claims(aud=[])),
        "aud-zero": signed(claims(aud=0)),
        "aud-object": signed(claims(aud={"authenticated": 1})),
        "aud-list-with-number": signed(claims(aud=["authenticated", 1])),
        "aud-other": signed(claims(aud="anon")),
        "iss-number": signed(claims(iss=5)),
        "iss-other": signed(claims(iss=ISSUER + "/")),
        "sub-number": signed(claims(sub=12345)),
        "sub-not-uuid": signed(claims(sub="someone")),
        "jti-number": signed(claims(jti=7)),
        "payload-array": signed([1, 2]),
        "payload-not-json": signed(None, raw_payload=b"\xff\xfe not json"),
        "payload-deep": signed(None, raw_payload=b"[" * 100_000 + b"]" * 100_000),
        "wrong-signature": signed(claims())[:-4] + "AAAA",
        "kid-number": signed(claims(), {**HEADER, "kid": 5}),
        "kid-string": signed(claims(), {**HEADER, "kid": "k"}),
        "crit-b64": signed(claims(), {**HEADER, "crit": ["b64"], "b64": True}),
        "crit-b64-absent": signed(claims(), {**HEADER, "crit": ["b64"]}),
        "crit-unknown": signed(claims(), {**HEADER, "crit": ["exp"], "exp": 1}),
        "crit-empty": signed(claims(), {**HEADER, "crit": []}),
        "b64-false": signed(claims(), {**HEADER, "b64": False, "crit": ["b64"]}),
        "b64-false-empty-payload": signed(None, {**HEADER, "b64": False, "crit": ["b64"]}, raw_payload=b""),
        "b64-zero": signed(claims(), {**HEADER, "b64": 0}),
        "header-array": signed(claims(), ["HS256"]),
        "alg-list": signed(claims(), {"alg": ["HS256"]}),
        "alg-none": signed(claims(), {"alg": "none"}),
        "alg-hs512": signed(claims(), {"alg": "HS512"}),
        "extra-segment": signed(claims()) + ".x",
        "two-segments": signed(claims()).rsplit(".", 1)[0],
        "one-segment": "abc",
        "three-padding": signed(claims()) + "===",
        "padding-misplaced": signed(claims()).replace(".", "=.", 1),
        "non-canonical-base64": signed(claims())[:-1] + "B",
        "non-alphabet": signed(claims()).replace(".", "!.", 1),
        "length-one-mod-four": signed(claims()) + "A",
        "non-ascii": signed(claims()) + "\u00e9",
    }


@pytest.mark.parametrize("name", list(tokens()))
async def test_hs256_outcome_is_pyjwts(name: str) -> None:
    token = tokens()[name]
    assert await ours(token) == reference(token)


async def test_the_valid_tokens_are_accepted_and_the_expired_one_named() -> None:
    # Guards the table above against a reference that refuses everything.
    fresh = tokens()
    assert await ours(fresh["valid"]) == "accepted"
    assert await ours(fresh["valid-padded"]) == "accepted"
    assert await ours(fresh["expired"]) == "The token has expired."
