"""Errors of folders, each with its stable problem code (cycles and non-empty folders come from the database)."""

from __future__ import annotations

from shared.platform.errors import NotFoundError


class FolderNotFoundError(NotFoundError):
    title = "No such folder"
