"""Idempotency keys for creating POSTs.

The key is claimed in its own autocommit statement ahead of the request's transaction (sharing its
round trip); the response is stored by the request's own transaction, in its COMMIT round trip, so
"created" and "response stored" commit together. Storing it is platform bookkeeping: no API role may
call `app.finish_idempotent_request` (a user could overwrite another owner's stored response), so it
runs as the platform role (`Tx.as_platform_at_commit`). A replay gets the stored response; the same key with another body is a 422;
the same key while the first request still runs is a 409. A claim whose request died is taken over
once its lock lapses; keys expire after 24 h and the maintenance job purges them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from shared.platform.db import Statement
from shared.platform.errors import AppError, BadRequestError, ConflictError

TTL_S = 24 * 3600
LOCK_S = 60
_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,255}$")
REPLAYED_HEADERS = ("location", "etag", "content-type")

CLAIM_SQL = """
with claimed as (
  insert into app.idempotency_keys as k (owner, key, request_hash, state, locked_until, expires_at)
  values (%(owner)s, %(key)s, %(hash)s, 'running', now() + make_interval(secs => %(lock)s),
          now() + make_interval(secs => %(ttl)s))
  on conflict (owner, key) do update
    set request_hash = excluded.request_hash, state = 'running', locked_until = excluded.locked_until,
        expires_at = excluded.expires_at, response_status = null, response_body = null, response_headers = null,
        created_at = now()
    where k.expires_at < now() or (k.state = 'running' and k.locked_until < now())
  returning 1
)
select (select count(*) from claimed) = 1 as claimed, k.request_hash, k.state, k.response_status,
       k.response_body, k.response_headers
from (select 1) one
left join app.idempotency_keys k on k.owner = %(owner)s and k.key = %(key)s
"""
FINISH_SQL = "select app.finish_idempotent_request(%s, %s, %s, %s, %s::jsonb)"
RELEASE_SQL = "delete from app.idempotency_keys where owner = %s and key = %s and state = 'running'"


class IdempotencyKeyReusedError(AppError):
    status, code, title = 422, "idempotency_key_reused", "Idempotency key reused with a different request"


class IdempotentRequestInProgressError(ConflictError):
    code, title = "idempotent_request_in_progress", "A request with this idempotency key is still running"


class Claim(NamedTuple):
    """A key presented with a request: who owns it and the request's fingerprint."""

    owner: str
    key: str
    request_hash: str


class Replay(NamedTuple):
    """A stored response to send again."""

    status: int
    body: bytes
    headers: dict[str, str]


def claim_for(headers: Mapping[str, str], owner: str, method: str, path: str, body: bytes) -> Claim | None:
    """The claim for a request carrying `Idempotency-Key`, or None when it carries none."""
    key = headers.get("idempotency-key")
    if key is None:
        return None
    if not _KEY.match(key):
        raise BadRequestError("Idempotency-Key must be 1 to 255 letters, digits or the characters . _ : -")
    digest = hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()
    return Claim(owner, key, digest)


def claim_statement(claim: Claim) -> Statement:
    """The statement that claims the key (or reads who holds it)."""
    return CLAIM_SQL, {
        "owner": claim.owner,
        "key": claim.key,
        "hash": claim.request_hash,
        "lock": LOCK_S,
        "ttl": TTL_S,
    }


def outcome(claim: Claim, row: Mapping[str, Any]) -> Replay | None:
    """None when this request now owns the key; a Replay when it was done; an error otherwise."""
    if row["claimed"]:
        return None
    if row["state"] is None:
        # A concurrent request claimed the key after this statement's snapshot was taken.
        raise IdempotentRequestInProgressError(
            "The first request with this Idempotency-Key is still running."
        )
    if row["request_hash"] != claim.request_hash:
        raise IdempotencyKeyReusedError("This Idempotency-Key was used with a different request.")
    if row["state"] != "done":
        raise IdempotentRequestInProgressError(
            "The first request with this Idempotency-Key is still running."
        )
    return Replay(
        int(row["response_status"]), bytes(row["response_body"] or b""), dict(row["response_headers"] or {})
    )


def finish_params(claim: Claim, status: int, body: bytes, headers: Mapping[str, str]) -> tuple[Any, ...]:
    """Parameters of FINISH_SQL for the response being sent."""
    kept = {name: value for name, value in headers.items() if name.lower() in REPLAYED_HEADERS}
    return (claim.owner, claim.key, status, body, json.dumps(kept))
