"""Webhook routes: which provider, how its signature is checked, and where its event id comes from.

Verification runs on the raw body before anything of it is parsed; a failure is a 401 that names
the reason code but never a secret or an expected signature.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from shared.platform import logging as log
from shared.platform.config import Settings
from shared.platform.errors import ConfigError, UnauthenticatedError
from shared.platform.webhooks import (
    WebhookVerificationError,
    verify_standard_webhook,
    verify_stripe_signature,
)

# One secret per match: Supabase shows hook secrets as "v1,whsec_<base64>", so the comma after a
# leading "v1" belongs to the secret; secrets are otherwise separated by commas, "|" (as Supabase's
# own GOTRUE_HOOK_*_SECRETS does) or whitespace.
_SECRET = re.compile(r"(?:v1,)?[^,|\s]+")


def split_secrets(value: str) -> list[str]:
    """The secrets of an environment value, keeping Supabase's "v1," prefix with its secret."""
    return _SECRET.findall(value)


@dataclass(frozen=True, slots=True)
class Webhook:
    """A provider's webhook: its name, its secrets' environment variable and its signature scheme."""

    provider: str
    secret_env: str
    scheme: str  # "standard" (Standard Webhooks) or "stripe"
    dedupe: bool = True
    """Record the event id and acknowledge repeats without processing them again."""
    secrets_from: Callable[[str], Sequence[str]] | None = None

    def verify(self, raw: bytes, headers: Mapping[str, str], settings: Settings) -> str:
        """Check the signature; return the provider's event id."""
        import os

        if self.secrets_from is not None:
            secrets = [s for s in self.secrets_from(self.secret_env) if s.strip()]
        else:
            secrets = split_secrets(os.environ.get(self.secret_env, ""))
        if not secrets:
            raise ConfigError(f"{self.secret_env} is not set; the {self.provider} webhook cannot be verified")
        try:
            if self.scheme == "stripe":
                verify_stripe_signature(raw, headers.get("stripe-signature"), secrets)
                return _stripe_event_id(raw)
            return verify_standard_webhook(raw, headers, secrets)
        except WebhookVerificationError as exc:
            if exc.reason == "bad_secret":
                # Our configuration is wrong, not the provider's signature: a 500, logged as such.
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
