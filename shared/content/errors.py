"""Errors of the content context, each with its stable problem code.

An item the caller may not see answers exactly as a missing one: row level security hides it, and the
not-found problem carries one fixed detail either way.
"""

from __future__ import annotations

from shared.platform.errors import AppError, ConflictError, NotFoundError


class ItemNotFoundError(NotFoundError):
    title = "No such content item"


class VersionNotFoundError(NotFoundError):
    title = "No such version of this item"


class StaleVersionError(ConflictError):
    code, title = "stale_version", "Stale version"

    def __init__(self, current: int) -> None:
        super().__init__(
            f"The item changed since you read it (it is at revision {current}); read it again and reapply"
            " your change."
        )


class PreconditionRequiredError(AppError):
    status, code, title = 428, "precondition_required", "Precondition required"

    def __init__(self) -> None:
        super().__init__(
            "Name the revision you are changing: send its ETag in If-Match, or `revision` in the body"
            " (`?revision=` on DELETE)."
        )


class InvalidTransitionError(ConflictError):
    code, title = "invalid_transition", "Invalid lifecycle transition"


class ItemArchivedError(ConflictError):
    code, title = "item_archived", "Item archived"

    def __init__(self) -> None:
        super().__init__("An archived item is read-only; unarchive it (back to draft) to change it.")


class ItemWasPublishedError(ConflictError):
    code, title = "item_was_published", "Item was published"

    def __init__(self) -> None:
        super().__init__(
            "An item that has been published is kept for its history, grants and learners' records;"
            " archive it instead."
        )


class VersionNotRestorableError(ConflictError):
    code, title = "version_not_restorable", "Version cannot be restored"

    def __init__(self, number: int) -> None:
        super().__init__(
            f"Version {number} does not hold valid content for this item, so it cannot be restored."
        )


class NotAFileItemError(ConflictError):
    code, title = "not_a_file_item", "Not an image or PDF item"

    def __init__(self, content_type: str) -> None:
        super().__init__(f"Only image and PDF items hold a file; this item is a {content_type}.")


class NoFileError(ConflictError):
    code, title = "no_file", "No file attached"

    def __init__(self) -> None:
        super().__init__("This item has no uploaded file attached; its payload's `url` says where it is.")
