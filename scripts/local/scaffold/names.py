"""Every name a scaffolded function needs, derived from the function's own (`learning-paths`)."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

FUNCTION_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
CONTEXT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
RESERVED_CONTEXTS = frozenset({"platform", "contract"})
"""Folders of shared/ that are not bounded contexts."""


class InvalidNameError(ValueError):
    """A function, context or item name the scaffolder cannot use."""


def singular(word: str) -> str:
    """A plain English singular of a snake_case plural (`categories` → `category`); the word when unsure."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "uses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@dataclass(frozen=True, slots=True)
class Names:
    """The names of one scaffolded function and the things it serves."""

    function: str
    """The function's folder and URL segment: `learning-paths`."""
    context: str
    """The bounded context under shared/: `identity`."""
    item: str
    """One of the things, snake_case: `learning_path`."""

    @property
    def module(self) -> str:
        """The package under shared/<context>/ and the plural in code: `learning_paths`."""
        return self.function.replace("-", "_")

    @property
    def table(self) -> str:
        """The table in `public`: `learning_paths`."""
        return self.module

    @property
    def cls(self) -> str:
        """The class-name stem: `LearningPath`."""
        return "".join(part.capitalize() for part in self.item.split("_"))

    @property
    def id_param(self) -> str:
        """The path parameter of an item: `learning_path_id`."""
        return f"{self.item}_id"

    @property
    def words(self) -> str:
        """One thing, in prose: `learning path`."""
        return self.item.replace("_", " ")

    @property
    def plural_words(self) -> str:
        """The things, in prose: `learning paths`."""
        return self.module.replace("_", " ")

    def substitutions(self) -> dict[str, str]:
        """What the templates' `$names` stand for."""
        return {
            "function": self.function,
            "context": self.context,
            "module": self.module,
            "table": self.table,
            "item": self.item,
            "cls": self.cls,
            "id_param": self.id_param,
            "words": self.words,
            "plural_words": self.plural_words,
        }


def names_for(function: str, context: str, item: str | None = None) -> Names:
    """Check the names and derive the rest; InvalidNameError says what is wrong."""
    if not FUNCTION_NAME.match(function):
        raise InvalidNameError(f"{function!r}: a function name is lowercase words joined by '-', e.g. learning-paths")
    if not CONTEXT_NAME.match(context) or context in RESERVED_CONTEXTS:
        raise InvalidNameError(f"{context!r} is not a context name (lowercase, not {', '.join(sorted(RESERVED_CONTEXTS))})")
    chosen = item or singular(function.replace("-", "_"))
    if not CONTEXT_NAME.match(chosen) or keyword.iskeyword(chosen):
        raise InvalidNameError(f"{chosen!r} is not a usable item name (lowercase snake_case)")
    return Names(function, context, chosen)
