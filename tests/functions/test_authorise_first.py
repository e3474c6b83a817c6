"""Authorise before validating: a caller a route is closed to gets its 403 (or 404), never a 422.

Every guarded route of every function is called with an invalid body or query by callers its guard
refuses (a learner of Acme, a signed-in user of another community), by callers it admits (a super admin,
Acme's admin), and without a token. The expected refusal is what the route's own guard answers for
that caller, so the test follows the policies rather than restating them.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import httpx
import pytest
from starlette.convertors import IntegerConvertor

from scripts.local.functions import discover, load
from shared.platform.auth import Membership, Principal
from shared.platform.errors import AppError
from shared.platform.http import Function
from shared.platform.routing import Route
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, GLOBEX, GLOBEX_GINA, SUPER, auth
from tests.helpers import Sql, assert_problem, count

OPEN_TO_EVERY_SIGNED_IN_USER = {
    ("me", "GET", "/"),
    ("me", "PATCH", "/"),
    ("community-signup", "POST", "/redeem"),
    ("invitations", "GET", "/mine"),
    ("invitations", "POST", "/{invitation_id:uuid}/accept"),
    ("invitations", "POST", "/{invitation_id:uuid}/decline"),
    ("catalogue", "GET", "/"),
    ("catalogue", "GET", "/{item_id:uuid}"),
    ("content", "GET", "/{item_id:uuid}/file"),
    ("achievements", "GET", "/"),
    ("achievements", "GET", "/mine"),
    ("achievements", "GET", "/leaderboard"),
    ("streaks", "GET", "/"),
    ("enrollments", "POST", "/"),
    ("enrollments", "GET", "/mine"),
    ("enrollments", "GET", "/{enrollment_id:uuid}"),
    ("enrollments", "POST", "/{enrollment_id:uuid}/drop"),
    ("progress", "GET", "/"),
    ("progress", "POST", "/completions"),
    ("progress", "GET", "/items/{item_id:uuid}"),
    ("progress", "GET", "/programs/{program_id:uuid}"),
    ("progress", "GET", "/programs/{program_id:uuid}/milestones"),
    ("progress", "POST", "/quizzes/{item_id:uuid}/{block_id:uuid}/attempts"),
    ("progress", "GET", "/quizzes/{item_id:uuid}/{block_id:uuid}/attempts"),
    ("progress", "POST", "/attempts/{attempt_id:uuid}/submit"),
    ("progress", "GET", "/prerequisites/{item_id:uuid}"),
    ("conversations", "GET", "/"),
    ("conversations", "GET", "/{conversation_id:uuid}"),
    ("conversations", "PATCH", "/{conversation_id:uuid}"),
    ("conversations", "DELETE", "/{conversation_id:uuid}"),
    ("ai-chat", "POST", "/"),
    # The forum decides on the data: a member of the community while its forum is on (404 otherwise).
    ("forum", "GET", "/posts"),
    ("forum", "POST", "/posts"),
    ("forum", "GET", "/posts/{post_id:uuid}"),
    ("forum", "PATCH", "/posts/{post_id:uuid}"),
    ("forum", "DELETE", "/posts/{post_id:uuid}"),
    ("forum", "GET", "/posts/{post_id:uuid}/edits"),
    ("forum", "POST", "/posts/{post_id:uuid}/replies"),
    ("forum", "PATCH", "/replies/{reply_id:uuid}"),
    ("forum", "GET", "/replies/{reply_id:uuid}/edits"),
    ("forum", "DELETE", "/replies/{reply_id:uuid}"),
    ("forum", "POST", "/posts/{post_id:uuid}/reactions"),
    ("forum", "DELETE", "/posts/{post_id:uuid}/reactions"),
    ("forum", "POST", "/replies/{reply_id:uuid}/reactions"),
    ("forum", "DELETE", "/replies/{reply_id:uuid}/reactions"),
    ("forum", "POST", "/posts/{post_id:uuid}/reports"),
    ("forum", "POST", "/replies/{reply_id:uuid}/reports"),
    ("notifications", "GET", "/"),
    ("notifications", "POST", "/{notification_id:uuid}/read"),
    ("notifications", "POST", "/read-all"),
}
"""User routes without a guard: nobody signed in is refused by role (the route decides on the data)."""

CALLERS = {
    "acme learner": Principal(
        UUID(ACME_LENA), {}, memberships=(Membership(UUID(ACME), "Acme", "acme", "member"),)
    ),
    "globex learner": Principal(
        UUID(GLOBEX_GINA), {}, memberships=(Membership(UUID(GLOBEX), "Globex", "globex", "member"),)
    ),
    "acme admin": Principal(
        UUID(ACME_ADMIN), {}, memberships=(Membership(UUID(ACME), "Acme", "acme", "admin"),)
    ),
    "super admin": Principal(UUID(SUPER), {}, staff_role="super_admin"),
}
TOKENS = {
    "acme learner": ACME_LENA,
    "globex learner": GLOBEX_GINA,
    "acme admin": ACME_ADMIN,
    "super admin": SUPER,
}


FUNCTIONS: list[Function] = [load(name).fn for name in discover()]
GUARDED = [(fn, route) for fn in FUNCTIONS for route in fn.routes if route.allow is not None]


def _params(route: Route) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, convertor in route.convertors.items():
        if name == "community_id":
            values[name] = UUID(ACME)
        else:
            values[name] = 1 if isinstance(convertor, IntegerConvertor) else uuid.uuid4()
    return values


def _path(fn: Function, route: Route, params: dict[str, Any]) -> str:
    path = route.path_format.format(**params)
    return f"/{fn.name}" + ("" if path == "/" else path)


async def _call_with_bad_input(
    client: httpx.AsyncClient, fn: Function, route: Route, headers: dict[str, str]
) -> httpx.Response:
    """The route called with an unknown body field (routes with a body) or an unknown query parameter."""
    path = _path(fn, route, _params(route))
    if route.body is not None:
        return await client.request(route.method, path, json={"not_a_field": 1}, headers=headers)
    return await client.request(route.method, path, params={"not_a_parameter": "1"}, headers=headers)


def _refusal(route: Route, caller: str) -> AppError | None:
    assert route.allow is not None
    try:
        route.allow(CALLERS[caller], _params(route))
    except AppError as exc:
        return exc
    return None


def _route_id(item: tuple[Function, Route]) -> str:
    fn, route = item
    return f"{route.method} {fn.name}{route.template}"


def test_every_user_route_is_guarded_or_open_to_every_signed_in_user() -> None:
    unguarded = {
        (fn.name, route.method, route.template)
        for fn in FUNCTIONS
        for route in fn.routes
        if route.auth == "user" and route.allow is None
    }
    assert unguarded == OPEN_TO_EVERY_SIGNED_IN_USER


@pytest.mark.parametrize("item", GUARDED, ids=[_route_id(item) for item in GUARDED])
async def test_caller_the_route_is_closed_to_is_refused_before_input_errors(
    client: httpx.AsyncClient, db: str, item: tuple[Function, Route]
) -> None:
    fn, route = item
    refused = [caller for caller in CALLERS if _refusal(route, caller) is not None]
    assert "super admin" not in refused
    for caller in CALLERS:
        response = await _call_with_bad_input(client, fn, route, auth(TOKENS[caller]))
        expected = _refusal(route, caller)
        if expected is None:
            assert_problem(response, 422, "validation_failed")
        else:
            assert_problem(response, expected.status, expected.code)
    # Unauthenticated callers hear 401 before anything else.
    anonymous = await _call_with_bad_input(client, fn, route, {})
    assert_problem(anonymous, 401, "unauthenticated")


def test_learners_and_outsiders_are_refused_by_the_staff_and_admin_routes() -> None:
    # The guards themselves: no learner gets through any of them except reading their own community.
    admitted = {_route_id(item) for item in GUARDED if _refusal(item[1], "acme learner") is None}
    assert admitted == {"GET communities/{community_id:uuid}"}
    assert all(_refusal(route, "globex learner") is not None for _, route in GUARDED)


async def test_refused_invalid_request_claims_no_idempotency_key(client: httpx.AsyncClient, sql: Sql) -> None:
    headers = {**auth(ACME_LENA), "Idempotency-Key": "learner-probe-1"}
    response = await client.post("/tags", json={"community_id": ACME, "name": ""}, headers=headers)
    assert_problem(response, 403, "forbidden")
    assert count(sql, "select count(*) as n from app.idempotency_keys") == 0
    assert count(sql, "select count(*) as n from user_tags where name = ''") == 0


async def test_admin_with_an_empty_tag_name_still_hears_which_field_is_wrong(
    client: httpx.AsyncClient, db: str
) -> None:
    response = await client.post("/tags", json={"community_id": ACME, "name": ""}, headers=auth(ACME_ADMIN))
    body = assert_problem(response, 422, "validation_failed")
    assert [e["loc"] for e in body["errors"]] == ["body.name"]
