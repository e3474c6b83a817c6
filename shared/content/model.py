"""Content rules that need no I/O: types, limits, the lifecycle, derived document figures, version diffs."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal, get_args

ContentType = Literal["ai_agent", "video", "document", "prompt", "automation", "image", "pdf"]
"""The content repository's own types."""
AuthoringType = Literal["wod", "block", "program"]
"""The training zone's items: their structure (pages, sections) is their payload."""
ItemType = Literal[ContentType, AuthoringType]
"""Every item of public.content_items."""
CONTENT_TYPES: frozenset[str] = frozenset(get_args(ContentType))
Status = Literal["draft", "published", "archived"]
Action = Literal["publish", "unpublish", "archive", "unarchive"]
VersionKind = Literal["save", "publish", "restore"]

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PDF_BYTES = 50 * 1024 * 1024
WORDS_PER_MINUTE = 200
"""Adult silent reading of non-fiction, rounded down (Brysbaert 2019: 238): minutes err on the long side."""
DERIVED = ("word_count", "reading_minutes")
"""What the server adds to a stored payload (and takes off before checking one again)."""
FILE_FIELDS = ("upload_id", "object_key")
"""What the server records of an attached upload (PUT /content/{id}/file); never taken from a body."""

TRANSITIONS: Mapping[Action, tuple[frozenset[Status], Status]] = {
    "publish": (frozenset({"draft"}), "published"),
    "unpublish": (frozenset({"published"}), "draft"),
    "archive": (frozenset({"draft", "published"}), "archived"),
    "unarchive": (frozenset({"archived"}), "draft"),
}
"""Each lifecycle action: the states it starts from, and the state it leaves the item in."""

RESTORED_FIELDS = ("title", "description", "thumbnail_url", "tags", "payload")
"""What restoring a version brings back: its content. Status is the lifecycle's and the folder is where
the item is filed now; neither is content."""


def next_status(current: Status, action: Action) -> Status | None:
    """The state `action` leaves an item in, or None when it cannot start from `current`."""
    sources, target = TRANSITIONS[action]
    return target if current in sources else None


# --- documents ----------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+(?:['’-]\w+)*")


def _json_texts(node: Any) -> Iterator[str]:
    # Editors' JSON documents (ProseMirror/TipTap, Lexical, Slate) keep their text in "text" members.
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _json_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _json_texts(item)


def word_count(html_body: str, json_body: Mapping[str, Any] | None) -> int:
    """Words of the document: of its HTML body, or of its JSON body's text when the HTML has none."""
    from shared.content.html_text import text_of_html  # cold start: only a document's words need a parser

    words = len(_WORD.findall(text_of_html(html_body)))
    if words == 0 and json_body is not None:
        words = sum(len(_WORD.findall(text)) for text in _json_texts(json_body))
    return words


def reading_minutes(words: int) -> int:
    """Whole minutes to read `words` (0 for an empty document, at least 1 otherwise)."""
    return math.ceil(words / WORDS_PER_MINUTE)


# --- versions -----------------------------------------------------------------------------------------


def changes(before: Mapping[str, Any], after: Mapping[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """Every field that differs between two snapshots, by dotted path, objects compared member by member.

    Lists are compared as whole values (a reordered tag list is one change), as are values whose type
    changed between the snapshots.
    """
    found: list[dict[str, Any]] = []
    for name in [*before, *(n for n in after if n not in before)]:
        path = f"{prefix}{name}"
        old, new = before.get(name), after.get(name)
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            found += changes(old, new, f"{path}.")
        elif old != new or (name in before) != (name in after):
            found.append({"field": path, "before": old, "after": new})
    return found
