"""Webhook signature verification: Standard Webhooks (Supabase Auth hooks) and Stripe."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Mapping, Sequence
from typing import Literal

FailureReason = Literal[
    "missing_headers",
    "bad_timestamp",
    "timestamp_out_of_tolerance",
    "no_matching_signature",
    "bad_secret",
]

Scheme = Literal["standard", "stripe"]
"""Standard Webhooks (Supabase Auth hooks, most providers) or Stripe's `t=…,v1=…`."""

DEFAULT_TOLERANCE_S = 300

_WHSEC_PREFIX = "whsec_"
# Supabase shows hook secrets as "v1,whsec_<base64>"; the "v1," names the signature scheme.
_SUPABASE_SCHEME_PREFIX = "v1,"
_STANDARD_SIGNATURE_VERSION = "v1"
_STRIPE_SIGNATURE_SCHEME = "v1"


class WebhookVerificationError(Exception):
    """A webhook request failed verification; `reason` is a stable machine-readable code."""

    def __init__(self, reason: FailureReason, message: str) -> None:
        super().__init__(message)
        self.reason: FailureReason = reason


# One secret per match: Supabase shows hook secrets as "v1,whsec_<base64>", so the comma after a
# leading "v1" belongs to the secret; secrets are otherwise separated by commas, "|" (as Supabase's
# own GOTRUE_HOOK_*_SECRETS does) or whitespace.
_SECRET = re.compile(r"(?:v1,)?[^,|\s]+")


def split_secrets(value: str) -> list[str]:
    """The secrets of an environment value (several during rotation), keeping Supabase's "v1," prefix."""
    return _SECRET.findall(value)


def check_secret(scheme: Scheme, secret: str, index: int = 0) -> None:
    """Raise WebhookVerificationError("bad_secret") when `secret` cannot be a signing key of `scheme`."""
    if scheme == "stripe":
        _stripe_key(secret, index)
    else:
        _decode_standard_secret(secret, index)


# --- shared helpers -------------------------------------------------------


def _parse_timestamp(raw: str) -> int:
    """Parse a unix-seconds timestamp made only of ASCII digits."""
    # int() alone would also accept "+1", " 1 " and "1_0"; the signed bytes must be unambiguous.
    if not raw or not raw.isascii() or not raw.isdigit():
        raise WebhookVerificationError("bad_timestamp", "timestamp is not an integer number of seconds")
    return int(raw)


def _check_tolerance(timestamp: int, now: float | None, tolerance_s: int) -> None:
    """Refuse timestamps more than `tolerance_s` seconds in the past or the future."""
    current = time.time() if now is None else now
    if current - timestamp > tolerance_s:
        raise WebhookVerificationError("timestamp_out_of_tolerance", "timestamp is too old")
    if timestamp - current > tolerance_s:
        raise WebhookVerificationError("timestamp_out_of_tolerance", "timestamp is too far in the future")


def _require_secrets(secrets: Sequence[str]) -> None:
    """Reject an empty secret list, and a bare string passed where a list was meant."""
    # A str is a Sequence[str] too; iterating it would treat each character as a secret.
    if isinstance(secrets, str) or not secrets:
        raise WebhookVerificationError("bad_secret", "no webhook secrets configured")


def _any_match(expected: Sequence[bytes], received: Sequence[bytes]) -> bool:
    """Compare every expected/received pair in constant time, without short-circuiting."""
    matched = False
    for want in expected:
        for got in received:
            matched |= hmac.compare_digest(want, got)
    return matched


# --- Standard Webhooks -----------------------------------------------------


def _decode_standard_secret(secret: str, index: int = 0) -> bytes:
    """Turn `whsec_<base64>` (optionally prefixed `v1,`) into the raw HMAC key."""
    value = secret.strip()
    value = value.removeprefix(_SUPABASE_SCHEME_PREFIX)
    if not value.startswith(_WHSEC_PREFIX):
        raise WebhookVerificationError("bad_secret", f"webhook secret #{index} lacks the whsec_ prefix")
    try:
        key = base64.b64decode(value.removeprefix(_WHSEC_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("bad_secret", f"webhook secret #{index} is not valid base64") from None
    if not key:
        raise WebhookVerificationError("bad_secret", f"webhook secret #{index} is empty")
    return key


def _standard_digest(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    """HMAC-SHA256 over `{id}.{timestamp}.{body}`."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def _standard_signatures(header: str) -> list[bytes]:
    """Decode the `v1,<base64>` entries of a space-separated signature header."""
    signatures: list[bytes] = []
    for entry in header.split():
        version, sep, encoded = entry.partition(",")
        if not sep or version != _STANDARD_SIGNATURE_VERSION:
            continue
        try:
            signatures.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return signatures


def _standard_headers(headers: Mapping[str, str]) -> tuple[str, str, str]:
    """Return (id, timestamp, signature) from case-insensitive headers."""
    lowered = {key.lower(): value for key, value in headers.items()}
    msg_id = lowered.get("webhook-id", "")
    timestamp = lowered.get("webhook-timestamp", "")
    signature = lowered.get("webhook-signature", "")
    if not (msg_id and timestamp and signature):
        raise WebhookVerificationError(
            "missing_headers", "webhook-id, webhook-timestamp and webhook-signature are required"
        )
    return msg_id, timestamp, signature


def sign_standard_webhook(body: bytes, msg_id: str, timestamp: int, secret: str) -> str:
    """Return the `v1,<base64>` signature entry for a Standard Webhooks message."""
    digest = _standard_digest(_decode_standard_secret(secret), msg_id, timestamp, body)
    return f"{_STANDARD_SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def verify_standard_webhook(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    *,
    now: float | None = None,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> str:
    """Verify a Standard Webhooks request and return its webhook id."""
    _require_secrets(secrets)
    # Decode secrets first so a misconfiguration surfaces on every request, not only valid ones.
    keys = [_decode_standard_secret(secret, index) for index, secret in enumerate(secrets)]
    msg_id, raw_timestamp, signature_header = _standard_headers(headers)
    timestamp = _parse_timestamp(raw_timestamp)
    _check_tolerance(timestamp, now, tolerance_s)
    expected = [_standard_digest(key, msg_id, timestamp, body) for key in keys]
    if not _any_match(expected, _standard_signatures(signature_header)):
        raise WebhookVerificationError("no_matching_signature", "no v1 signature matches the payload")
    return msg_id


# --- Stripe ----------------------------------------------------------------


def _stripe_key(secret: str, index: int = 0) -> bytes:
    """Return a Stripe endpoint secret as the HMAC key (its UTF-8 bytes, not base64-decoded)."""
    if not secret.strip():
        raise WebhookVerificationError("bad_secret", f"stripe secret #{index} is empty")
    return secret.encode()


def _stripe_digest(key: bytes, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 over `{t}.{body}`."""
    return hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _parse_stripe_header(header: str) -> tuple[str, list[bytes]]:
    """Split `t=...,v1=...,v0=...` into the raw timestamp and the v1 signatures."""
    raw_timestamp = ""
    signatures: list[bytes] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            raw_timestamp = value
        elif key == _STRIPE_SIGNATURE_SCHEME:
            signatures.append(value.encode())
    return raw_timestamp, signatures


def sign_stripe_payload(body: bytes, timestamp: int, secret: str) -> str:
    """Return a full `Stripe-Signature` header value (`t=...,v1=...`)."""
    return f"t={timestamp},{_STRIPE_SIGNATURE_SCHEME}={_stripe_digest(_stripe_key(secret), timestamp, body)}"


def verify_stripe_signature(
    body: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    now: float | None = None,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> int:
    """Verify a `Stripe-Signature` header and return its timestamp."""
    _require_secrets(secrets)
    keys = [_stripe_key(secret, index) for index, secret in enumerate(secrets)]
    if not header:
        raise WebhookVerificationError("missing_headers", "Stripe-Signature header is required")
    raw_timestamp, signatures = _parse_stripe_header(header)
    timestamp = _parse_timestamp(raw_timestamp)
    _check_tolerance(timestamp, now, tolerance_s)
    expected = [_stripe_digest(key, timestamp, body).encode() for key in keys]
    if not _any_match(expected, signatures):
        raise WebhookVerificationError("no_matching_signature", "no v1 signature matches the payload")
    return timestamp
