"""Errors of the analytics context, each with its stable problem code."""

from __future__ import annotations

from shared.platform.errors import NotFoundError


class DigestNotFoundError(NotFoundError):
    code, title = "digest_not_found", "No such digest"
