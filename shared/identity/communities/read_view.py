"""`GET /communities/{id}`'s answer: a union of two views, kept apart from the other schemas.

A `RootModel` costs ~10 ms of a cold start to create (the first in a process builds pydantic's root-model
machinery); only the `communities` function needs this one, so only it pays.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, RootModel

from shared.identity.communities.schemas import CommunityBasicView, CommunityView


class CommunityReadView(
    RootModel[Annotated[CommunityView | CommunityBasicView, Field(discriminator="access")]]
):
    """A community as the caller may see it: `full` for staff and its admins, `basic` for its learners."""
