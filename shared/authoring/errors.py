"""Errors of the authoring context, each with its stable problem code.

Page operations name the fields of the page routes' bodies in their 422s (`body.position`).
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.platform.errors import ConflictError, FieldError, NotFoundError, ValidationFailedError


class PageNotFoundError(NotFoundError):
    code, title = "page_not_found", "No such page in this item"


class BlockNotFoundError(NotFoundError):
    code, title = "block_not_found", "No such block in this item"


class PositionOutOfRangeError(ValidationFailedError):
    def __init__(self, highest: int) -> None:
        super().__init__(
            [FieldError("body.position", f"must be between 0 and {highest}", "out_of_range")],
            f"The position must be between 0 and {highest}.",
        )


class ItemFullError(ValidationFailedError):
    def __init__(self, most: int) -> None:
        super().__init__(
            [FieldError("body", f"an item holds at most {most} pages", "too_many_pages")],
            f"This item already holds {most} pages.",
        )


class PageFullError(ValidationFailedError):
    def __init__(self, most: int) -> None:
        super().__init__(
            [FieldError("body.page_id", f"a page holds at most {most} blocks", "too_many_blocks")],
            f"That page already holds {most} blocks.",
        )


class IdTakenError(ValidationFailedError):
    def __init__(self, locations: Sequence[str]) -> None:
        super().__init__(
            [FieldError(loc, "this id is already used elsewhere in the item", "duplicate_id") for loc in locations],
            "An id in the request is already used elsewhere in this item; move a block rather than copy it.",
        )


class QuizKeysError(ConflictError):
    code, title = "quiz_keys_invalid", "Quiz answers do not fit"

    def __init__(self, block_id: object) -> None:
        super().__init__(
            f"The stored answers of quiz {block_id} are missing or do not fit its questions; save the quiz"
            " again with its answers."
        )
