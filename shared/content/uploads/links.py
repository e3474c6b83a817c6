"""A stored file's download link: answered by `uploads` and by `content` (an image or PDF item's file)."""

from __future__ import annotations

from datetime import datetime

from shared.platform.validation import View


class DownloadLink(View):
    """A short-lived URL that serves the stored file."""

    url: str
    expires_at: datetime
