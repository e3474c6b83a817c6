"""`POST /bulk` for a function's items: mounted by each function whose items it moves, copies, deletes
and favourites (content now; wods and blocks alike)."""

from __future__ import annotations

from shared.authoring import bulk
from shared.authoring.bulk_schemas import BulkRequest, BulkResult
from shared.content import policy
from shared.content.scope import Scope
from shared.platform.audit import meta_of
from shared.platform.guards import caller
from shared.platform.http import Context, Function

REFUSED = {
    409: "bulk_refused: nothing was done; `failures` lists each item that stopped the batch with its code"
    " (not_found, forbidden, item_archived, item_was_published, unknown_folder)"
}


def mount_bulk(fn: Function, scope: Scope, copy_payload: bulk.PayloadCopier | None = None) -> None:
    """Add `POST /bulk` to `fn`, acting on the items of `scope`; `copy_payload` makes a copy's payload
    (e.g. fresh page and block ids; None: the original's)."""
    acting_on = bulk.Bulk(scope, copy_payload)

    @fn.post(
        "/bulk",
        body=BulkRequest,
        idempotent=True,
        rate_limit="admin",
        allow=caller(policy.require_reader),
        responses=REFUSED,
    )
    async def bulk_action(ctx: Context, body: BulkRequest) -> BulkResult:
        """Move, copy, delete, favourite or unfavourite up to 200 items in one transaction, all or nothing
        (Idempotency-Key). Move files them in `folder_id` (null: out of any folder); copy makes drafts
        with new ids and " (copy)" titles; delete takes never-published items only. Writing needs what
        writing each item needs (staff who may write, the owning community's admins); favourites are
        the caller's own and need only that they see the item. Any item that fails stops the batch:
        409 `bulk_refused` with `failures: [{id, code}]`."""
        return await bulk.run(body, acting_on, tx=ctx.db, principal=ctx.user, meta=meta_of(ctx))
