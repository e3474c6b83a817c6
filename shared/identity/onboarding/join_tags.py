"""Tags applied on join (signup links and invitations): their field type and the check that they are the community's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated
from uuid import UUID

from pydantic import Field

from shared.identity.people import repository as people_repository
from shared.platform.db import Tx
from shared.platform.errors import FieldError, ValidationFailedError

TagIds = Annotated[list[UUID], Field(max_length=50, description="Tags of this community to apply on join.")]


async def require_own_tags(tx: Tx, community_id: UUID, tag_ids: Sequence[UUID]) -> list[UUID]:
    """The distinct tag ids, each a tag of this community; 422 naming the others."""
    wanted = list(dict.fromkeys(tag_ids))
    known = await people_repository.community_tag_ids(tx, community_id, wanted)
    unknown = [i for i, tag_id in enumerate(tag_ids) if tag_id not in known]
    if unknown:
        raise ValidationFailedError(
            [FieldError(f"body.tag_ids.{i}", "Not a tag of this community.", "unknown_tag") for i in unknown]
        )
    return wanted
