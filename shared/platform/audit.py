"""The append-only audit log: every administrative action, written in the transaction that does it.

The actor is never passed in: `app.write_audit` takes it from the verified claims of the transaction
(`auth.uid()`), or records a service actor. Request id, address and user agent come from the request.
No API role may call `app.write_audit` (a user could write into any community's log): the platform
writes the entry as the platform role in the COMMIT round trip of the action's own transaction
(`Tx.as_platform_at_commit`), with the caller's claims still set, so the actor is still the caller.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from shared.platform.db import Tx

if TYPE_CHECKING:
    from shared.platform.context import Context

_WRITE_SQL = "select app.write_audit(%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s)"


class RequestMeta(NamedTuple):
    """Where an action came from."""

    request_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None


def meta_of(ctx: Context) -> RequestMeta:
    """The request metadata the audit log keeps."""
    from shared.platform.context import client_ip

    return RequestMeta(
        request_id=ctx.request_id,
        ip=client_ip(ctx.request, ctx.settings.trusted_proxy_hops),
        user_agent=ctx.request.headers.get("user-agent"),
    )


def _json(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, default=str, separators=(",", ":"))


async def record_row(
    tx: Tx,
    meta: RequestMeta,
    action: str,
    row: Mapping[str, Any],
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    *,
    target_type: str,
) -> None:
    """`record` for a row that names itself (`id`) and its community (`community_id`, None: the platform's)."""
    await record(
        tx,
        meta,
        action,
        target_type=target_type,
        target_id=row["id"],
        community_id=row["community_id"],
        before=before,
        after=after,
    )


async def record(
    tx: Tx,
    meta: RequestMeta,
    action: str,
    *,
    target_type: str,
    target_id: UUID | str | None,
    community_id: UUID | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Append one audit entry inside `tx` (written with its COMMIT, so it commits or rolls back with the action)."""
    tx.as_platform_at_commit(
        _WRITE_SQL,
        (
            action,
            target_type,
            None if target_id is None else str(target_id),
            community_id,
            _json(before),
            _json(after),
            meta.request_id,
            meta.ip,
            meta.user_agent,
        ),
    )
