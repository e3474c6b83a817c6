"""Webhook routes: which provider, how its signature is checked, and where its event id comes from.

Verification runs on the raw body before anything of it is parsed; a failure is a 401 that names
the reason code but never a secret or an expected signature.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from shared.platform import logging as log
from shared.platform.config import WEBHOOK_SECRETS, Settings, require
from shared.platform.errors import ConfigError, UnauthenticatedError
from shared.platform.webhooks import (
    Scheme,
    WebhookVerificationError,
    verify_standard_webhook,
    verify_stripe_signature,
)


@dataclass(frozen=True)
class Webhook:
    """A provider's webhook: its name, the setting that holds its secrets, and its signature scheme."""

    provider: str
    secret_env: str
    """One of config.WEBHOOK_SECRETS: the environment variable holding the secrets (not a secret)."""
    scheme: Scheme
    dedupe: bool = True
    """Record the event id and acknowledge repeats without processing them again."""

    def __post_init__(self) -> None:
        if WEBHOOK_SECRETS.get(self.secret_env) != self.scheme:
            # Settings check each secret's shape for its scheme: an unlisted variable would never be read.
            raise ValueError(
                f"{self.secret_env} is not a {self.scheme} webhook secret in config.WEBHOOK_SECRETS"
            )

    def verify(self, raw: bytes, headers: Mapping[str, str], settings: Settings) -> str:
        """Check the signature; return the provider's event id."""
        purpose = f"the {self.provider} webhook cannot be verified"
        secrets = require(settings.webhook_secrets.get(self.secret_env), self.secret_env, purpose)
        try:
            if self.scheme == "stripe":
                verify_stripe_signature(raw, headers.get("stripe-signature"), secrets)
                return _stripe_event_id(raw)
            return verify_standard_webhook(raw, headers, secrets)
        except WebhookVerificationError as exc:
            if exc.reason == "bad_secret":
                # Our configuration is wrong, not the provider's signature: 503 not_configured, logged as such.
                raise ConfigError(f"{self.secret_env} is malformed ({exc})") from None
            log.warning("webhook refused", provider=self.provider, reason=exc.reason)
            raise UnauthenticatedError(f"The webhook signature was refused ({exc.reason}).") from None


def _stripe_event_id(raw: bytes) -> str:
    try:
        event_id = json.loads(raw).get("id")
    except (ValueError, AttributeError):
        event_id = None
    if not isinstance(event_id, str) or not event_id:
        raise UnauthenticatedError("The webhook carries no event id.")
    return event_id
