"""Rate limits kept in Postgres, so they hold across instances: one atomic upsert per request.

A fixed window per (key, limit class). The hit is counted in its own autocommit statement, pipelined
ahead of the request's transaction, so a request that fails (and rolls back) still counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.platform.db import Statement
from shared.platform.errors import RateLimitedError

HIT_SQL = """
insert into app.rate_limits as r (key, limit_class, window_start, hits)
values (%(key)s, %(cls)s, to_timestamp(floor(extract(epoch from now()) / %(window)s) * %(window)s), 1)
on conflict (key, limit_class, window_start) do update set hits = r.hits + 1
returning r.hits,
          greatest(1, ceil(extract(epoch from r.window_start - now()) + %(window)s))::int as reset_s
"""


@dataclass(frozen=True, slots=True)
class RateDecision:
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
    return HIT_SQL, {"key": key, "cls": limit_class, "window": window_s}


def decide(row: Mapping[str, Any], limit: int, window_s: int, limit_class: str) -> RateDecision:
    """Turn the counted hits into a decision."""
    return RateDecision(limit, limit - int(row["hits"]), int(row["reset_s"]), window_s, limit_class)


def refuse(decision: RateDecision) -> RateLimitedError:
    """The 429 problem for a refused decision."""
    return RateLimitedError(
        f"Too many requests; try again in {decision.reset_s} s.", headers=decision.headers()
    )
