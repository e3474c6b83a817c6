"""The imports' contract: a CSV of people to invite, and the import jobs' progress.

Signup links and invitations have their own modules (`link_schemas`, `invitation_schemas`), so that each
function's routes build only the models they declare (cold start).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.platform.validation import Body, PlainText, Query, View

MAX_IMPORT_BYTES = 5 * 1024 * 1024


class CreateImport(Body):
    """A CSV file inside JSON, for clients that cannot send `text/csv`."""

    csv: str = Field(min_length=1, max_length=MAX_IMPORT_BYTES)
    filename: PlainText | None = Field(None, max_length=255)


class UploadQuery(Query):
    """The community an upload is for (its body is the file) and, with `text/csv`, the file's name."""

    community_id: UUID = Field(description="The community the people are invited into")
    filename: PlainText | None = Field(None, max_length=255)


class ImportJobView(View):
    """An import job and its progress: processed = succeeded + failed, out of total.

    A row is processed once its invitation was delivered (or it failed); `completed` when all are.
    """

    id: UUID
    community_id: UUID
    filename: str
    status: Literal["queued", "running", "completed", "failed"]
    total: int
    processed: int
    succeeded: int
    failed: int
    failure_reason: str | None = Field(description="Why the worker gave up on a `failed` job.")
    created_by: UUID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportJobPage(View):
    """Import jobs and the cursor of the next page (null on the last)."""

    items: list[ImportJobView]
    next_cursor: str | None
