"""Route guards: whom a route is open to, decided from the caller's roles and the path alone.

    @fn.post(TAGS, body=CreateTag, allow=community(policy.require_community_writer))

A guard runs right after the principal is loaded (in the request's opening round trip) and before any
field error of the body or query is told: a caller the route is closed to gets its 403 (or the 404 a
policy answers for a community they cannot see), never a 422 that describes the route's input.
Guards wrap the contexts' own policy functions, which raise; the routes' services still call them too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from uuid import UUID

from shared.platform.auth import Principal


class Guard(NamedTuple):
    """A check of the caller and the path parameters it names; raises when the route is closed to them."""

    check: Callable[[Principal, Mapping[str, Any]], object]
    params: tuple[str, ...] = ()
    """Path parameters the check reads: a route declaring this guard must have them."""

    def __call__(self, principal: Principal, params: Mapping[str, Any]) -> None:
        self.check(principal, params)


def caller(check: Callable[[Principal], object]) -> Guard:
    """A guard from a policy of the caller alone (e.g. staff-only routes)."""
    return Guard(lambda principal, _params: check(principal))


def community(check: Callable[[Principal, UUID], object]) -> Guard:
    """A guard from a policy of the caller and the route's `community_id` path parameter."""
    return Guard(lambda principal, params: check(principal, params["community_id"]), ("community_id",))
