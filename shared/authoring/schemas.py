"""What the contracts of `wods` and `blocks` share: the scope of an item type made of pages.

Each function's models are its own module (wod_schemas.py, block_schemas.py; a program's are
program_schemas.py), so that one function's import builds none of another's (cold start).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shared.authoring import embeds, payloads
from shared.content.item_schemas import ItemSummary
from shared.content.scope import Scope


def paged(
    name: str, item_type: str, view: type[ItemSummary], create: Any, changes: Any, shown: type[BaseModel]
) -> Scope:
    """The scope of an item type made of pages: answers kept apart, embeds checked, filed by its name."""
    return Scope(
        name,
        frozenset({item_type}),
        folders=name,
        view=view,
        create=create,
        changes=changes,
        views={item_type: shown},
        stored=payloads.stored,
        keys=payloads.keys,
        joined=payloads.joined,
        check=embeds.check_payload,
    )
