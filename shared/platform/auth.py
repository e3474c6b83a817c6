"""Who is calling: Supabase JWT verification, service keys, and the principal loaded from the database.

Token claims only *identify* the caller. Authority (staff role, memberships) is always read from the
database inside the request's transaction, so a demotion takes effect on the very next request.

HS256 tokens are verified with the standard library; PyJWT (and with it `cryptography`) is imported only
to verify a token signed with a key of the project's JWKS (ES256, RS256).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple
from uuid import UUID

from shared.platform import logging as log
from shared.platform.config import Settings
from shared.platform.errors import ForbiddenError, UnauthenticatedError

ASYMMETRIC_ALGORITHMS = {"ES256": "EC", "RS256": "RSA"}
"""Allowed asymmetric algorithms and the only key type each may be verified with."""
JWKS_REFETCH_INTERVAL_S = 30.0
"""At most one JWKS fetch per instance in this interval, however many unknown `kid`s arrive."""
JWKS_MAX_AGE_S = 600.0


class Membership(NamedTuple):
    """The caller's membership of one active community."""

    community_id: UUID
    community_name: str
    community_slug: str
    role: str


class Principal(NamedTuple):
    """The authenticated caller, as the database knows them at the start of this request."""

    user_id: UUID
    claims: Mapping[str, Any]
    email: str | None = None
    status: str = "active"
    staff_role: str | None = None
    memberships: tuple[Membership, ...] = ()
    profile: Mapping[str, Any] | None = None

    @property
    def is_staff(self) -> bool:
        """Whether the caller is platform staff of any role."""
        return self.staff_role is not None

    @property
    def is_active(self) -> bool:
        """Whether the account may use the product."""
        return self.status == "active"

    def community_role(self, community_id: UUID) -> str | None:
        """The caller's role in a community, or None when not a member."""
        return next((m.role for m in self.memberships if m.community_id == community_id), None)

    @property
    def roles(self) -> list[str]:
        """A definite role set: staff role, then `community_admin` and/or `member` where they apply."""
        roles = [self.staff_role] if self.staff_role else []
        if any(m.role == "admin" for m in self.memberships):
            roles.append("community_admin")
        if any(m.role == "member" for m in self.memberships):
            roles.append("member")
        return roles


class ServiceCaller(NamedTuple):
    """A trusted server-to-server caller holding the project's secret key."""

    name: str = "service"


STAFF_ROLES = ("super_admin", "manager", "specialist")
STAFF_WRITERS = ("super_admin", "manager")


def require_staff(principal: Principal, roles: Sequence[str] = STAFF_ROLES) -> None:
    """Refuse unless the caller holds one of the given staff roles."""
    if principal.staff_role not in roles:
        raise ForbiddenError("This needs a platform staff role.")


def require_community_role(
    principal: Principal, community_id: UUID, roles: Sequence[str] = ("admin",)
) -> None:
    """Refuse unless the caller has one of `roles` in the community, or is staff who may write."""
    if principal.staff_role in STAFF_WRITERS:
        return
    if principal.community_role(community_id) not in roles:
        raise ForbiddenError("You do not have that role in this community.")


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an `Authorization: Bearer …` header, if any."""
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def verify_service_key(headers: Mapping[str, str], settings: Settings) -> ServiceCaller:
    """Accept the project's secret key as a bearer token or `apikey` header, in constant time."""
    presented = bearer_token(headers) or headers.get("apikey", "")
    if not presented or not settings.secret_keys:
        raise UnauthenticatedError("A service key is required.")
    matched = False
    for key in settings.secret_keys:
        matched |= hmac.compare_digest(presented.encode(), key.encode())
    if not matched:
        raise UnauthenticatedError("The service key is not valid.")
    return ServiceCaller()


class JwksCache:
    """The project's signing keys, cached per instance; an unknown `kid` triggers a bounded refetch."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.fetched_at = 0.0
        self.attempted_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str, url: str) -> Any:
        """The public key with this `kid`, fetching the JWKS when stale or when the kid is unknown."""
        now = time.monotonic()
        if kid in self.keys and now - self.fetched_at < JWKS_MAX_AGE_S:
            return self.keys[kid]
        async with self._lock:
            now = time.monotonic()
            if now - self.attempted_at >= JWKS_REFETCH_INTERVAL_S:
                self.attempted_at = now
                await self._fetch(url)
        if kid not in self.keys:
            raise UnauthenticatedError("The token was signed with an unknown key.")
        return self.keys[kid]

    async def _fetch(self, url: str) -> None:
        import httpx
        from jwt import PyJWK, PyJWTError

        try:
            async with httpx.AsyncClient(timeout=3.0) as client:
                response = await client.get(url)
                response.raise_for_status()
                document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("jwks fetch failed", error=type(exc).__name__, jwks_url=url)
            return
        keys: dict[str, Any] = {}
        for jwk in document.get("keys", []) if isinstance(document, dict) else []:
            if not isinstance(jwk, dict):
                continue
            alg = jwk.get("alg")
            if jwk.get("kid") is None or not isinstance(alg, str) or alg not in ASYMMETRIC_ALGORITHMS:
                continue
            if jwk.get("kty") != ASYMMETRIC_ALGORITHMS[alg] or jwk.get("use", "sig") != "sig":
                continue
            try:
                keys[str(jwk["kid"])] = PyJWK(jwk, algorithm=alg)
            except PyJWTError:  # PyJWKError, and InvalidKeyError for malformed key material
                log.warning("jwks key skipped", kid=str(jwk.get("kid")))
        self.keys, self.fetched_at = keys, time.monotonic()


jwks_cache = JwksCache()


class VerifiedToken(NamedTuple):
    """A token that passed every check: its claims, and the user id from `sub`."""

    claims: Mapping[str, Any]
    user_id: UUID

    @classmethod
    def of(cls, claims: Mapping[str, Any]) -> VerifiedToken:
        """The verified claims with their user id; ValueError when `sub` is not a UUID."""
        return cls(claims, UUID(str(claims["sub"])))


class VerifiedTokenCache:
    """Tokens this instance has verified, until they expire: a browser sends the same token for an hour.

    Bounded, keyed by the exact token text, bound to the settings it was verified under (a rotated secret
    or another issuer starts afresh), and an entry is refused once `exp` (plus leeway) has passed.
    Verifying with PyJWT costs ~70 µs a request; a hit costs a dict lookup.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self.entries: dict[str, VerifiedToken] = {}
        self.settings: Settings | None = None

    def get(self, token: str, settings: Settings) -> VerifiedToken | None:
        """The cached verification of `token`, if it is still valid under `settings`."""
        if settings is not self.settings:
            self.entries, self.settings = {}, settings
            return None
        hit = self.entries.get(token)
        if hit is None:
            return None
        if time.time() > float(hit.claims["exp"]) + settings.jwt_leeway_s:
            del self.entries[token]
            raise UnauthenticatedError("The token has expired.")
        return hit

    def put(self, token: str, verified: VerifiedToken) -> None:
        """Remember a verified token, evicting the oldest entry when full."""
        if len(self.entries) >= self.max_entries:
            del self.entries[next(iter(self.entries))]
        self.entries[token] = verified


verified_tokens = VerifiedTokenCache()


async def verify_jwt(token: str, settings: Settings) -> VerifiedToken:
    """Verify a Supabase access token (or find it verified already), refusing anything not fully valid."""
    cached = verified_tokens.get(token, settings)
    if cached is not None:
        return cached
    verified = await _verify_jwt(token, settings)
    verified_tokens.put(token, verified)
    return verified


async def _verify_jwt(token: str, settings: Settings) -> VerifiedToken:
    """Check allowed algorithm for the key, signature, exp, nbf, aud, iss and sub.

    HS256 (Supabase's shared secret) is checked here with the standard library, as PyJWT checks it;
    PyJWT, which loads `cryptography` (~30 ms of a cold start), verifies only the JWKS algorithms.
    """
    try:
        header, signing_input, payload, signature = _parse(token)
    except ValueError as exc:
        raise UnauthenticatedError("The token is malformed.") from exc
    alg = header.get("alg")
    if not isinstance(alg, str):  # e.g. a list: it would not even be hashable below
        raise UnauthenticatedError("The token's algorithm is not accepted.")
    if alg == "HS256" and settings.jwt_secret:
        claims = _verified_hs256(header, signing_input, payload, signature, settings.jwt_secret, settings)
    elif alg in ASYMMETRIC_ALGORITHMS and settings.jwks_url and isinstance(header.get("kid"), str):
        claims = await _verified_with_jwks(token, alg, header["kid"], settings)
    else:
        raise UnauthenticatedError("The token's algorithm is not accepted.")
    try:
        return VerifiedToken.of(claims)
    except ValueError as exc:
        raise UnauthenticatedError("The token's subject is not a user id.") from exc


async def _verified_with_jwks(token: str, alg: str, kid: str, settings: Settings) -> dict[str, Any]:
    import jwt

    jwk = await jwks_cache.key_for(kid, str(settings.jwks_url))
    if jwk.algorithm_name != alg:
        raise UnauthenticatedError("The token's algorithm does not match its key.")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            jwk.key,
            algorithms=[alg],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway_s,
            options={"require": list(_REQUIRED_CLAIMS), "verify_nbf": True},
        )
    except jwt.ExpiredSignatureError as exc:
        raise UnauthenticatedError("The token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise UnauthenticatedError("The token is not valid.") from exc
    return claims


_REQUIRED_CLAIMS = ("exp", "sub", "aud", "iss")
_BASE64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _parse(token: str) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    """Header, signing input, payload and signature of a compact JWS; ValueError when it is malformed.

    As PyJWT (2.15) reads a token: three segments of canonical base64url, a JSON object for a header,
    `kid` a string, `crit` naming only extensions the header carries and PyJWT supports (`b64`).
    """
    signing_input, crypto = token.encode().rsplit(b".", 1)  # ValueError: not enough segments
    header_segment, payload_segment = signing_input.split(b".", 1)
    header = json.loads(_base64url(header_segment))  # ValueError or RecursionError
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    if header.get("b64", True) is False:
        if payload_segment:
            raise ValueError("a detached payload's segment must be empty")
        payload = b""
    else:
        payload = _base64url(payload_segment)
    signature = _base64url(crypto)
    if "kid" in header and not isinstance(header["kid"], str):
        raise ValueError("kid is not a string")
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or not crit:
            raise ValueError("crit is not a non-empty list")
        if any(not isinstance(name, str) or name != "b64" or name not in header for name in crit):
            raise ValueError("crit names an unsupported or absent extension")
    return header, signing_input, payload, signature


def _base64url(segment: bytes) -> bytes:
    """A segment's bytes, refused unless canonical base64url (up to two `=` of padding, as PyJWT allows)."""
    stripped = segment.rstrip(b"=")
    padding = len(segment) - len(stripped)
    if padding > 2 or (padding and len(segment) % 4) or len(stripped) % 4 == 1:
        raise ValueError("bad padding")
    if stripped.translate(None, _BASE64URL):
        raise ValueError("not base64url")
    decoded = base64.urlsafe_b64decode(stripped + b"=" * (-len(stripped) % 4))
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != stripped:
        raise ValueError("not canonical base64url")
    return decoded


def _verified_hs256(
    header: dict[str, Any], signing_input: bytes, payload: bytes, signature: bytes, secret: str, settings: Settings
) -> dict[str, Any]:
    """The claims of an HS256 token signed with `secret`, checked as `jwt.decode` checks them."""
    # The key is always the configured secret, never a key taken from a JWKS, so PyJWT's refusal of
    # public keys used as HMAC secrets (algorithm confusion) has nothing to guard here.
    if header.get("b64", True) is False:
        raise UnauthenticatedError("The token is not valid.")  # a detached payload: never ours
    expected = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise UnauthenticatedError("The token is not valid.")
    try:
        claims = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise UnauthenticatedError("The token is not valid.") from exc
    if not isinstance(claims, dict) or not _claims_hold(claims, settings):
        raise UnauthenticatedError("The token is not valid.")
    return claims


def _claims_hold(claims: dict[str, Any], settings: Settings) -> bool:
    """Required claims, iat, nbf, iss, aud, sub and jti as PyJWT validates them; an expired token raises."""
    if any(claims.get(name) is None for name in _REQUIRED_CLAIMS):
        return False
    now, leeway = time.time(), settings.jwt_leeway_s
    try:
        if "iat" in claims and int(claims["iat"]) > now + leeway:
            return False
        if "nbf" in claims and int(claims["nbf"]) > now + leeway:
            return False
        expired = int(claims["exp"]) <= now - leeway
    except (ValueError, TypeError, OverflowError):
        return False
    if expired:
        raise UnauthenticatedError("The token has expired.")
    if not isinstance(claims["iss"], str) or claims["iss"] != settings.jwt_issuer:
        return False
    audiences = claims["aud"]
    if isinstance(audiences, str):
        audiences = [audiences]
    if not isinstance(audiences, list) or any(not isinstance(a, str) for a in audiences):
        return False
    if settings.jwt_audience not in audiences:
        return False
    return isinstance(claims["sub"], str) and ("jti" not in claims or isinstance(claims["jti"], str))


def principal_from_row(token: VerifiedToken, row: Mapping[str, Any]) -> Principal:
    """Build the principal from its row (`app.open_request`, read as the caller under row level security).

    A user without a profile gets an empty role set.
    """
    memberships = tuple(
        Membership(UUID(m["community_id"]), m["name"], m["slug"], m["role"]) for m in row["memberships"]
    )
    profile = dict(row) if row["has_profile"] else None
    return Principal(
        user_id=token.user_id,
        claims=token.claims,
        email=row["email"] or token.claims.get("email"),
        status=row["status"] or "active",
        staff_role=row["staff_role"],
        memberships=memberships,
        profile=profile,
    )
