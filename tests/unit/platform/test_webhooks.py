"""Tests for shared.platform.webhooks (Standard Webhooks and Stripe signatures)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from shared.platform.webhooks import (
    WebhookVerificationError,
    sign_standard_webhook,
    sign_stripe_payload,
    verify_standard_webhook,
    verify_stripe_signature,
)

# Published example vector from the Standard Webhooks specification / reference libraries.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

OTHER_SECRET = "whsec_" + base64.b64encode(b"another-secret-key-32-bytes-long").decode()

STRIPE_SECRET = "whsec_test_stripe_endpoint_secret"
STRIPE_TIMESTAMP = 1_700_000_000
STRIPE_BODY = b'{"id": "evt_123", "type": "checkout.session.completed"}'


def spec_headers(signature: str = SPEC_SIGNATURE, timestamp: int = SPEC_TIMESTAMP) -> dict[str, str]:
    return {
        "webhook-id": SPEC_MSG_ID,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def assert_reason(exc_info: pytest.ExceptionInfo[WebhookVerificationError], reason: str) -> None:
    assert exc_info.value.reason == reason


# --- Standard Webhooks: spec vector ---------------------------------------


def test_spec_vector_verifies() -> None:
    result = verify_standard_webhook(SPEC_BODY, spec_headers(), [SPEC_SECRET], now=SPEC_TIMESTAMP)
    assert result == SPEC_MSG_ID


def test_spec_vector_signing_reproduces_signature() -> None:
    assert sign_standard_webhook(SPEC_BODY, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_SECRET) == SPEC_SIGNATURE


def test_supabase_secret_form_is_accepted() -> None:
    result = verify_standard_webhook(SPEC_BODY, spec_headers(), ["v1," + SPEC_SECRET], now=SPEC_TIMESTAMP)
    assert result == SPEC_MSG_ID


def test_header_lookup_is_case_insensitive() -> None:
    headers = {key.title(): value for key, value in spec_headers().items()}
    assert verify_standard_webhook(SPEC_BODY, headers, [SPEC_SECRET], now=SPEC_TIMESTAMP) == SPEC_MSG_ID


def test_timestamp_at_tolerance_edge_is_accepted() -> None:
    result = verify_standard_webhook(SPEC_BODY, spec_headers(), [SPEC_SECRET], now=SPEC_TIMESTAMP + 300)
    assert result == SPEC_MSG_ID


# --- Standard Webhooks: refusals ------------------------------------------


def test_tampered_body_is_refused() -> None:
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_standard_webhook(b'{"test": 2432232315}', spec_headers(), [SPEC_SECRET], now=SPEC_TIMESTAMP)
    assert_reason(exc_info, "no_matching_signature")


def test_wrong_secret_is_refused() -> None:
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_standard_webhook(SPEC_BODY, spec_headers(), [OTHER_SECRET], now=SPEC_TIMESTAMP)
    assert_reason(exc_info, "no_matching_signature")


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_refused(missing: str) -> None:
    headers = spec_headers()
    del headers[missing]
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_standard_webhook(SPEC_BODY, headers, [SPEC_SECRET], now=SPEC_TIMESTAMP)
    assert_reason(exc_info, "missing_headers")


@pytest.mark.parametrize("timestamp", ["abc", "", " 1614265330", "+1614265330", "1614265330.5"])
def test_malformed_timestamp_is_refused(timestamp: str) -> None:
    headers = {**spec_headers(), "webhook-timestamp": timestamp}
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_standard_webhook(SPEC_BODY, headers, [SPEC_SECRET], now=SPEC_TIMESTAMP)
    # An empty header counts as missing; everything else is a bad timestamp.
    assert_reason(exc_info, "missing_headers" if not timestamp else "bad_timestamp")


def test_timestamp_six_minutes_old_is_refused() -> None:
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_standard_webhook(SPEC_BODY, spec_headers(), [SPEC_SECRET], now=SPEC_TIMESTAMP + 360)
    assert_reason(exc_info, "timestamp_out_of_tolerance")


def test_timestamp_six_minutes_in_future_is_refused() -> None:
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_standard_webhook(SPEC_BODY, spec_headers(), [SPEC_SECRET], now=SPEC_TIMESTAMP - 360)
    assert_reason(exc_info, "timestamp_out_of_tolerance")


def test_only_v1a_signature_is_ignored() -> None:
    signature = "v1a," + SPEC_SIGNATURE.removeprefix("v1,")
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_standard_webhook(SPEC_BODY, spec_headers(signature), [SPEC_SECRET], now=SPEC_TIMESTAMP)
    assert_reason(exc_info, "no_matching_signature")


def test_second_of_multiple_signatures_matches() -> None:
    wrong = sign_standard_webhook(SPEC_BODY, SPEC_MSG_ID, SPEC_TIMESTAMP, OTHER_SECRET)
    signature = f"v1a,ignored== {wrong} garbage {SPEC_SIGNATURE}"
    result = verify_standard_webhook(SPEC_BODY, spec_headers(signature), [SPEC_SECRET], now=SPEC_TIMESTAMP)
    assert result == SPEC_MSG_ID


def test_rotation_second_secret_matches() -> None:
    result = verify_standard_webhook(
        SPEC_BODY, spec_headers(), [OTHER_SECRET, SPEC_SECRET], now=SPEC_TIMESTAMP
    )
    assert result == SPEC_MSG_ID


@pytest.mark.parametrize(
    "secret",
    ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not*base64!", "whsec_", "v1,whsec_%%%", ""],
)
def test_malformed_secret_is_refused(secret: str) -> None:
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_standard_webhook(SPEC_BODY, spec_headers(), [secret], now=SPEC_TIMESTAMP)
    assert_reason(exc_info, "bad_secret")


def test_malformed_secret_fails_signing() -> None:
    with pytest.raises(WebhookVerificationError) as exc_info:
        sign_standard_webhook(SPEC_BODY, SPEC_MSG_ID, SPEC_TIMESTAMP, "whsec_not*base64!")
    assert_reason(exc_info, "bad_secret")


@pytest.mark.parametrize("secrets", [[], SPEC_SECRET])
def test_empty_or_bare_string_secrets_are_refused(secrets: list[str] | str) -> None:
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_standard_webhook(SPEC_BODY, spec_headers(), secrets, now=SPEC_TIMESTAMP)
    assert_reason(exc_info, "bad_secret")


@pytest.mark.parametrize(
    ("body", "headers", "secret", "now"),
    [
        (b"tampered", spec_headers(), SPEC_SECRET, SPEC_TIMESTAMP),
        (SPEC_BODY, spec_headers(), SPEC_SECRET, SPEC_TIMESTAMP + 3600),
        (SPEC_BODY, {}, SPEC_SECRET, SPEC_TIMESTAMP),
        (SPEC_BODY, spec_headers(), "whsec_bad*" + SPEC_SECRET.removeprefix("whsec_"), SPEC_TIMESTAMP),
    ],
)
def test_error_messages_do_not_leak_secret(
    body: bytes, headers: dict[str, str], secret: str, now: int
) -> None:
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_standard_webhook(body, headers, [secret], now=now)
    message = str(exc_info.value)
    secret_material = secret.removeprefix("whsec_").removeprefix("bad*")
    assert secret_material not in message
    assert SPEC_SIGNATURE.removeprefix("v1,") not in message


# --- Stripe ----------------------------------------------------------------


def test_stripe_round_trip() -> None:
    header = sign_stripe_payload(STRIPE_BODY, STRIPE_TIMESTAMP, STRIPE_SECRET)
    assert header.startswith(f"t={STRIPE_TIMESTAMP},v1=")
    result = verify_stripe_signature(STRIPE_BODY, header, [STRIPE_SECRET], now=STRIPE_TIMESTAMP)
    assert result == STRIPE_TIMESTAMP


def test_stripe_secret_is_used_as_raw_utf8_key() -> None:
    expected = hmac.new(
        STRIPE_SECRET.encode(), f"{STRIPE_TIMESTAMP}.".encode() + STRIPE_BODY, hashlib.sha256
    ).hexdigest()
    assert sign_stripe_payload(STRIPE_BODY, STRIPE_TIMESTAMP, STRIPE_SECRET) == (
        f"t={STRIPE_TIMESTAMP},v1={expected}"
    )


def test_stripe_any_of_multiple_v1_values_matches() -> None:
    good = sign_stripe_payload(STRIPE_BODY, STRIPE_TIMESTAMP, STRIPE_SECRET).split(",")[1]
    header = f"t={STRIPE_TIMESTAMP},v1={'0' * 64},{good},v0=deadbeef"
    assert verify_stripe_signature(STRIPE_BODY, header, [STRIPE_SECRET], now=STRIPE_TIMESTAMP) == (
        STRIPE_TIMESTAMP
    )


def test_stripe_rotation_second_secret_matches() -> None:
    header = sign_stripe_payload(STRIPE_BODY, STRIPE_TIMESTAMP, STRIPE_SECRET)
    result = verify_stripe_signature(
        STRIPE_BODY, header, ["whsec_old_secret", STRIPE_SECRET], now=STRIPE_TIMESTAMP
    )
    assert result == STRIPE_TIMESTAMP


def test_stripe_tampered_body_is_refused() -> None:
    header = sign_stripe_payload(STRIPE_BODY, STRIPE_TIMESTAMP, STRIPE_SECRET)
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_stripe_signature(STRIPE_BODY + b" ", header, [STRIPE_SECRET], now=STRIPE_TIMESTAMP)
    assert_reason(exc_info, "no_matching_signature")


def test_stripe_wrong_secret_is_refused() -> None:
    header = sign_stripe_payload(STRIPE_BODY, STRIPE_TIMESTAMP, STRIPE_SECRET)
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_stripe_signature(STRIPE_BODY, header, ["whsec_other"], now=STRIPE_TIMESTAMP)
    assert_reason(exc_info, "no_matching_signature")


def test_stripe_timestamp_at_tolerance_edge_is_accepted() -> None:
    header = sign_stripe_payload(STRIPE_BODY, STRIPE_TIMESTAMP, STRIPE_SECRET)
    result = verify_stripe_signature(STRIPE_BODY, header, [STRIPE_SECRET], now=STRIPE_TIMESTAMP + 300)
    assert result == STRIPE_TIMESTAMP


@pytest.mark.parametrize("offset", [301, -301])
def test_stripe_timestamp_out_of_tolerance_is_refused(offset: int) -> None:
    header = sign_stripe_payload(STRIPE_BODY, STRIPE_TIMESTAMP, STRIPE_SECRET)
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_stripe_signature(STRIPE_BODY, header, [STRIPE_SECRET], now=STRIPE_TIMESTAMP + offset)
    assert_reason(exc_info, "timestamp_out_of_tolerance")


@pytest.mark.parametrize("header", [None, ""])
def test_stripe_missing_header_is_refused(header: str | None) -> None:
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_stripe_signature(STRIPE_BODY, header, [STRIPE_SECRET], now=STRIPE_TIMESTAMP)
    assert_reason(exc_info, "missing_headers")


@pytest.mark.parametrize("header", [f"t=abc,v1={'0' * 64}", f"v1={'0' * 64}", "garbage"])
def test_stripe_malformed_header_is_refused(header: str) -> None:
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_stripe_signature(STRIPE_BODY, header, [STRIPE_SECRET], now=STRIPE_TIMESTAMP)
    assert_reason(exc_info, "bad_timestamp")


def test_stripe_header_with_only_v0_is_refused() -> None:
    v1_header = sign_stripe_payload(STRIPE_BODY, STRIPE_TIMESTAMP, STRIPE_SECRET)
    v0_header = v1_header.replace("v1=", "v0=")
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_stripe_signature(STRIPE_BODY, v0_header, [STRIPE_SECRET], now=STRIPE_TIMESTAMP)
    assert_reason(exc_info, "no_matching_signature")


@pytest.mark.parametrize("secrets", [[], [""], STRIPE_SECRET])
def test_stripe_bad_secrets_are_refused(secrets: list[str] | str) -> None:
    header = sign_stripe_payload(STRIPE_BODY, STRIPE_TIMESTAMP, STRIPE_SECRET)
    with pytest.raises(WebhookVerificationError) as exc_info:
        verify_stripe_signature(STRIPE_BODY, header, secrets, now=STRIPE_TIMESTAMP)
    assert_reason(exc_info, "bad_secret")


def test_stripe_error_messages_do_not_leak_secret() -> None:
    header = sign_stripe_payload(STRIPE_BODY, STRIPE_TIMESTAMP, STRIPE_SECRET)
    expected_sig = header.split("v1=")[1]
    for body, now in [(b"tampered", STRIPE_TIMESTAMP), (STRIPE_BODY, STRIPE_TIMESTAMP + 3600)]:
        with pytest.raises(WebhookVerificationError) as exc_info:
            verify_stripe_signature(body, header, [STRIPE_SECRET], now=now)
        assert STRIPE_SECRET not in str(exc_info.value)
        assert expected_sig not in str(exc_info.value)
