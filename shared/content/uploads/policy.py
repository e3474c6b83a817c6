"""Who may upload: staff who may write for the platform, a community's admins for their community.

Reading an upload (its record, a download URL) is open to every staff role and to the community's
admins; specialists and learners never ask for upload URLs or confirm them. A community the caller
cannot see is a 404, one they see but may not write to a 403 (shared/identity/policy.py).
"""

from __future__ import annotations

from uuid import UUID

from shared.content.uploads.errors import UploadNotFoundError
from shared.identity import policy
from shared.platform.auth import STAFF_WRITERS, Principal, require_staff


def require_uploader(principal: Principal, community_id: UUID | None) -> None:
    """Platform uploads: super admins and managers; a community's: also its admins."""
    if community_id is None:
        require_staff(principal, STAFF_WRITERS)
    else:
        policy.require_community_writer(principal, community_id)


def require_upload_reader(principal: Principal, community_id: UUID | None) -> None:
    """An upload is seen by staff and its community's admins; to anyone else it does not exist."""
    if community_id is None:
        if not principal.is_staff:
            raise UploadNotFoundError()
    else:
        policy.require_item_reader(principal, community_id, UploadNotFoundError)


def require_upload_writer(principal: Principal, community_id: UUID | None) -> None:
    """Confirming: an uploader of the upload's owner; missing to non-readers, 403 to other readers."""
    require_upload_reader(principal, community_id)
    require_uploader(principal, community_id)
