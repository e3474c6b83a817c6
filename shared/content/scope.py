"""A repository function's share of content items: which types it serves and how it checks and shows them.

`content`, `wods`, `blocks` and `programs` are one mechanism over one table (public.content_items): the
same service and routes, each mounted for its own types. An item of another function's type is a 404
there, as an item the caller may not see.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import BaseModel, RootModel

if TYPE_CHECKING:
    from shared.platform.db import Tx

Check = Callable[["Tx", UUID | None, BaseModel, Mapping[str, Any] | None], Awaitable[None]]
"""A check of a payload against the database before it is written: (transaction, owner, the payload, the
stored payload it replaces or None)."""


def dumped(payload: BaseModel) -> dict[str, Any]:
    """A payload stored as it was checked, with nothing derived."""
    return payload.model_dump(mode="json")


@dataclass(frozen=True)
class Scope:
    """The item types one repository function serves, and its contract's models for them."""

    name: str
    """The function's name: its URLs are /functions/v1/<name>/{item_id}."""
    types: frozenset[str]
    folders: str | None
    """The folder repository its items are filed in (None: they are not filed)."""
    view: type[BaseModel]
    """An item with its payload, as the function answers it."""
    create: type[RootModel[Any]]
    """The body of a new item: a union of the scope's types."""
    changes: type[RootModel[Any]]
    """The body of a change; a restored version is checked with it as a change would be."""
    views: Mapping[Any, type[BaseModel]]
    """How each type's stored payload is shown."""
    stored: Callable[[BaseModel], dict[str, Any]] = dumped
    """A checked payload as it is stored (with what the server derives, if it derives anything)."""
    keys: Callable[[BaseModel], dict[str, Any] | None] | None = None
    """What a checked payload holds that is not stored in it: a quiz's answer keys, kept in
    content_item_keys for the item's editors (None: the scope's payloads hold none)."""
    joined: Callable[[Mapping[str, Any], Mapping[str, Any] | None], Mapping[str, Any]] | None = None
    """A stored payload with the answer keys the caller may read put back, as its editors see it."""
    check: Check | None = None
    """What a payload must pass against the database (what its pages embed), before it is written."""

    def shown(
        self, item_type: str, payload: Mapping[str, Any], keys: Mapping[str, Any] | None = None
    ) -> BaseModel:
        """A stored payload (with the answer keys the caller may read) as its type's view (stored payloads
        were checked on the way in)."""
        if self.joined is not None:
            payload = self.joined(payload, keys)
        return self.views[item_type].model_validate(payload, strict=False)
