"""Rate limits kept in Postgres, so they hold across instances: one atomic upsert per request.

A fixed window per (key, limit class). The hit (`app.rate_hit`, a plpgsql function whose plan each
backend caches) is committed on its own ahead of the request's transaction, in the same round trip, so a
request that fails (and rolls back) still counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from shared.platform.db import Statement
from shared.platform.errors import RateLimitedError

HIT_SQL = "select hits, reset_s from app.rate_hit(%s, %s, %s)"


class RateDecision(NamedTuple):
    """The outcome of one hit: whether it is allowed and the numbers for the RateLimit-* headers."""

    limit: int
    remaining: int
    reset_s: int
    window_s: int
    limit_class: str

    @property
    def is_allowed(self) -> bool:
        """Whether the request is within its limit."""
        return self.remaining >= 0

    def headers(self) -> dict[str, str]:
        """The RateLimit-* headers (IETF httpapi draft), and Retry-After when refused."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(0, self.remaining)),
            "RateLimit-Reset": str(self.reset_s),
            "RateLimit-Policy": f'{self.limit};w={self.window_s};name="{self.limit_class}"',
        }
        if not self.is_allowed:
            headers["Retry-After"] = str(self.reset_s)
        return headers


def hit_statement(key: str, limit_class: str, window_s: int) -> Statement:
    """The statement that counts one hit for `key` in `limit_class`."""
    return HIT_SQL, (key, limit_class, window_s)


def decide(row: Mapping[str, Any], limit: int, window_s: int, limit_class: str) -> RateDecision:
    """Turn the counted hits into a decision."""
    return RateDecision(limit, limit - int(row["hits"]), int(row["reset_s"]), window_s, limit_class)


def refuse(decision: RateDecision) -> RateLimitedError:
    """The 429 problem for a refused decision."""
    return RateLimitedError(
        f"Too many requests; try again in {decision.reset_s} s.", headers=decision.headers()
    )
