"""Route declarations that cannot work are refused at import, not when a request comes."""

from __future__ import annotations

from uuid import UUID

import pytest

from shared.platform.db import Statement
from shared.platform.http import Context, Function
from shared.platform.routing import Prefetch


def _one_tag(tag_id: UUID) -> Statement:
    return "select 1 where %s::uuid is not null", (tag_id,)


@pytest.mark.parametrize(
    ("method", "options"),
    [("POST", {}), ("PATCH", {}), ("GET", {"auth": "public", "rate_limit": None})],
    ids=["a write", "another write", "no transaction"],
)
def test_a_read_query_is_only_for_reads_that_have_a_transaction(method: str, options: dict[str, object]) -> None:
    # read= commits before the route runs: a write would have nothing to write in.
    fn = Function("probe")

    async def endpoint(ctx: Context, tag_id: UUID) -> None:
        return None

    with pytest.raises(ValueError, match="read= is for GET routes"):
        fn.route(method, "/{tag_id:uuid}", read=_one_tag, **options)(endpoint)  # type: ignore[arg-type]


def test_a_read_query_on_a_signed_in_get_route_is_accepted() -> None:
    fn = Function("probe")

    @fn.get("/{tag_id:uuid}", read=_one_tag)
    async def endpoint(ctx: Context, tag_id: UUID) -> None:
        return None

    assert fn.routes[0].read is _one_tag


def _tag_reads(tag_id: UUID) -> Prefetch:
    return [_one_tag(tag_id)], []


@pytest.mark.parametrize(
    "options",
    [{"auth": "public", "rate_limit": None}, {"read": _one_tag}],
    ids=["no transaction", "beside read="],
)
def test_prefetched_reads_need_a_transaction_that_stays_open(options: dict[str, object]) -> None:
    # Without a transaction there is no opening to send them with; read= commits before the route runs.
    fn = Function("probe")

    async def endpoint(ctx: Context, tag_id: UUID) -> None:
        return None

    with pytest.raises(ValueError, match="prefetch= needs a transaction"):
        fn.route("GET", "/{tag_id:uuid}", prefetch=_tag_reads, **options)(endpoint)  # type: ignore[arg-type]


def test_prefetched_reads_on_a_write_route_are_accepted() -> None:
    fn = Function("probe")

    @fn.post("/{tag_id:uuid}", prefetch=_tag_reads)
    async def endpoint(ctx: Context, tag_id: UUID) -> None:
        return None

    assert fn.routes[0].prefetch is _tag_reads
