"""The community scope of lists, shared by every function (the `me` function's models: `me_schemas`)."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from shared.platform.pagination import PageQuery

NO_SUCH_COMMUNITY = {404: "No such community, or one the caller cannot see"}
"""The extra answer of a route that names its community in the query or body rather than the path."""


class CommunityPageQuery(PageQuery):
    """A page of one community's items: a collection names its community in the query."""

    community_id: UUID = Field(description="The community whose items are listed")
