"""What a provider call can fail with, and whether the same provider may be tried again or the next one.

Messages are built from our own words, the HTTP status and the provider's error *code* (reduced to
`[a-z0-9_]`): never from the provider's free text, which may echo the key it was sent (OpenAI's
"Incorrect API key provided: sk-…"), and never from an httpx exception, which carries the request.
"""

from __future__ import annotations

import re

_CODE = re.compile(r"[a-z]{1,16}(?:_[a-z]{1,16}){0,4}")
"""An error code as providers spell them (`invalid_api_key`, `overloaded_error`, `RESOURCE_EXHAUSTED`):
short words of letters. A key (long runs with digits and dashes) never matches, so it is never shown."""


def error_code(value: object) -> str | None:
    """A provider's error code or type, lower-cased, if it looks like one; None otherwise."""
    if not isinstance(value, str) or len(value) > 60:
        return None
    code = value.lower()
    return code if _CODE.fullmatch(code) else None


class ProviderError(Exception):
    """Base of every provider failure; `retryable` and `fallback_allowed` steer the fallback loop."""

    kind = "provider_error"
    retryable = False
    """The same provider and key may be asked again (only before the first token)."""
    fallback_allowed = True
    """The next provider or key in the configured order may be asked (only before the first token)."""

    def __init__(self, provider: str, detail: str, *, status: int | None = None, code: str | None = None):
        self.provider = provider
        self.status = status
        self.code = error_code(code)
        parts = [f"{provider} {detail}"]
        if status is not None:
            parts.append(f"status {status}")
        if self.code:
            parts.append(f"code {self.code}")
        super().__init__(", ".join(parts))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class ProviderRateLimitedError(ProviderError):
    """429: too many requests now; `retry_after_s` when the provider said how long to wait."""

    kind = "rate_limited"
    retryable = True

    def __init__(
        self,
        provider: str,
        detail: str = "is rate limiting us",
        *,
        status: int | None = 429,
        code: str | None = None,
        retry_after_s: float | None = None,
        retryable: bool = True,
    ):
        super().__init__(provider, detail, status=status, code=code)
        self.retry_after_s = retry_after_s
        self.retryable = retryable


class ProviderUnavailableError(ProviderError):
    """5xx, overloaded, could not connect, or an answer we could not read, before the first token."""

    kind = "unavailable"
    retryable = True

    def __init__(
        self,
        provider: str,
        detail: str = "is unavailable",
        *,
        status: int | None = None,
        code: str | None = None,
        retryable: bool = True,
    ):
        super().__init__(provider, detail, status=status, code=code)
        self.retryable = retryable


class ProviderRequestError(ProviderError):
    """4xx other than auth and rate limits: our request is wrong; another provider would not fix it."""

    kind = "bad_request"
    fallback_allowed = False


class ProviderAuthError(ProviderError):
    """401/403 (or Gemini's API_KEY_INVALID): the key is refused; the next key or provider may work."""

    kind = "auth"


class ProviderTimeoutError(ProviderError):
    """Nothing arrived within the read timeout, or the turn's deadline passed, before the first token."""

    kind = "timeout"


class StreamInterruptedError(ProviderError):
    """The answer had begun and then failed: never retried, never continued by another provider."""

    kind = "interrupted"
    fallback_allowed = False

    def __init__(self, provider: str, partial_text: str, cause: ProviderError, *, model: str, latency_ms: int):
        super().__init__(provider, f"stopped mid-answer ({cause.kind})", status=cause.status, code=cause.code)
        self.partial_text = partial_text
        self.cause_kind = cause.kind
        self.model = model
        self.latency_ms = latency_ms


class NoProviderError(Exception):
    """Every candidate failed (or none could be tried); `errors` are theirs, in order."""

    def __init__(self, errors: list[ProviderError]):
        self.errors = errors
        last = errors[-1] if errors else None
        super().__init__("no provider answered" + (f" (last: {last})" if last else ""))
