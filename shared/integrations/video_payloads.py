"""The video provider's "transcript ready" callback as we read it (imported by `video` where it reads one)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_TRANSCRIPT_CHARS = 1_000_000


class TranscriptData(BaseModel):
    """The transcript of one video on one platform."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    video_id: str = Field(min_length=1, max_length=255)
    platform: Literal["youtube", "vimeo", "other"]
    transcript: str = Field(max_length=MAX_TRANSCRIPT_CHARS)
    language: str = Field(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$", max_length=35)


class TranscriptReady(BaseModel):
    """The provider's webhook body (fields it adds later are ignored, not refused)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["transcript.ready"]
    data: TranscriptData
