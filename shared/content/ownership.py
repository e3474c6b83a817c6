"""Who may read and write what an owner holds in the content context (folders, uploads; items alike).

An owner is a community or, as None, the platform. Platform things: every staff role reads them, super
admins and managers write them. A community's: staff and its admins read them, staff who may write and
its admins write them; specialists never write, learners reach nothing of the authoring surface. A
community the caller cannot see is a 404, one they see but may not write to a 403
(shared/identity/policy.py); a thing found by its own id that the caller may not read is `missing`.
"""

from __future__ import annotations

from uuid import UUID

from shared.identity import policy
from shared.platform.auth import STAFF_WRITERS, Principal, require_staff
from shared.platform.errors import NotFoundError


def require_owner_reader(principal: Principal, owner: UUID | None) -> None:
    """Reading an owner's collection named in the query: staff, or the community's admins."""
    if owner is None:
        require_staff(principal)
    else:
        policy.require_community_reader(principal, owner)


def require_owner_writer(principal: Principal, owner: UUID | None) -> None:
    """Adding to an owner's collection: staff who may write; for a community, also its admins."""
    if owner is None:
        require_staff(principal, STAFF_WRITERS)
    else:
        policy.require_community_writer(principal, owner)


def require_thing_reader(principal: Principal, owner: UUID | None, missing: type[NotFoundError]) -> None:
    """A thing found by its own id is read by its owner's readers; to anyone else it is `missing`."""
    if owner is None:
        if not principal.is_staff:
            raise missing()
    else:
        policy.require_item_reader(principal, owner, missing)


def require_thing_writer(principal: Principal, owner: UUID | None, missing: type[NotFoundError]) -> None:
    """A thing found by its own id is changed by its owner's writers; `missing` to non-readers, 403 to readers."""
    require_thing_reader(principal, owner, missing)
    require_owner_writer(principal, owner)
