"""`Root`: the base of request bodies that are a union (of item types, of block types).

Apart from `validation` because pydantic's RootModel machinery costs ~22 M instructions of a cold start
(about 8 % of what pydantic itself costs) the first time a process creates one: a function whose routes
declare no union body never loads it. `validation.Root` still names it.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import ConfigDict, RootModel

RootT = TypeVar("RootT")


class Root(RootModel[RootT]):
    """Base of bodies that are a union (e.g. of item types): built on first use, not at import.

    Parametrising pydantic's RootModel builds the whole union's schema at once; a cold start that
    never validates such a body should not pay for it.
    """

    model_config = ConfigDict(defer_build=True)
